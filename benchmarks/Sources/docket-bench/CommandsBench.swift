import CaseDomain
import CommandHandling
import EventLog
import Foundation
import Logging

/// Command handling throughput: load state (cached), decide, append with full sync, with
/// many concurrent clients each on its own case, against one client sending commands one
/// after another (one sync each) in the same run.
func commandsSuite() -> BenchSuite {
    BenchSuite(name: "Commands") {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let staff = Principal.staff("bench-t1", .tier1)
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        func json(_ object: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }

        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        func run(clients: Int, commandsPerClient: Int) async throws -> Measurement {
            let dir = NSTemporaryDirectory() + "docket-bench-commands-\(UUID().uuidString)"
            var configuration = EventLog.Configuration()
            configuration.environment.initialMapSize = 1 << 30
            let log = try EventLog.open(directory: dir, configuration: configuration, logger: logger)
            defer {
                log.close()
                try? FileManager.default.removeItem(atPath: dir)
            }
            let handler = CommandHandler(log: log, catalog: try PolicyCatalog.shipped(), logger: logger)
            func send(_ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = Principal.staff("mgr", .manager)) async throws {
                _ = try await handler.handle(CommandEnvelope(commandId: UUID(), type: type, streamId: stream, payload: try json(payload)),
                                             actor: actor, at: t0)
            }
            try await send("register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "timecare-se"])
            for c in ["ada", "bo"] {
                try await send("add-contact", "org-acme", ["contactID": c, "name": c, "email": "\(c)@acme.example", "access": "designated"])
            }
            try await send("transition-to-support", "org-acme", [:])
            let ada = Principal.contact("ada", organisation: "acme", access: .designated)
            for i in 0..<clients {
                try await send("open-case", "case-\(i)", [
                    "caseID": "\(i)", "organisationID": "acme", "contactID": "ada", "subject": "s", "description": "d",
                    "topic": "t", "caseType": "support", "subType": "problem", "severity": "P2", "region": "sweden",
                    "site": "x", "product": "p", "stage": "production", "callMe": false, "cc": [], "channel": "portal",
                ], as: ada)
            }
            let t = now()
            let cpu0 = cpuSeconds()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<clients {
                    group.addTask {
                        for n in 0..<commandsPerClient {
                            _ = try await handler.handle(
                                CommandEnvelope(commandId: UUID(), type: "add-comment", streamId: "case-\(i)",
                                                payload: try json(["commentID": "c\(n)", "body": "note \(n)", "visibility": "internal"])),
                                actor: staff, at: t0.addingTimeInterval(Double(n)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = now() - t
            let stats = log.statistics
            print(String(format: "    (%d clients: %llu transactions in all, %.1f events per transaction; %.0f%% CPU of 2 cores)", clients, stats.batches,
                         Double(stats.events) / Double(max(stats.batches, 1)), (cpuSeconds() - cpu0) / elapsed / 2 * 100))
            return Measurement(name: "add-comment, \(clients) concurrent clients", count: clients * commandsPerClient, seconds: elapsed)
        }
        let one = try await run(clients: 1, commandsPerClient: 500)
        report(one, unit: "commands")
        let many = try await run(clients: 64, commandsPerClient: 300)
        report(many, baseline: one, unit: "commands")
    }
}
