import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import LMDB
import Logging
import Testing
@testable import Projections

@Suite struct RebuildEquivalenceTests {
    /// R9.4: thousands of cases through every command kind with time advancing, projected
    /// live (background runner, appends arriving in random chunks), then rebuilt from zero:
    /// the rebuilt tables equal the live ones byte for byte. Six calendar versions along the
    /// way change standard days and close days (R4.9): they apply to the clocks running
    /// then, and rebuilds (also by a process that loaded none of them) derive the same rows.
    @Test func rebuiltTablesEqualLiveTablesByteForByte() async throws {
        var history = SyntheticHistory()
        history.cases = 2_000
        history.commandsPerCase = 10
        history.incidents = 25
        history.seed = 2026
        history.calendarVersions = 6
        let appends = try history.appends(catalog: shippedCatalog)
        try await withTempLog { log, _ in
            // A small rebuild working set, so the rebuild also flushes mid-way.
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog, rebuildWorkingSet: 300),
                                                                      IncidentProjection()], logger: testLogger)
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
                if name == "cases" {
                    // And a rebuild on the writer thread (events read ahead) that holds every case
                    // in memory until the end (default working set), through a second runner on
                    // the same tables (back to slot a); the first rebuilt in parallel, flushing
                    // and reading states back mid-way (working set 300). Then one in parallel by
                    // a third runner. Both start from the shipped catalog: the sequential one puts
                    // the log's versions in force as it reads them, the parallel one before it folds.
                    var slot = "b"
                    for parallel in [false, true] {
                        let fresh = LiveCatalog(shippedCatalog)
                        let other = try ProjectionRunner(log: log, projections: [CaseProjection(liveCatalog: fresh, parallelRebuild: parallel)],
                                                         logger: testLogger)
                        try await other.rebuild(name, batchSize: 3_000)
                        slot = slot == "a" ? "b" : "a"
                        #expect(try other.status(name).slot == slot)
                        #expect(try dump(other, name).elementsEqual(rebuilt, by: { $0.0 == $1.0 && $0.1 == $1.1 }), "parallel: \(parallel)")
                        #expect(try fresh.current.calendar(named: "europe").version > 1)
                    }
                    try await runner.rebuild(name, batchSize: 5_000)
                }
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

@Suite struct LongValueTests {
    /// Cases whose subjects make their rows and states longer than a B-tree leaf holds, and
    /// cross that length both ways as they change: projected live, every long value is in
    /// pieces (no overflow page, so emptying the table never reads its leaves), no piece
    /// outlives a value that got shorter (the live tables equal a rebuild's, byte for byte,
    /// in parallel with read-backs and on the writer thread), and every reader gets the
    /// whole row.
    @Test func longRowsAndStatesAreStoredInPiecesThatTrackEveryChange() async throws {
        var history = SyntheticHistory()
        history.cases = 500
        history.commandsPerCase = 10
        history.incidents = 5
        history.seed = 77
        history.longSubjects = 700
        let appends = try history.appends(catalog: shippedCatalog)
        try await withTempLog { log, _ in
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog, rebuildWorkingSet: 60)],
                                              logger: testLogger)
            let live = Task { try await runner.run(batchSize: 7) }
            // Small appends, each projected before the next: a case's values are rewritten
            // many times, growing and shrinking across a piece boundary.
            var i = 0
            var crossings = 0
            var wasCut: [[UInt8]: Bool] = [:]
            while i < appends.count {
                let part = Array(appends[i..<min(i + 3, appends.count)])
                _ = try await log.append(part)
                i += part.count
                try await runner.waitUntil(position: try log.head().position, timeout: .seconds(60))
                for a in part where a.stream.hasPrefix("case-") {
                    let key = CaseKeys.row(String(a.stream.dropFirst(5)))
                    let cut = try runner.read("cases") { txn, db in try !ValuePieces.continuationKeys(txn, db, key: key).isEmpty }
                    if let before = wasCut[key], before && !cut { crossings += 1 }
                    wasCut[key] = cut
                }
            }
            live.cancel()
            // The history must exercise what is tested: rows that went from pieces to whole.
            #expect(crossings > 0)
            func statistics(_ r: ProjectionRunner) throws -> DatabaseStatistics { try r.read("cases") { txn, db in try txn.statistics(db) } }
            #expect(try statistics(runner).overflowPages == 0)
            let liveTables = try dump(runner, "cases")
            let continuations = liveTables.filter { ($0.0.first == CaseKeys.rowTag || $0.0.first == CaseKeys.stateTag) && $0.0.dropLast(2).last == 0 }
            #expect(continuations.count > 100)
            try await runner.rebuild("cases", batchSize: 1_000)
            #expect(try statistics(runner).overflowPages == 0)
            #expect(try dump(runner, "cases").elementsEqual(liveTables, by: { $0.0 == $1.0 && $0.1 == $1.1 }))
            let sequential = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog, parallelRebuild: false)],
                                                  logger: testLogger)
            try await sequential.rebuild("cases", batchSize: 1_000)
            #expect(try dump(sequential, "cases").elementsEqual(liveTables, by: { $0.0 == $1.0 && $0.1 == $1.1 }))

            let queries = CaseQueries(runner: runner)
            let rows = try queries.allRows()
            #expect(rows.count == 500)
            #expect(rows.allSatisfy { $0.subject.utf8.count > 700 })
            let id = try #require(rows.last?.caseID)
            #expect(try queries.row(id) == rows.last)
            #expect(try queries.state(id)?.subject == rows.last?.subject)
            var query = CaseQuery()
            query.limit = 1_000
            let page = try queries.list(query)
            #expect(Set(page.rows) == Set(rows))
        }
    }
}

@Suite struct RebuildMapGrowthTests {
    /// A rebuild writes a second copy of the tables, so it is where the map most often has to
    /// grow. LMDB then retries the transaction, which must not fold the carried events twice;
    /// either way (folding on every core, or on the writer thread) the rebuilt tables equal
    /// the live ones.
    @Test(arguments: [false, true])
    func rebuildThatGrowsTheMapStillEqualsLiveTables(parallel: Bool) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proj-grow-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = EventLog.Configuration()
        config.environment.durability = .noSync
        var history = SyntheticHistory()
        history.cases = 400
        history.seed = 31
        // A map just large enough for the log and the live tables (it grows by 64 MB when
        // full): the rebuild's second copy of the tables does not fit without growing it.
        config.environment.initialMapSize = 6 << 20
        let log = try EventLog.open(directory: dir, configuration: config, logger: testLogger)
        defer { log.close() }
        try await appendAll(log, try history.appends(catalog: shippedCatalog))
        let warnings = RecordingLogs()
        let projection = CaseProjection(catalog: shippedCatalog, rebuildWorkingSet: 50_000, parallelRebuild: parallel)
        let runner = try ProjectionRunner(log: log, projections: [projection], logger: warnings.logger)
        try await runner.catchUp()
        let live = try dump(runner, "cases")
        let size = (try FileManager.default.attributesOfItem(atPath: dir + "/data.mdb")[.size] as? Int) ?? 0
        #expect(size > 3 << 20 && size <= 6 << 20, "the log and live tables take \(size) bytes")
        let mapBefore = log.environment.mapSize
        try await runner.rebuild("cases", batchSize: 1_000)
        #expect(log.environment.mapSize > mapBefore, "the map never grew during the rebuild")
        if !parallel {
            // Sequentially, the carried working set cannot survive LMDB's retry: it starts over.
            // (In parallel, the folding threads only hand finished entries to the writer, whose
            // transactions are plain puts and can simply run again.)
            let messages = warnings.lines
            let restarted = messages.contains { $0.contains("rebuild restarted") }
            #expect(restarted, "\(messages)")
        }
        let rebuilt = try dump(runner, "cases")
        #expect(rebuilt.count == live.count)
        let same = rebuilt.elementsEqual(live) { (a: ([UInt8], [UInt8]), b: ([UInt8], [UInt8])) -> Bool in a.0 == b.0 && a.1 == b.1 }
        #expect(same)
    }

    /// A live step that fills the map: LMDB's retry after growing it must run the step
    /// again, not stop the projection (both shipped projections, as `docket serve` runs them).
    @Test func liveStepsThatFillTheMapGrowItAndGoOn() async throws {
        var history = SyntheticHistory()
        history.cases = 300
        history.seed = 7
        let appends = try history.appends(catalog: shippedCatalog)
        func open(_ dir: String, mapSize: Int) throws -> EventLog {
            var config = EventLog.Configuration()
            config.environment.durability = .noSync
            config.environment.initialMapSize = mapSize
            return try EventLog.open(directory: dir, configuration: config, logger: testLogger)
        }
        // How much room the log alone takes.
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("proj-probe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: probe) }
        let logBytes: Int
        do {
            let log = try open(probe, mapSize: 64 << 20)
            defer { log.close() }
            try await appendAll(log, appends)
            logBytes = (try FileManager.default.attributesOfItem(atPath: probe + "/data.mdb")[.size] as? Int) ?? 0
        }
        // A map with room for the log and little more: the projections' tables do not fit.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proj-livegrow-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try open(dir, mapSize: logBytes + (256 << 10))
        defer { log.close() }
        let mapBefore = log.environment.mapSize
        try await appendAll(log, appends)
        try #require(log.environment.mapSize == mapBefore, "the appends alone grew the map; the test needs a tighter probe")
        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog), IncidentProjection()],
                                          logger: testLogger)
        try await runner.catchUp(batchSize: 500)
        #expect(log.environment.mapSize > mapBefore, "the map never grew while the projections caught up")
        let head = try log.head().position
        for name in ["cases", "incidents"] {
            let status = try runner.status(name)
            #expect(status.failure == nil && status.checkpoint == head, "\(name): \(status)")
        }
        let rows = try dump(runner, "cases").filter { $0.0.first == 0x02 }
        #expect(rows.count == history.cases)
    }

    /// An event the projection cannot fold stops the rebuild with that event's position,
    /// whichever thread meets it, and the live tables stay as they were.
    @Test(arguments: [false, true])
    func rebuildStopsAtAnEventItCannotFold(parallel: Bool) async throws {
        try await withTempLog { log, _ in
            var history = SyntheticHistory()
            history.cases = 60
            try await appendAll(log, try history.appends(catalog: shippedCatalog))
            let bad = try await log.append([StreamAppend(stream: "case-broken", events: [NewEvent(type: "case-opened", payload: Data("{}".utf8))])])
            try await appendAll(log, try history.appends(catalog: shippedCatalog).map { a in
                var b = a
                b.stream = a.stream.replacingOccurrences(of: "case-", with: "case-2-")
                b.expectedVersion = .any
                b.events = a.events.map { e in var n = e; n.id = UUID(); return n }
                return b
            })
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog, parallelRebuild: parallel)],
                                              logger: testLogger)
            try? await runner.catchUp()
            let live = try dump(runner, "cases")
            let position = bad.first?.positions.first
            do {
                try await runner.rebuild("cases")
                Issue.record("the rebuild went past an event it cannot fold")
            } catch let error as ProjectionError {
                #expect(error.code == .handlerFailed)
                #expect(error.position == position && position != nil, "\(error)")
                #expect(error.message.contains("case-opened"), "\(error.message)")
            }
            let after = try dump(runner, "cases")
            #expect(after.count == live.count)
            #expect(try runner.status("cases").slot == "a")
        }
    }
}
