import Audit
import CaseDomain
import EventLog
import Foundation
import Logging

/// Audit benchmarks (issue 6): replaying a 200-event case scattered through a large log
/// (target: p99 at most 2 ms) and verifying the log (target: at least 1 M events/s).
///
/// The log size is `DOCKET_BENCH_AUDIT_EVENTS` (default 5 000 000); the case's events are
/// spread evenly through it among filler events on 100 000 other streams. With
/// `DOCKET_BENCH_AUDIT_DIR`, the log is kept in that directory and reused by later runs
/// when it already holds `DOCKET_BENCH_AUDIT_EVENTS` events (for iterating on verify).
func auditSuite() -> BenchSuite {
    BenchSuite(name: "Audit") {
        let total = Int(ProcessInfo.processInfo.environment["DOCKET_BENCH_AUDIT_EVENTS"] ?? "") ?? 5_000_000
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let keptDir = ProcessInfo.processInfo.environment["DOCKET_BENCH_AUDIT_DIR"]
        let dir = keptDir ?? (NSTemporaryDirectory() + "docket-bench-audit-\(UUID().uuidString)")
        var configuration = EventLog.Configuration()
        configuration.environment.initialMapSize = 1 << 30
        // Building the fixture is not what is measured: skip the syncs (replay and verify only read).
        configuration.environment.durability = .noSync
        let log = try EventLog.open(directory: dir, configuration: configuration, logger: logger)
        defer {
            log.close()
            if keptDir == nil { try? FileManager.default.removeItem(atPath: dir) }
        }
        let history = try AuditBenchHistory.build(events: 200)
        let built = now()
        let existing = try log.head().position
        if existing != 0 && existing < UInt64(total) {
            throw BenchError("\(dir) holds \(existing) events, fewer than \(total): remove it or use another DOCKET_BENCH_AUDIT_DIR")
        }
        if existing == 0 {
            let filler = Data(("{\"at\":\"2026-03-02T09:00:00.000Z\",\"body\":\"" + String(repeating: "x", count: 160) + "\",\"by\":\"s1\"}").utf8)
            let perCaseEvent = max(1, (total - history.count) / history.count)
            var written = 0
            var next = 0
            while written < total {
                var batch: [StreamAppend] = []
                while batch.count < 5_000 && written + batch.count < total {
                    if next < history.count && (written + batch.count) % perCaseEvent == perCaseEvent - 1 {
                        batch.append(StreamAppend(stream: "case-bench", events: [history[next]]))
                        next += 1
                    } else {
                        let n = written + batch.count
                        batch.append(StreamAppend(stream: "case-filler-\(n % 100_000)", events: [NewEvent(type: "comment-added", payload: filler)]))
                    }
                }
                _ = try await log.append(batch)
                written += batch.count
            }
            if next < history.count {
                _ = try await log.append(to: "case-bench", events: Array(history[next...]))
            }
        }
        let head = try log.head()
        print(String(format: "  log: %d events (%d in case-bench) built in %.1f s", head.position, history.count, now() - built))

        let baseline = baselineSum()
        report(baseline, unit: "adds")

        let replayer = Replayer(log: log, catalog: try PolicyCatalog.shipped(), logger: logger)
        var samples: [Double] = []
        let replays = ProcessInfo.processInfo.environment["DOCKET_BENCH_AUDIT_REPLAYS"].flatMap(Int.init) ?? 1_000
        for _ in 0..<replays {
            let t0 = now()
            let replay = try replayer.replay(.case, id: "bench")
            samples.append(now() - t0)
            precondition(replay.steps.count == history.count && replay.warnings.isEmpty, "\(replay.warnings)")
        }
        print(String(format: "  replay a %d-event case in a %d-event log: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d runs)",
                     history.count, head.position, percentile(samples, 50) * 1e3, percentile(samples, 99) * 1e3,
                     (samples.max() ?? 0) * 1e3, samples.count))

        let verify = try measure("verify (chain + every index) of \(head.position) events", count: Int(head.position), repeats: 3) {
            let r = try log.verify()
            precondition(r.ok, "\(r.problems)")
        }
        report(verify, baseline: baseline, unit: "events")
    }
}

/// A benchmark set-up that cannot run.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real case history of `events` events, decided command by command.
enum AuditBenchHistory {
    static func build(events count: Int) throws -> [NewEvent] {
        let catalog = try PolicyCatalog.shipped()
        let policy = try catalog.policy(named: "concur-standard")
        let t0 = Date(timeIntervalSince1970: 1_772_442_000)
        let organisation = OrganisationDecider.fold([
            .organisationRegistered(OrganisationRegistered(organisationID: "org", name: "Org", policyName: policy.name, at: t0)),
            .contactAdded(ContactAdded(contactID: "d1", name: "D1", email: "d1@x.example", access: .designated, at: t0)),
            .contactAdded(ContactAdded(contactID: "d2", name: "D2", email: "d2@x.example", access: .designated, at: t0)),
            .organisationTransitioned(OrganisationTransitioned(by: "m1", at: t0)),
        ])
        let contact = Principal.contact("d1", organisation: "org", access: .designated)
        let staff = Principal.staff("s1", .tier1)
        let measures = CalendarMeasureProvider(calendar: { try? catalog.calendar(named: $0) })
        var state = CaseDecider.initialState
        var out: [NewEvent] = []
        var step = 0
        func run(_ command: CaseCommand, _ actor: Principal) throws {
            let now = t0.addingTimeInterval(Double(step) * 600)
            step += 1
            let context = DecisionContext(now: now, actor: actor, policy: policy, measures: measures, organisation: organisation)
            let events = try CaseDecider.decide(command, state: state, context: context)
            state = CaseDecider.fold(events, into: state)
            let metadata = Data("{\"channel\":\"portal\",\"role\":\"\(actor.role.rawValue)\"}".utf8)
            for e in events {
                let m = try DomainEvent.case(e).encoded()
                out.append(NewEvent(type: m.type, schemaVersion: UInt32(m.schemaVersion), actor: actor.id, metadata: metadata, payload: m.payload))
            }
        }
        try run(.openCase(OpenCase(
            caseID: "bench", organisationID: "org", contactID: "d1", subject: "Export fails", description: "steps", topic: "expenses",
            caseType: .support, subType: "problem", severity: "P2", region: "europe", site: "s7", product: "Expense",
            stage: .production, callMe: false, cc: [], channel: .portal)), contact)
        try run(.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), staff)
        var i = 0
        while out.count < count {
            if i % 2 == 0 {
                try run(.addComment(AddComment(commentID: "s\(i)", body: "update \(i)", visibility: .public)), staff)
            } else {
                try run(.addComment(AddComment(commentID: "c\(i)", body: "reply \(i)", visibility: .public)), contact)
            }
            i += 1
        }
        return Array(out.prefix(count))
    }
}
