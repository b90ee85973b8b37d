import Foundation
import Testing
@testable import CaseDomain

/// The repository root (this file is Tests/CaseDomainTests/PolicyLoadingTests.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Policies and calendars as data (DOMAIN.md §4, R4.9)")
struct PolicyLoadingTests {
    func policyData(_ mutate: (inout [String: Any]) -> Void) throws -> Data {
        let url = repoRoot.appendingPathComponent("schemas/policies/concur-standard.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        mutate(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    func load(policy: Data, name: String = "bad-policy.json") throws -> PolicyCatalog {
        return try PolicyCatalog.load(calendars: PolicyCatalog.shippedCalendarFiles, policies: [NamedData(name: name, data: policy)])
    }

    func loadError(_ body: () throws -> Any) -> DataLoadError? {
        do { _ = try body() } catch let e as DataLoadError { return e } catch { Issue.record("unexpected \(error)") }
        return nil
    }

    @Test("R4.9 the embedded ShippedData is byte-identical to schemas/calendars and schemas/policies")
    func embeddedMatchesFiles() throws {
        for (folder, entries) in [("calendars", ShippedData.calendars), ("policies", ShippedData.policies)] {
            let dir = repoRoot.appendingPathComponent("schemas/\(folder)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".schema.json") }.sorted()
            #expect(entries.map(\.file) == files, "run python3 tools/embed-shipped-data.py")
            for entry in entries {
                let onDisk = try Data(contentsOf: dir.appendingPathComponent(entry.file))
                #expect(Data(entry.contents.utf8) == onDisk, "\(folder)/\(entry.file) drifted: run python3 tools/embed-shipped-data.py")
            }
        }
    }

    @Test("§4 the four shipped policies carry the target table of DOMAIN.md §4 exactly")
    func targetTable() throws {
        let c = try shippedCatalog()
        #expect(c.policyNames == ["concep-sla", "concur-standard", "genesys-cloud", "timecare-se"])
        #expect(c.calendarNames == ["americas", "apac", "europe", "sweden", "uk"])
        let h = { (x: Double) in TargetDuration.businessTime(seconds: Int64(x * 3600)) }
        let concur = try c.policy(named: "concur-standard")
        #expect(concur.version == 1 && concur.priorities == ["P1", "P2", "P3"])
        #expect(concur.targets == [
            "P1": [.response: h(1), .resolution: .wallClock(seconds: 4 * 3600)],
            "P2": [.response: h(4), .resolution: h(8)],
            "P3": [.response: h(8), .resolution: h(24)],
        ])
        #expect(concur.calendarByRegion == ["americas": "americas", "apac": "apac", "europe": "europe"])
        let concep = try c.policy(named: "concep-sla")
        #expect(concep.priorities == ["sev1", "sev2", "sev3"])
        #expect(concep.targets == [
            "sev1": [.response: .businessDays(1), .resolution: .businessDays(2), .update: .wallClock(seconds: 4 * 3600)],
            "sev2": [.response: .businessDays(1), .resolution: .businessDays(5), .update: .businessDays(1)],
            "sev3": [.response: .businessDays(1), .resolution: .businessDays(10)],
        ])
        #expect(concep.calendarName(forRegion: "anything") == "uk")
        let genesys = try c.policy(named: "genesys-cloud")
        #expect(genesys.priorities == ["critical", "high", "medium", "low"])
        #expect(genesys.contactOpeningCaps == ["critical": "high"])
        #expect(Set(genesys.targets.keys) == Set(genesys.priorities))
        #expect(genesys.targets["critical"]?[.restoration] == .wallClock(seconds: 4 * 3600))
        let timecare = try c.policy(named: "timecare-se")
        #expect(timecare.targets == ["P1": [.response: h(2)], "P2": [.response: h(2)], "P3": [.response: h(2)]])
        #expect(timecare.calendarName(forRegion: nil) == "sweden")
        for p in c.policies {
            #expect(p.pauseWhileAwaitingCustomer && p.atRiskShare == 0.75 && p.autoCloseDays == 10)
            #expect(p.reopenWindowDays == 7 && p.surveyAnswerDays == 30 && p.designatedContactsMin == 2)
            #expect(p.designatedContactsMax == 5 && p.attachmentMaxBytes == 25_000_000 && !p.customerEscalationAnyTime)
        }
    }

    @Test("Loading from the schemas/ directories gives the same catalog as the embedded copy")
    func loadFromDirectory() throws {
        let dir = try PolicyCatalog.load(calendarsDirectory: repoRoot.appendingPathComponent("schemas/calendars"),
                                         policiesDirectory: repoRoot.appendingPathComponent("schemas/policies"))
        let shipped = try shippedCatalog()
        #expect(dir.policies == shipped.policies)
        #expect(dir.calendars.map(\.definition) == shipped.calendars.map(\.definition))
    }

    @Test("A malformed target is refused naming the file, the JSON path and what was expected")
    func malformedTarget() throws {
        let data = try policyData { o in
            var targets = o["targets"] as? [String: Any] ?? [:]
            targets["P1"] = ["response": ["hours": 1]]
            o["targets"] = targets
        }
        let e = try #require(loadError { try load(policy: data, name: "policies/broken.json") })
        #expect(e.file == "policies/broken.json")
        #expect(e.path == "$.targets.P1.response")
        #expect(e.message == "expected an object with one of wallClockHours, businessHours, businessDays")
        #expect(e.description == "policies/broken.json: $.targets.P1.response: expected an object with one of wallClockHours, businessHours, businessDays")
    }

    @Test("Other malformed policies: wrong types, unknown keys, unknown priority, bad share, bad JSON")
    func malformedPolicies() throws {
        let cases: [((inout [String: Any]) -> Void, String, String)] = [
            ({ $0["version"] = "one" }, "$.version", "expected an integer"),
            ({ $0["priorities"] = [] }, "$.priorities", "at least one"),
            ({ $0["atRiskShare"] = 1.5 }, "$.atRiskShare", "between 0 and 1"),
            ({ $0["colour"] = "red" }, "$.colour", "unknown key"),
            ({ $0.removeValue(forKey: "targets") }, "$", "missing \"targets\""),
            ({ $0["targets"] = ["P9": [:]] }, "$.targets.P9", "unknown priority"),
            ({ $0["targets"] = ["P1": ["reply": ["businessHours": 1]]] }, "$.targets.P1.reply", "unknown key"),
            ({ $0["targets"] = ["P1": ["response": ["businessDays": 1.5]]] }, "$.targets.P1.response.businessDays", "integer"),
            ({ $0["targets"] = ["P1": ["response": ["businessHours": -1]]] }, "$.targets.P1.response.businessHours", "positive"),
        ]
        for (mutate, path, fragment) in cases {
            let e = try #require(loadError { try load(policy: try policyData(mutate)) }, "\(path)")
            #expect(e.path == path)
            #expect(e.message.contains(fragment), "\(e)")
            #expect(e.file == "bad-policy.json")
        }
        let bad = try #require(loadError { try load(policy: Data("{\"name\": ".utf8)) })
        #expect(bad.path == "$" && bad.message.hasPrefix("not valid JSON"))
    }

    @Test("A policy naming an unknown calendar is refused at load")
    func unknownCalendar() throws {
        let data = try policyData { $0["calendarByRegion"] = ["emea": "europa"] }
        let e = try #require(loadError { try load(policy: data, name: "policies/x.json") })
        #expect(e.file == "policies/x.json")
        #expect(e.path == "$.calendarByRegion.emea")
        #expect(e.message.contains("unknown calendar \"europa\"") && e.message.contains("sweden"))
        #expect(throws: PolicyError.self) {
            try PolicyCatalog(policies: [SupportPolicy(name: "p", priorities: ["P1"], calendarByRegion: ["*": "nope"], targets: [:])],
                              calendars: [])
        }
    }

    @Test("Malformed calendars are refused naming the JSON path")
    func malformedCalendars() throws {
        let base = """
        {"name":"c","version":1,"timeZone":"Europe/Stockholm","standardDayHours":8,"week":{"mon":[["09:00","17:00"]]}
        """
        let cases: [(String, String, String)] = [
            (base.replacingOccurrences(of: "17:00", with: "25:00") + "}", "$.week.mon[0][1]", "expected a time"),
            (base.replacingOccurrences(of: "17:00", with: "08:00") + "}", "$.week.mon[0]", "before the closing time"),
            (base.replacingOccurrences(of: "Europe/Stockholm", with: "Europe/Stokholm") + "}", "$.timeZone", "unknown IANA time zone"),
            (base.replacingOccurrences(of: "\"mon\"", with: "\"monday\"") + "}", "$.week.monday", "unknown key"),
            (base + ",\"holidays\":[{\"name\":\"x\",\"fixed\":\"12-25\",\"easter\":1}]}", "$.holidays[0]", "exactly one of"),
            (base + ",\"holidays\":[{\"name\":\"x\",\"fixed\":\"02-30\"}]}", "$.holidays[0].fixed", "month-day"),
            (base + ",\"holidays\":[{\"name\":\"x\",\"fixed\":\"12-25\",\"shift\":\"monday\"}]}", "$.holidays[0].shift", "nearestWeekday"),
            (base + ",\"closures\":[{\"from\":\"2024-05-02\",\"to\":\"2024-05-01\",\"name\":\"x\"}]}", "$.closures[0]", "on or after"),
            (base.replacingOccurrences(of: "\"version\":1", with: "\"version\":0") + "}", "$.version", "from 1"),
        ]
        for (json, path, fragment) in cases {
            let e = try #require(loadError { try CalendarDefinition.decode(from: Data(json.utf8), file: "calendars/c.json") }, "\(path)")
            #expect(e.file == "calendars/c.json")
            #expect(e.path == path)
            #expect(e.message.contains(fragment), "\(e)")
        }
    }

    @Test("R4.9 versions: the latest is the default, older ones stay available, duplicates are refused")
    func versions() throws {
        let v1 = try shippedCatalog().policy(named: "timecare-se")
        var v2 = v1
        v2.version = 2
        v2.targets["P1"] = [.response: .businessTime(seconds: 3600)]
        let cals = try shippedCatalog().calendars
        let catalog = try PolicyCatalog(policies: [v1, v2], calendars: cals)
        #expect(try catalog.policy(named: "timecare-se").version == 2)
        #expect(try catalog.policy(named: "timecare-se", version: 1) == v1)
        #expect(throws: PolicyError.self) { try catalog.policy(named: "timecare-se", version: 3) }
        #expect(throws: PolicyError.self) { try PolicyCatalog(policies: [v1, v1], calendars: cals) }
        let files = PolicyCatalog.shippedPolicyFiles
        #expect(throws: PolicyError.self) {
            try PolicyCatalog.load(calendars: PolicyCatalog.shippedCalendarFiles, policies: files + files.prefix(1))
        }
    }
}
