import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import Logging
import Scheduling
import Synchronization
import Testing
@testable import Projections

/// R4.9 end to end on a real log: policy and calendar versions recorded through the command
/// handler are in force at once (decisions, deadline scheduler, case projection) and after a
/// restart (``PolicyCatalog/inForce(base:log:logger:)``); a case keeps its policy version.
@Suite struct CatalogVersionTests {
    /// Wednesday 2026-11-18 15:00 in Stockholm (CET): one business hour left that day.
    static let t0 = Date(timeIntervalSince1970: 1_795_010_400)
    static let manager = Principal.staff("mgr", .manager)
    static let staff = Principal.staff("s1", .tier1, channel: .phone)

    /// Stockholm wall time on a November 2026 day (CET, UTC+1).
    /// What `docket serve` wires up: one live catalog shared by the handler, the `cases`
    /// projection and the deadline scheduler.
    static func serve(_ log: EventLog) throws -> (LiveCatalog, CommandHandler, ProjectionRunner, DeadlineScheduler) {
        let live = LiveCatalog(shippedCatalog)
        let handler = CommandHandler(log: log, liveCatalog: live, logger: testLogger)
        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(liveCatalog: live)], logger: testLogger)
        return (live, handler, runner, DeadlineScheduler(handler: handler, logger: testLogger))
    }

    static func cet(day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour, c.minute) = (2026, 11, day, hour - 1, minute)
        c.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: c) ?? .distantPast
    }

    static func shippedFile(_ files: [NamedData], _ suffix: String) throws -> [String: Any] {
        let file = try #require(files.first { $0.name.hasSuffix(suffix) })
        return try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
    }

    static func text(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The shipped Swedish calendar as version `version` with closures on `closedDays`
    /// (November 2026), and a standard day of `standardDayHours` when given.
    static func sweden(version: Int, closedDays: [Int], standardDayHours: Double? = nil) throws -> String {
        var json = try shippedFile(PolicyCatalog.shippedCalendarFiles, "/sweden.json")
        json["version"] = version
        json["closures"] = closedDays.map { ["from": String(format: "2026-11-%02d", $0), "name": "office move"] }
        if let standardDayHours { json["standardDayHours"] = standardDayHours }
        return try text(json)
    }

    /// The shipped Swedish calendar's standard day, in hours.
    static func swedishStandardDay() throws -> Double {
        try #require(try shippedFile(PolicyCatalog.shippedCalendarFiles, "/sweden.json")["standardDayHours"] as? Double)
    }

    /// The shipped `timecare-se` policy as version `version` with a response target of `hours` business hours.
    static func timecare(version: Int, hours: Int) throws -> String {
        try timecare(version: version, response: ["businessHours": hours])
    }

    /// The shipped `timecare-se` policy as version `version` with `response` (and `resolution`,
    /// when given) as every priority's targets.
    static func timecare(version: Int, response: [String: Any], resolution: [String: Any]? = nil) throws -> String {
        var json = try shippedFile(PolicyCatalog.shippedPolicyFiles, "/timecare-se.json")
        json["version"] = version
        var target: [String: Any] = ["response": response]
        if let resolution { target["resolution"] = resolution }
        json["targets"] = ["P1": target, "P2": target, "P3": target]
        return try text(json)
    }

    @discardableResult
    static func send(_ handler: CommandHandler, _ type: String, _ stream: String, _ payload: [String: Any],
                     as actor: Principal = staff, at: Date = t0) async throws -> CommandOutcome {
        let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        return try await handler.handle(CommandEnvelope(commandId: UUID(), type: type, streamId: stream, payload: data), actor: actor, at: at)
    }

    static func recordCalendar(_ handler: CommandHandler, version: Int, closedDays: [Int], standardDayHours: Double? = nil,
                               at: Date = t0) async throws {
        let content = try sweden(version: version, closedDays: closedDays, standardDayHours: standardDayHours)
        try await send(handler, "record-calendar-version", "calendar-sweden",
                       ["name": "sweden", "version": version, "content": content, "reason": "office move"], as: manager, at: at)
    }

    static func recordPolicy(_ handler: CommandHandler, version: Int, hours: Int, at: Date = t0) async throws {
        try await send(handler, "record-policy-version", "policy-timecare-se",
                       ["name": "timecare-se", "version": version, "content": try timecare(version: version, hours: hours)],
                       as: manager, at: at)
    }

    /// Organisation `acme` under `timecare-se` with two designated contacts.
    static func organisation(_ handler: CommandHandler) async throws {
        try await send(handler, "register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "timecare-se"])
        for c in ["ada", "bo"] {
            try await send(handler, "add-contact", "org-acme", ["contactID": c, "name": c, "email": "\(c)@acme.example", "access": "designated"])
        }
        try await send(handler, "transition-to-support", "org-acme", [:])
    }

    static func openCase(_ handler: CommandHandler, _ id: String, subject: String = "Rota lost", at: Date = t0) async throws {
        try await send(handler, "open-case", "case-\(id)", [
            "caseID": id, "organisationID": "acme", "contactID": "ada", "subject": subject, "description": "Ward 4",
            "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P3", "region": "sweden",
            "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": "phone"], at: at)
    }

    static func clock(_ runner: ProjectionRunner, _ id: String, _ target: String = "response") throws -> ClockRow? {
        try CaseQueries(runner: runner).row(id)?.clocks.first { $0.target == target }
    }

    static func responseDeadline(_ runner: ProjectionRunner, _ id: String) throws -> Date? {
        try CaseQueries(runner: runner).row(id)?.clocks.first { $0.target == "response" }?.deadline
    }

    static func timeDriven(_ log: EventLog, _ id: String) throws -> [String] {
        try log.readStream("case-\(id)", limit: 1_000).filter { $0.actor == Principal.deadlineScheduler.id }.map(\.type)
    }

    static func openLog(_ dir: String) throws -> EventLog {
        var config = EventLog.Configuration()
        config.environment.durability = .noSync
        return try EventLog.open(directory: dir, configuration: config, logger: Logger(label: "test"))
    }

    static func tempDir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
    }

    // MARK: - Without restart

    /// A closure recorded through the handler moves the deadline of a running business-time
    /// clock for the decider, the scheduler and the projection sharing the live catalog.
    @Test func aRecordedClosureMovesRunningDeadlinesAtOnce() async throws {
        try await withTempLog { log, _ in
            let (live, handler, runner, scheduler) = try Self.serve(log)
            try await Self.organisation(handler)
            try await Self.openCase(handler, "1")
            // 2 business hours from Wednesday 15:00: 15:00-16:00, then Thursday 09:00-10:00.
            _ = try await scheduler.fireDue(upTo: Self.t0)
            #expect(await scheduler.nextDue() == Self.cet(day: 19, 9, 30))  // at risk at 75 %
            try await runner.catchUp()
            #expect(try Self.responseDeadline(runner, "1") == Self.cet(day: 19, 10))

            // The office is closed on Thursday: recorded as calendar sweden version 2.
            try await Self.recordCalendar(handler, version: 2, closedDays: [19], at: Self.t0.addingTimeInterval(60))
            #expect(try live.current.calendar(named: "sweden").version == 2)

            // The scheduler measures the running clock with the new calendar: nothing falls
            // due on Thursday; at risk and breached move to Friday.
            _ = try await scheduler.fireDue(upTo: Self.cet(day: 19, 10, 1))
            #expect(try Self.timeDriven(log, "1").isEmpty)
            #expect(await scheduler.nextDue() == Self.cet(day: 20, 9, 30))
            // The decider refuses a breach before the new deadline even when asked directly.
            await #expect(throws: CommandError.self) {
                try await Self.send(handler, "record-clock-breached", "case-1", ["target": "response"],
                                    as: .deadlineScheduler, at: Self.cet(day: 19, 10))
            }
            // The projection derives the row of the running case again with the new calendar,
            // though the case itself has no new event.
            try await runner.catchUp()
            #expect(try Self.responseDeadline(runner, "1") == Self.cet(day: 20, 10))

            _ = try await scheduler.fireDue(upTo: Self.cet(day: 20, 10))
            #expect(try Self.timeDriven(log, "1") == ["clock-at-risk", "escalation-flag-raised", "clock-breached", "escalation-flag-raised"])
            let breached = try #require(try log.readStream("case-1", limit: 1_000).first { $0.type == "clock-breached" })
            let at = (try JSONSerialization.jsonObject(with: breached.payload) as? [String: Any])?["at"] as? String
            #expect(at == DomainTime.format(Self.cet(day: 20, 10)))
        }
    }

    /// A calendar version appended to the log by another process (`docket log append`, not
    /// this handler) is put in force by the projection and the scheduler when they read it.
    @Test func aVersionAppendedElsewhereIsPickedUpFromTheLog() async throws {
        try await withTempLog { log, _ in
            let (live, handler, runner, scheduler) = try Self.serve(log)
            try await Self.organisation(handler)
            try await Self.openCase(handler, "1")
            _ = try await scheduler.fireDue(upTo: Self.t0)
            try await runner.catchUp()

            let event = VersionEvent.calendarVersionRecorded(CalendarVersionRecorded(
                name: "sweden", version: 2, content: try Self.sweden(version: 2, closedDays: [19]), reason: "office move",
                by: "ops", at: Self.t0))
            let encoded = try event.encoded()
            _ = try await log.append(to: "calendar-sweden", expectedVersion: .noStream, events: [
                NewEvent(type: encoded.type, schemaVersion: UInt32(encoded.schemaVersion), actor: "ops", payload: encoded.payload)])
            #expect(try live.current.calendar(named: "sweden").version == 1)
            try await runner.catchUp()
            #expect(try live.current.calendar(named: "sweden").version == 2)
            #expect(try Self.responseDeadline(runner, "1") == Self.cet(day: 20, 10))

            live.replace(with: shippedCatalog)  // as if the projection had not seen it
            _ = try await scheduler.fireDue(upTo: Self.cet(day: 19, 10, 1))
            #expect(try live.current.calendar(named: "sweden").version == 2)
            #expect(try Self.timeDriven(log, "1").isEmpty)
            #expect(await scheduler.nextDue() == Self.cet(day: 20, 9, 30))
        }
    }

    /// A version the handler refuses to record is never appended: content that does not
    /// load, a name or version other than the command's, a policy naming an unknown calendar.
    @Test func versionsThatWouldNotLoadAreRefusedAndNotAppended() async throws {
        try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: testLogger)
            var policy = try Self.shippedFile(PolicyCatalog.shippedPolicyFiles, "/timecare-se.json")
            policy["version"] = 2
            policy["calendarByRegion"] = ["*": "atlantis"]
            let cases: [(String, String, [String: Any], String)] = [
                ("record-calendar-version", "calendar-sweden", ["name": "sweden", "version": 2, "content": "{\"closures\": 3}"], "$.payload.content"),
                ("record-calendar-version", "calendar-sweden", ["name": "sweden", "version": 3, "content": try Self.sweden(version: 2, closedDays: [])], "$.payload.content"),
                ("record-calendar-version", "calendar-norway", ["name": "sweden", "version": 2, "content": try Self.sweden(version: 2, closedDays: [])], "$.streamId"),
                ("record-policy-version", "policy-timecare-se", ["name": "timecare-se", "version": 2, "content": try Self.text(policy)], "$.payload.content"),
            ]
            for (type, stream, payload, path) in cases {
                await #expect {
                    try await Self.send(handler, type, stream, payload, as: Self.manager)
                } throws: { error in
                    guard let e = error as? CommandError else { return false }
                    // Schema-valid commands that cannot be carried out: refused (422), with the path.
                    return e.code == .refused && e.path == path
                }
            }
            #expect(try log.head().position == 0)
            #expect(try handler.catalog.calendar(named: "sweden").version == 1)
        }
    }

    // MARK: - After a restart

    /// Reopened, the data directory's catalog is the shipped files plus the log's versions:
    /// a policy version only the log holds, the closure; case 1 keeps policy version 1,
    /// case 2 opened under version 2; a rebuild equals, byte for byte, what the live
    /// projection wrote (the closure came after both cases' last events).
    @Test func recordedVersionsAreInForceAfterARestart() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let liveDump: [([UInt8], [UInt8])]
        do {
            let log = try Self.openLog(dir)
            defer { log.close() }
            let (_, handler, runner, _) = try Self.serve(log)
            try await Self.organisation(handler)
            try await Self.openCase(handler, "1")
            try await Self.recordPolicy(handler, version: 1, hours: 2)  // as first start records it
            try await Self.recordPolicy(handler, version: 2, hours: 4)
            try await Self.openCase(handler, "2")
            try await runner.catchUp()  // both rows written before the closure
            try await Self.recordCalendar(handler, version: 2, closedDays: [19], at: Self.t0.addingTimeInterval(2))
            try await runner.catchUp()
            #expect(try CaseQueries(runner: runner).row("1")?.policyVersion == 1)
            #expect(try CaseQueries(runner: runner).row("2")?.policyVersion == 2)
            liveDump = try dump(runner, "cases")
        }

        let log = try Self.openLog(dir)
        defer { log.close() }
        // The shipped files alone do not know policy version 2 nor the closure.
        #expect(throws: PolicyError.self) { try shippedCatalog.policy(named: "timecare-se", version: 2) }
        let catalog = try PolicyCatalog.inForce(base: shippedCatalog, log: log, logger: testLogger)
        #expect(try catalog.policy(named: "timecare-se").version == 2)
        #expect(try catalog.policy(named: "timecare-se", version: 1) == shippedCatalog.policy(named: "timecare-se"))
        #expect(try catalog.calendar(named: "sweden").definition.closures.map(\.name) == ["office move"])
        #expect(try catalog.calendar(named: "sweden", version: 1).definition.closures.isEmpty)

        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: catalog)], logger: testLogger)
        try await runner.rebuild("cases")
        // Case 1: policy v1 (2 h) from Wednesday 15:00, Thursday closed: Friday 10:00.
        // Case 2: policy v2 (4 h): 1 h on Wednesday, Friday 09:00-12:00.
        #expect(try Self.responseDeadline(runner, "1") == Self.cet(day: 20, 10))
        #expect(try Self.responseDeadline(runner, "2") == Self.cet(day: 20, 12))
        #expect(try dump(runner, "cases").elementsEqual(liveDump, by: ==))

        // Commands after the restart decide with the same versions: case 1 keeps version 1.
        let handler = CommandHandler(log: log, catalog: catalog, logger: testLogger)
        let scheduler = DeadlineScheduler(handler: handler, logger: testLogger)
        _ = try await scheduler.fireDue(upTo: Self.cet(day: 20, 10))
        #expect(try Self.timeDriven(log, "1") == ["clock-at-risk", "escalation-flag-raised", "clock-breached", "escalation-flag-raised"])
        // Case 2 (4 h): at risk at 3 h (Friday 11:00), not yet breached.
        #expect(try Self.timeDriven(log, "2") == [])
        _ = try await scheduler.fireDue(upTo: Self.cet(day: 20, 11))
        #expect(try Self.timeDriven(log, "2") == ["clock-at-risk", "escalation-flag-raised"])
    }

    /// R4.9: a calendar change applies to clocks still running, and only to them. A version
    /// that lengthens the standard day (a business-days target is days x `standardDayHours`,
    /// R4.3) changes the targets of running clocks; a clock met before it keeps the target it
    /// was shown with, also while another clock of its case runs, and a case whose clocks
    /// have all finished keeps its row byte for byte. A rebuild with the live catalog, and
    /// one after a restart, derive the same bytes as the live steps: each calendar version
    /// is in force from the position that recorded it, each clock measured with the version
    /// in force where it finished.
    @Test func aCalendarChangeAppliesToRunningClocksOnly() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let day = Int64(try Self.swedishStandardDay() * 3600)
        let longer = day + 2 * 3600
        let liveDump: [([UInt8], [UInt8])]
        do {
            let log = try Self.openLog(dir)
            defer { log.close() }
            let (live, handler, runner, _) = try Self.serve(log)
            try await Self.organisation(handler)
            let policy = try Self.timecare(version: 2, response: ["businessDays": 1], resolution: ["businessDays": 2])
            try await Self.send(handler, "record-policy-version", "policy-timecare-se",
                                ["name": "timecare-se", "version": 2, "content": policy], as: Self.manager)
            // Case 2's subject makes its state and row long enough to be stored in pieces.
            for id in ["1", "2", "3"] { try await Self.openCase(handler, id, subject: id == "2" ? String(repeating: "Rota lost. ", count: 500) : "Rota lost") }
            // Cases 1 and 3: the response is met by the first public staff comment (R4.4);
            // case 3's resolution by a proposed solution. Case 2's clocks run.
            for id in ["1", "3"] {
                try await Self.send(handler, "add-comment", "case-\(id)", ["commentID": "c\(id)", "body": "Looking", "visibility": "public"],
                                    at: Self.t0.addingTimeInterval(60))
            }
            try await Self.send(handler, "propose-solution", "case-3", ["solution": "Restart the rota service"], at: Self.t0.addingTimeInterval(90))
            try await runner.catchUp()
            let finished = try #require(try CaseQueries(runner: runner).rowJSON("3"))
            #expect(try Self.clock(runner, "3", "resolution")?.metAt != nil)
            #expect(try Self.clock(runner, "1")?.targetSeconds == day && Self.clock(runner, "1")?.metAt != nil)
            #expect(try Self.clock(runner, "1", "resolution")?.targetSeconds == 2 * day)

            try await Self.recordCalendar(handler, version: 2, closedDays: [], standardDayHours: Double(longer) / 3600,
                                          at: Self.t0.addingTimeInterval(120))
            // The handler put the version in force from the position it was appended at.
            #expect(live.current.calendarInForce(named: "sweden", version: 2) == (try log.head().position))
            #expect(live.current.calendarInForce(named: "sweden", version: 1) == 0)
            try await runner.catchUp()
            #expect(try CaseQueries(runner: runner).rowJSON("3") == finished)
            #expect(try Self.clock(runner, "1")?.targetSeconds == day)  // met before the change
            #expect(try Self.clock(runner, "1", "resolution")?.targetSeconds == 2 * longer)  // running
            #expect(try Self.clock(runner, "2")?.targetSeconds == longer)
            #expect(try Self.clock(runner, "2", "resolution")?.targetSeconds == 2 * longer)
            // The version brought case 2 in without an event: its long state stands, pieces and all.
            #expect(try CaseQueries(runner: runner).state("2")?.subject.count == 5_500)
            liveDump = try dump(runner, "cases")

            try await runner.rebuild("cases")
            #expect(try dump(runner, "cases").elementsEqual(liveDump, by: ==))
        }

        let log = try Self.openLog(dir)
        defer { log.close() }
        let catalog = try PolicyCatalog.inForce(base: shippedCatalog, log: log, logger: testLogger)
        #expect(try catalog.calendar(named: "sweden").version == 2)
        for parallel in [true, false] {
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: catalog, parallelRebuild: parallel)],
                                              logger: testLogger)
            try await runner.rebuild("cases")
            #expect(try dump(runner, "cases").elementsEqual(liveDump, by: ==), "parallel rebuild: \(parallel)")
        }
    }

    /// Which calendar version is in force at a log position: files from the start, a
    /// recorded version from its position (the earliest when recorded twice), the highest
    /// version in force; before any, the earliest.
    @Test func calendarVersionsAreInForceFromTheirPosition() throws {
        let v2 = try BusinessCalendar(CalendarDefinition.decode(from: Data(try Self.sweden(version: 2, closedDays: [19]).utf8), file: "v2"))
        let v3 = try BusinessCalendar(CalendarDefinition.decode(from: Data(try Self.sweden(version: 3, closedDays: [20]).utf8), file: "v3"))
        let catalog = shippedCatalog.recording(calendars: [(v3, 90), (v2, 40), (v2, 50)])
        #expect(catalog.calendarInForce(named: "sweden", version: 1) == 0)
        #expect(catalog.calendarInForce(named: "sweden", version: 2) == 40)
        #expect(catalog.calendarInForce(named: "sweden", version: 3) == 90)
        #expect(catalog.calendarInForce(named: "sweden", version: 4) == nil)
        #expect(catalog.calendar(named: "sweden", asOf: 39)?.version == 1)
        #expect(catalog.calendar(named: "sweden", asOf: 40)?.version == 2)
        #expect(catalog.calendar(named: "sweden", asOf: 89)?.version == 2)
        #expect(catalog.calendar(named: "sweden", asOf: .max)?.version == 3)
        #expect(catalog.calendar(named: "atlantis", asOf: 1) == nil)
        // A version of the files stays in force from the start when the log records it too.
        let recordedAgain = catalog.recording(calendars: [(try shippedCatalog.calendar(named: "sweden"), 7)])
        #expect(recordedAgain.calendarInForce(named: "sweden", version: 1) == 0)
        // A catalog of log versions only: before the first, the earliest counts.
        let logOnly = try PolicyCatalog(policies: [], calendars: []).recording(calendars: [(v3, 90), (v2, 40)])
        #expect(logOnly.calendar(named: "sweden", asOf: 3)?.version == 2)
    }

    /// Files and log define calendar sweden version 2 differently: the log's content is in
    /// force, and a warning names both.
    @Test func theLogWinsOverAConflictingFile() async throws {
        try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: testLogger)
            try await Self.recordCalendar(handler, version: 2, closedDays: [19])
            var calendars = PolicyCatalog.shippedCalendarFiles.filter { !$0.name.hasSuffix("/sweden.json") }
            calendars.append(NamedData(name: "my-calendars/sweden.json", data: Data(try Self.sweden(version: 2, closedDays: [24]).utf8)))
            let files = try PolicyCatalog.load(calendars: calendars, policies: PolicyCatalog.shippedPolicyFiles)
            #expect(try files.calendar(named: "sweden").definition.closures.map(\.from.description) == ["2026-11-24"])

            let recorder = RecordingLogs()
            let catalog = try PolicyCatalog.inForce(base: files, log: log, logger: recorder.logger)
            #expect(try catalog.calendar(named: "sweden", version: 2).definition.closures.map(\.from.description) == ["2026-11-19"])
            let warnings = recorder.lines.filter { $0.hasPrefix("warning") }
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("calendar sweden version 2") == true)
            #expect(warnings.first?.contains("calendar-sweden position 1") == true)

            // The same content in file and log is no conflict.
            let quiet = RecordingLogs()
            _ = try PolicyCatalog.inForce(base: catalog, log: log, logger: quiet.logger)
            #expect(quiet.lines.isEmpty)
        }
    }
}
