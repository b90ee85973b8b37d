import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import Logging
import Projections
import Synchronization
import Testing
@testable import Scheduling

/// A clock the test moves by hand; sleepers wake when it passes their instant.
final class FakeClock: SchedulerClock {
    private struct State {
        var now: Date
        var sleepers: [UInt64: (Date, CheckedContinuation<Void, any Error>)] = [:]
        var next: UInt64 = 0
    }
    private let state: Mutex<State>

    init(_ now: Date) { state = Mutex(State(now: now)) }

    func now() -> Date { state.withLock { $0.now } }

    func advance(to instant: Date) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = instant
            let due = s.sleepers.filter { $0.value.0 <= instant }
            for k in due.keys { s.sleepers.removeValue(forKey: k) }
            return due.values.map(\.1)
        }
        for c in ready { c.resume() }
    }

    func sleep(until instant: Date) async throws {
        let token = state.withLock { s -> UInt64 in s.next += 1; return s.next }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { s -> Bool in
                    if s.now >= instant || Task.isCancelled { return true }
                    s.sleepers[token] = (instant, c)
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { $0.sleepers.removeValue(forKey: token) }
            c?.1.resume(throwing: CancellationError())
        }
    }
}

@Suite struct DeadlineSchedulerTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z, a Wednesday
    static let staff = Principal.staff("s1", .tier1, channel: .phone)

    func send(_ handler: CommandHandler, _ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = staff,
              at: Date = t0) async throws {
        let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        _ = try await handler.handle(CommandEnvelope(commandId: UUID(), type: type, streamId: stream, payload: data), actor: actor, at: at)
    }

    /// A handler, organisation `acme` under `policy` with two designated contacts, and case
    /// `case-1` opened by staff on the phone at ``t0``.
    func caseOne(_ log: EventLog, policy: String, severity: String, region: String) async throws -> CommandHandler {
        let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: Logger(label: "scheduler-test"))
        try await send(handler, "register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": policy])
        for c in ["ada", "bo"] {
            try await send(handler, "add-contact", "org-acme", ["contactID": c, "name": c, "email": "\(c)@acme.example", "access": "designated"])
        }
        try await send(handler, "transition-to-support", "org-acme", [:])
        try await send(handler, "open-case", "case-1", [
            "caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Calls drop", "description": "All queues",
            "topic": "telephony", "caseType": "support", "subType": "problem", "severity": severity, "region": region,
            "site": "eu-1", "product": "Cloud", "stage": "production", "callMe": true, "cc": [], "channel": "phone"])
        return handler
    }

    /// Time-driven events of the case: (type, target or survey) per event, in order.
    func timeDriven(_ log: EventLog) throws -> [String] {
        try log.readStream("case-1", limit: 10_000).filter { $0.actor == Principal.deadlineScheduler.id }.map { e in
            let json = try JSONSerialization.jsonObject(with: e.payload) as? [String: Any]
            let kind = (json?["kind"] as? String).map { ":" + $0 } ?? ""
            return "\(e.type)\(kind):\((json?["target"] as? String) ?? "")"
        }
    }

    func waitFor(_ log: EventLog, _ what: String, _ predicate: ([String]) -> Bool) async throws {
        let start = Date()
        while Date().timeIntervalSince(start) < 20 {
            if predicate(try timeDriven(log)) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what); have \(try timeDriven(log))")
    }

    @Test("the start-up pass, which folds every case, drops its mappings of the data file above the budget; the schedule is the same")
    func startUpPassReleasesMappedPagesAboveItsBudget() async throws {
        try await withTempLog { log, _ in
            var history = SyntheticHistory()
            history.cases = 120
            _ = try await appendAll(log, try history.appends(catalog: shippedCatalog))
            var mapped: [Int] = []
            var next: [Date?] = []
            for budget in [Int.max, 0] {
                log.environment.releaseMappedPages()
                // A handler of its own: its cache of folded states starts empty, so the pass reads the log.
                let handler = CommandHandler(log: log, liveCatalog: LiveCatalog(shippedCatalog), logger: testLogger)
                let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), residentFileBudget: budget, logger: testLogger)
                await scheduler.lowerBulkPass(to: 64)
                try await scheduler.refresh()
                mapped.append(try #require(log.environment.residentMappedBytes()))
                next.append(await scheduler.nextDue())
            }
            #expect(mapped[0] > 512 << 10, "\(mapped[0]) bytes of the data file mapped after folding every case")
            #expect(mapped[1] < mapped[0] / 4, "\(mapped[1]) bytes still mapped with a budget of 0 (\(mapped[0]) without)")
            #expect(next[0] != nil && next[0] == next[1])
        }
    }

    @Test func firesEachDeadlineOnceOnTimeAndAfterACrash() async throws {
        try await withTempLog { log, _ in
            let logger = Logger(label: "scheduler-test")
            let handler = try await caseOne(log, policy: "genesys-cloud", severity: "critical", region: "europe")
            // critical: response 1 h, restoration 4 h, update 4 h (wall clock); at risk at 75 %.
            let clock = FakeClock(Self.t0)
            let first = DeadlineScheduler(handler: handler, clock: clock, logger: logger)
            let running = Task { try await first.run() }
            clock.advance(to: Self.t0.addingTimeInterval(44 * 60))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try timeDriven(log).isEmpty)
            clock.advance(to: Self.t0.addingTimeInterval(45 * 60 + 0.5))
            try await waitFor(log, "response at risk") { $0.contains("clock-at-risk:response") }
            // On time: decided at the due instant itself.
            let atRisk = try #require(try log.readStream("case-1", limit: 1_000).first { $0.type == "clock-at-risk" })
            let atRiskAt = (try JSONSerialization.jsonObject(with: atRisk.payload) as? [String: Any])?["at"] as? String
            #expect(atRiskAt == DomainTime.format(Self.t0.addingTimeInterval(45 * 60)))
            clock.advance(to: Self.t0.addingTimeInterval(61 * 60))
            try await waitFor(log, "response breached") { $0.contains("clock-breached:response") }
            #expect(try timeDriven(log).contains("escalation-flag-raised:response-breached:response"))
            running.cancel()
            _ = try? await running.value

            // Down for four hours. A crashed instance had already appended the first missed
            // command (restoration at risk) under its derived commandId.
            clock.advance(to: Self.t0.addingTimeInterval(5 * 3600))
            var state = CaseState()
            for e in try log.readStream("case-1", limit: 1_000) {
                CaseDecider.evolve(&state, try CaseEvent.decode(type: e.type, schemaVersion: Int(e.schemaVersion), payload: e.payload))
            }
            let policy = try shippedCatalog.policy(named: "genesys-cloud")
            let measures = CalendarMeasureProvider { name in try? shippedCatalog.calendar(named: name) }
            let missed = try #require(CaseDecider.dueTimeDrivenCommands(state, measures: measures, policy: policy).first)
            #expect(missed.command.type == "record-clock-at-risk")
            _ = try await handler.handle(CommandEnvelope(commandId: DeadlineScheduler.commandId(stream: "case-1", due: missed),
                                                         type: missed.command.type, streamId: "case-1",
                                                         payload: try missed.command.encoded().payload),
                                         actor: .deadlineScheduler, at: missed.due)

            let second = DeadlineScheduler(handler: handler, clock: clock, logger: logger)
            let restarted = Task { try await second.run() }
            try await waitFor(log, "missed deadlines") {
                $0.contains("clock-breached:restoration") && $0.contains("clock-breached:update")
            }
            try await Task.sleep(for: .milliseconds(300))
            restarted.cancel()
            _ = try? await restarted.value
            // A third instance with the same time finds nothing left to do.
            let third = DeadlineScheduler(handler: handler, clock: clock, logger: logger)
            let outcomes = try await third.fireDue(upTo: clock.now())
            #expect(outcomes.allSatisfy { $0.events.isEmpty || $0.duplicate })
            #expect(await third.sent == 0)

            let events = try timeDriven(log)
            #expect(Set(events).count == events.count, "duplicates: \(events)")
            for expected in ["clock-at-risk:response", "clock-breached:response", "clock-at-risk:restoration", "clock-at-risk:update",
                             "clock-breached:restoration", "clock-breached:update", "escalation-flag-raised:update-overdue:update",
                             "escalation-flag-raised:at-risk:response"] {
                #expect(events.filter { $0 == expected }.count == 1, "\(expected) in \(events)")
            }
        }
    }

    @Test func autoCloseAndSurveyExpiryThroughFireDue() async throws {
        try await withTempLog { log, _ in
            let logger = Logger(label: "scheduler-test")
            let handler = try await caseOne(log, policy: "timecare-se", severity: "P2", region: "sweden")
            try await send(handler, "propose-solution", "case-1", ["solution": "Use the new export"], at: Self.t0.addingTimeInterval(600))
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(9 * 86_400))
            #expect(try !timeDriven(log).contains("case-closed:"))
            // Ten days after the proposal: auto-closed (R2.6) with a survey sent (R5.1).
            try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(10 * 86_400 + 600))
            let closed = try log.readStream("case-1", limit: 1_000).filter { $0.type == "case-closed" }
            #expect(closed.count == 1 && String(decoding: closed[0].payload, as: UTF8.self).contains("auto-closed"))
            #expect(try log.readStream("case-1", limit: 1_000).contains { $0.type == "survey-sent" })
            // Thirty days later the unanswered survey expires (R5.3), once.
            try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(45 * 86_400))
            try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(46 * 86_400))
            #expect(try timeDriven(log).filter { $0.hasPrefix("survey-expired") }.count == 1)
            #expect(await scheduler.nextDue() == nil)
        }
    }
}

@Suite struct DeadlineSchedulerBatchTests {
    static let t0 = DeadlineSchedulerTests.t0
    static let staff = DeadlineSchedulerTests.staff

    /// Organisation `acme` (genesys-cloud), case-1 opened at t0 (critical: response due in
    /// 1 h, restoration in 4 h), a comment at t0 + 5 h: (type, stream, payload, at, commandId).
    static func steps() -> [(String, String, [String: Any], Date, UUID)] {
        let id = { (n: Int) in UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", n)) ?? UUID() }
        return [
            ("register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "genesys-cloud"], t0, id(1)),
            ("add-contact", "org-acme", ["contactID": "ada", "name": "ada", "email": "ada@acme.example", "access": "designated"], t0, id(2)),
            ("add-contact", "org-acme", ["contactID": "bo", "name": "bo", "email": "bo@acme.example", "access": "designated"], t0, id(3)),
            ("transition-to-support", "org-acme", [:], t0, id(4)),
            ("open-case", "case-1", [
                "caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Calls drop", "description": "All queues",
                "topic": "telephony", "caseType": "support", "subType": "problem", "severity": "critical", "region": "europe",
                "site": "eu-1", "product": "Cloud", "stage": "production", "callMe": true, "cc": [], "channel": "phone"], t0, id(5)),
            ("add-comment", "case-1", ["commentID": "c1", "body": "Looking", "visibility": "public"], t0.addingTimeInterval(5 * 3600), id(6)),
        ]
    }

    static func envelope(_ s: (String, String, [String: Any], Date, UUID)) throws -> CommandEnvelope {
        CommandEnvelope(commandId: s.4, type: s.0, streamId: s.1, payload: try JSONSerialization.data(withJSONObject: s.2, options: [.sortedKeys]))
    }

    /// The log's events without the log's own stamps.
    static func shapes(_ log: EventLog) throws -> [String] {
        try log.readAll(from: 1, limit: 100_000).map {
            "\($0.id) \($0.stream)@\($0.version) \($0.type) \($0.actor) \(String(decoding: $0.payload, as: UTF8.self)) \(String(decoding: $0.metadata, as: UTF8.self))"
        }
    }

    @Test func firedIntoABatchTheyAreDecidedOnItsStateAppendedWithItAndEqualTheLivePath() async throws {
        let logger = Logger(label: "scheduler-test")
        let live = try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: logger)
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            for s in Self.steps() {
                try await scheduler.fireDue(upTo: s.3)
                _ = try await handler.handle(try Self.envelope(s), actor: Self.staff, at: s.3)
            }
            return try Self.shapes(log)
        }
        #expect(live.contains { $0.contains("clock-breached") }, "the scenario must fire deadlines: \(live)")
        try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: logger)
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            let batch = handler.beginBatch()
            var fired: [BatchedCommand] = []
            for s in Self.steps() {
                fired += try await scheduler.fireDue(upTo: s.3, into: batch)
                _ = try batch.decide(try Self.envelope(s), actor: Self.staff, at: s.3)
            }
            // The case was opened in the batch; its deadlines fired into the batch, before the comment.
            #expect(fired.contains { $0.eventTypes.contains("clock-breached") } && fired.allSatisfy { !$0.duplicate })
            #expect(try log.head().position == 0, "nothing is appended before the commit")
            #expect(await scheduler.sent == fired.filter { !$0.eventTypes.isEmpty }.count)
            let commit = try await batch.commit()
            #expect(commit.commands == Self.steps().count + fired.filter { !$0.eventTypes.isEmpty }.count)
            #expect(try Self.shapes(log) == live)

            // Decided again (re-running the import): the live scheduler and a new batch find nothing left to fire.
            let again = handler.beginBatch()
            for s in Self.steps() {
                let refired = try await scheduler.fireDue(upTo: s.3, into: again)
                #expect(refired.allSatisfy { $0.duplicate || $0.eventTypes.isEmpty })
                #expect(try again.decide(try Self.envelope(s), actor: Self.staff, at: s.3).duplicate)
            }
            #expect(try await again.commit().commands == 0)
            #expect(try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(5 * 3600)).isEmpty)
            #expect(try Self.shapes(log) == live)
        }
    }

    /// The organisation of ``steps()`` and five critical cases opened at the same instant (so
    /// that their deadlines tie), through `handler`, without firing anything.
    static func fiveCases(_ handler: CommandHandler) async throws {
        for s in steps().prefix(4) { _ = try await handler.handle(try envelope(s), actor: staff, at: s.3) }
        let open = steps()[4]
        for n in 1...5 {
            var payload = open.2
            payload["caseID"] = "\(n)"
            let id = UUID(uuidString: String(format: "00000000-0000-4000-8100-%012d", n)) ?? UUID()
            _ = try await handler.handle(try envelope(("open-case", "case-\(n)", payload, t0, id)), actor: staff, at: t0)
        }
    }

    /// The log's events without its own stamps, per stream.
    static func shapesByStream(_ log: EventLog) throws -> [String: [String]] {
        Dictionary(grouping: try shapes(log)) { String($0.split(separator: " ")[1].split(separator: "@")[0]) }
    }

    @Test func aBacklogFiredInBoundedBatchesGivesEveryStreamTheSameEventsInTimeOrder() async throws {
        let logger = Logger(label: "scheduler-test")
        let until = Self.t0.addingTimeInterval(3 * 86_400)
        let whole = try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: logger)
            try await Self.fiveCases(handler)
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            let batch = handler.beginBatch()
            let fired = try await scheduler.fireDue(upTo: until, into: batch).filter { !$0.duplicate && !$0.eventTypes.isEmpty }.count
            try await batch.commit()
            return (fired: fired, streams: try Self.shapesByStream(log))
        }
        #expect(whole.fired >= 10, "each case has at least its response and restoration breaches")
        try await withTempLog { log, _ in
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: logger)
            try await Self.fiveCases(handler)
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            var sizes: [Int] = []
            while true {
                let batch = handler.beginBatch()
                let added = try await scheduler.fireDue(upTo: until, into: batch, limit: 3).filter { !$0.duplicate && !$0.eventTypes.isEmpty }.count
                guard added > 0 else { break }
                #expect(added <= 3)
                try await batch.commit()
                sizes.append(added)
                if added < 3 { break }
            }
            #expect(sizes.dropLast().allSatisfy { $0 == 3 } && sizes.reduce(0, +) == whole.fired, "\(sizes)")
            #expect(try Self.shapesByStream(log) == whole.streams)
            // Each batch took the earliest due: across the streams, the fired events are in time order.
            let instants = try log.readAll(from: 1, limit: 100_000).filter { $0.actor == Principal.deadlineScheduler.id }.map { e in
                (try JSONSerialization.jsonObject(with: e.payload) as? [String: Any])?["at"] as? String ?? ""
            }
            #expect(instants.count == whole.streams.values.joined().filter { $0.contains(Principal.deadlineScheduler.id) }.count)
            #expect(instants == instants.sorted(), "\(instants)")
        }
    }

    @Test func aBatchThatIsNeverCommittedLeavesNoScheduleBehind() async throws {
        try await withTempLog { log, _ in
            let logger = Logger(label: "scheduler-test")
            let handler = CommandHandler(log: log, catalog: shippedCatalog, logger: logger)
            let scheduler = DeadlineScheduler(handler: handler, clock: FakeClock(Self.t0), logger: logger)
            let batch = handler.beginBatch()
            for s in Self.steps().prefix(5) { _ = try batch.decide(try Self.envelope(s), actor: Self.staff, at: s.3) }
            try await scheduler.fireDue(upTo: Self.t0, into: batch)
            #expect(await scheduler.nextDue() != nil, "the batch's case has deadlines")
            // Dropped: the live path must not act on the uncommitted case.
            #expect(try await scheduler.fireDue(upTo: Self.t0.addingTimeInterval(86_400)).isEmpty)
            #expect(await scheduler.nextDue() == nil)
            #expect(try log.head().position == 0)
        }
    }
}
