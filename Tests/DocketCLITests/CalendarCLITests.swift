import Foundation
import Testing

/// The repository root.
private let root = URL(fileURLWithPath: repositoryRoot())

private func schema(_ path: String) throws -> SchemaSubsetValidator {
    SchemaSubsetValidator(root: try TestJSON.parse(Data(contentsOf: URL(fileURLWithPath: repositoryRoot()).appendingPathComponent(path))))
}

/// Expects a refused input: non-zero exit (not a crash) and one line on stderr containing `fragment`.
private func expectRefused(_ run: ProcessOutput, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.reason == .exit && run.status != 0, sourceLocation: sourceLocation)
    let lines = run.stderr.split(separator: "\n")
    #expect(lines.count == 1, "stderr: \(run.stderr)", sourceLocation: sourceLocation)
    #expect(run.stderr.contains(fragment), "stderr: \(run.stderr)", sourceLocation: sourceLocation)
    #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
}

@Suite("docket calendar and docket sla (CLI)")
struct CalendarCLITests {
    @Test("calendar show --format json: Sweden 2024 validates against calendar-show.schema.json and has the named days")
    func calendarShowJSON() throws {
        let run = try docket(["calendar", "show", "--calendar", "sweden", "--from", "2024-01-01", "--to", "2024-12-31", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try TestJSON.parse(run.out)
        #expect(try schema("schemas/cli/calendar-show.schema.json").errors(json) == [])
        let days = try #require(json.array)
        #expect(days.count == 366)
        func day(_ d: String) -> TestJSON? { days.first { $0["date"]?.string == d } }
        #expect(day("2024-06-21")?["kind"] == .string("holiday"))
        #expect(day("2024-06-21")?["name"] == .string("Midsummer Eve"))
        #expect(day("2024-12-24")?["name"] == .string("Christmas Eve"))
        #expect(day("2024-12-31")?["kind"] == .string("holiday"))
        #expect(day("2024-06-22")?["kind"] == .string("holiday"))
        #expect(day("2024-05-10")?["kind"] == .string("bridge"))
        #expect(day("2024-03-28")?["kind"] == .string("half-day"))
        #expect(day("2024-03-28")?["intervals"] == .array([.array([.string("09:00"), .string("12:00")])]))
        #expect(day("2024-03-04")?["intervals"]?.array?.count == 2)
        #expect(day("2024-03-02")?["kind"] == .string("weekend"))
        #expect(day("2024-03-02")?["intervals"] == .array([]))
    }

    @Test("calendar show text format is a readable table")
    func calendarShowText() throws {
        let run = try docket(["calendar", "show", "--calendar", "americas", "--from", "2021-07-02", "--to", "2021-07-06"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 + 5)
        #expect(lines[0].contains("America/Los_Angeles"))
        #expect(lines.contains { $0.hasPrefix("2021-07-05  Mon  holiday") && $0.hasSuffix("Independence Day (observed)") })
        #expect(lines.contains { $0.hasPrefix("2021-07-06  Tue  open      05:00-16:00") })
    }

    @Test("calendar show refuses bad input with one line on stderr")
    func calendarShowErrors() throws {
        expectRefused(try docket(["calendar", "show", "--calendar", "narnia", "--from", "2024-01-01", "--to", "2024-01-02"]),
                      "known calendars: americas, apac, europe, sweden, uk")
        expectRefused(try docket(["calendar", "show", "--calendar", "uk", "--from", "2024-02-01", "--to", "2024-01-01"]),
                      "is after --to")
        expectRefused(try docket(["calendar", "show", "--calendar", "uk", "--from", "2024-02-30", "--to", "2024-03-01"]),
                      "expected a date YYYY-MM-DD")
        expectRefused(try docket(["calendar", "show", "--calendar", "uk", "--from", "1900-01-01", "--to", "2024-03-01"]),
                      "shorter range")
    }

    @Test("R4.5 sla due prints due and businessSeconds, validating against sla-due.schema.json")
    func slaDue() throws {
        let run = try docket(["sla", "due", "--policy", "concur-standard", "--region", "europe", "--priority", "P2",
                              "--target", "response", "--from", "2024-03-01T16:00:00Z",
                              "--pause", "2024-03-01T16:30:00Z/2024-03-04T10:00:00Z"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try TestJSON.parse(run.out)
        #expect(try schema("schemas/cli/sla-due.schema.json").errors(json) == [])
        // Fri 17:00 CET + 30 min, paused until Mon 11:00 CET, 3.5 h left -> 14:30 CET.
        #expect(json["due"] == .string("2024-03-04T13:30:00Z"))
        #expect(json["businessSeconds"] == .number(14_400))
        #expect(json["kind"] == .string("business"))
        #expect(json["calendar"] == .string("europe"))
        #expect(json["pauses"]?.array?.count == 1)

        let wall = try TestJSON.parse(try docket(["sla", "due", "--policy", "concur-standard", "--region", "apac", "--priority", "P1",
                                                  "--target", "resolution", "--from", "2024-03-02T10:00:00+01:00"]).out)
        #expect(wall["due"] == .string("2024-03-02T13:00:00Z"))
        #expect(wall["kind"] == .string("wall-clock"))

        let days = try TestJSON.parse(try docket(["sla", "due", "--policy", "timecare-se", "--priority", "P3",
                                                  "--target", "response", "--from", "2024-06-20T13:30:00Z"]).out)
        // Thu 15:30 CEST: 30 min, Midsummer Eve and weekend closed, Mon 24 Jun 09:00 + 1.5 h -> 10:30 CEST.
        #expect(days["due"] == .string("2024-06-24T08:30:00Z"))
        #expect(days["businessSeconds"] == .number(7200))
    }

    @Test("sla due refuses a missing target, a missing region and bad instants with clear one-line errors")
    func slaDueErrors() throws {
        expectRefused(try docket(["sla", "due", "--policy", "concur-standard", "--region", "europe", "--priority", "P1",
                                  "--target", "restoration", "--from", "2024-03-01T16:00:00Z"]),
                      "policy concur-standard has no restoration target for P1")
        expectRefused(try docket(["sla", "due", "--policy", "concur-standard", "--priority", "P1",
                                  "--target", "response", "--from", "2024-03-01T16:00:00Z"]),
                      "regions: americas, apac, europe")
        expectRefused(try docket(["sla", "due", "--policy", "concur-standard", "--region", "europe", "--priority", "P1",
                                  "--target", "response", "--from", "yesterday"]), "ISO 8601")
        expectRefused(try docket(["sla", "due", "--policy", "concur-standard", "--region", "europe", "--priority", "P1",
                                  "--target", "response", "--from", "2024-03-01T16:00:00Z",
                                  "--pause", "2024-03-02T00:00:00Z/2024-03-01T00:00:00Z"]), "before the end")
        expectRefused(try docket(["sla", "due", "--policy", "nope", "--priority", "P1", "--target", "response",
                                  "--from", "2024-03-01T16:00:00Z"]), "known policies: concep-sla")
        expectRefused(try docket(["sla", "due", "--policy", "concep-sla", "--priority", "P1", "--target", "response",
                                  "--from", "2024-03-01T16:00:00Z"]), "priorities: sev1, sev2, sev3")
    }

    @Test("--calendars-dir loads files from disk and names the file and JSON path of a malformed one")
    func directories() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docket-cal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["americas", "apac", "europe", "uk", "sweden"] {
            try FileManager.default.copyItem(at: root.appendingPathComponent("schemas/calendars/\(name).json"),
                                             to: dir.appendingPathComponent("\(name).json"))
        }
        let ok = try docket(["calendar", "show", "--calendar", "uk", "--from", "2024-12-25", "--to", "2024-12-25",
                             "--format", "json", "--calendars-dir", dir.path])
        #expect(ok.status == 0 && ok.stdout.contains("Christmas Day"))
        let bad = #"{"name":"mars","version":1,"timeZone":"Mars/Olympus","standardDayHours":8,"week":{}}"#
        try Data(bad.utf8).write(to: dir.appendingPathComponent("mars.json"))
        expectRefused(try docket(["calendar", "show", "--calendar", "uk", "--from", "2024-12-25", "--to", "2024-12-25",
                                  "--calendars-dir", dir.path]), "mars.json: $.timeZone: unknown IANA time zone")
    }

    @Test("The help of sla due and calendar show explains the output fields")
    func help() throws {
        let sla = try docket(["sla", "due", "--help"])
        #expect(sla.status == 0 && sla.stdout.contains("businessSeconds") && sla.stdout.contains("--pause"))
        let cal = try docket(["calendar", "show", "--help"])
        #expect(cal.status == 0 && cal.stdout.contains("bridge") && cal.stdout.contains("half-day"))
    }

    @Test("The shipped calendars and policies validate against their JSON Schemas; a broken one does not")
    func shippedFilesMatchSchemas() throws {
        for (folder, schemaFile) in [("calendars", "calendar.schema.json"), ("policies", "policy.schema.json")] {
            let validator = try schema("schemas/\(folder)/\(schemaFile)")
            let dir = root.appendingPathComponent("schemas/\(folder)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && !$0.hasSuffix(".schema.json") }
            #expect(files.count >= 4)
            for file in files {
                let json = try TestJSON.parse(Data(contentsOf: dir.appendingPathComponent(file)))
                #expect(validator.errors(json) == [], "\(folder)/\(file)")
            }
        }
        let policy = try schema("schemas/policies/policy.schema.json")
        let broken = try TestJSON.parse(Data(#"{"name":"x","version":1,"priorities":["P1"],"calendarByRegion":{"*":"uk"},"targets":{"P1":{"response":{"hours":1}}}}"#.utf8))
        #expect(policy.errors(broken).contains { $0.hasPrefix("$.targets.P1.response") })
    }
}
