import CaseDomain
import EventLog
import Foundation
import Testing
@testable import Projections

@Suite struct RebuildEquivalenceTests {
    /// R9.4: thousands of cases through every command kind with time advancing, projected
    /// live (background runner, appends arriving in random chunks), then rebuilt from zero:
    /// the rebuilt tables equal the live ones byte for byte.
    @Test func rebuiltTablesEqualLiveTablesByteForByte() async throws {
        var history = SyntheticHistory()
        history.cases = 2_000
        history.commandsPerCase = 10
        history.incidents = 25
        history.seed = 2026
        let appends = try history.appends(catalog: shippedCatalog)
        try await withTempLog { log, _ in
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog), IncidentProjection()],
                                              logger: testLogger)
            let live = Task { try await runner.run(batchSize: 97) }
            var rng = SplitMix64(seed: 9)
            var i = 0
            var events = 0
            while i < appends.count {
                let n = 1 + rng.next(400)
                let part = Array(appends[i..<min(i + n, appends.count)])
                _ = try await log.append(part)
                events += part.reduce(0) { $0 + $1.events.count }
                i += n
                if rng.next(4) == 0 { try await runner.waitUntil(position: try log.head().position, timeout: .seconds(60)) }
            }
            let head = try log.head().position
            try await runner.waitUntil(position: head, timeout: .seconds(120))
            live.cancel()
            #expect(events > 20_000)
            for name in ["cases", "incidents"] {
                let liveTables = try dump(runner, name)
                #expect(liveTables.count > 0)
                try await runner.rebuild(name, batchSize: 5_000)
                let status = try runner.status(name)
                #expect(status.slot == "b" && status.checkpoint == head)
                let rebuilt = try dump(runner, name)
                #expect(rebuilt.count == liveTables.count)
                let firstDifference = liveTables.indices.first { j in j >= rebuilt.count || liveTables[j].0 != rebuilt[j].0 || liveTables[j].1 != rebuilt[j].1 }
                if let j = firstDifference {
                    let a = String(decoding: liveTables[j].1, as: UTF8.self), b = String(decoding: rebuilt[j].1, as: UTF8.self)
                    let k = zip(a, b).prefix { $0 == $1 }.count
                    Issue.record("\(name) differs at entry \(j) key \(String(decoding: liveTables[j].0, as: UTF8.self)): live …\(a.dropFirst(max(0, k - 150)).prefix(300)) rebuilt …\(b.dropFirst(max(0, k - 150)).prefix(300))")
                }
            }
            // Rows keep the invariants a desk relies on.
            let rows = try CaseQueries(runner: runner).allRows()
            #expect(rows.count == 2_000)
            #expect(rows.contains { $0.reopenCount > 0 } && rows.contains { $0.closeReason == "auto-closed" })
            #expect(rows.allSatisfy { $0.lastUpdatedAt >= $0.createdAt })
        }
    }
}
