import EventLog
import Foundation
import LMDB
import Testing
@testable import Projections

@Suite struct RunnerTests {
    func append(_ log: EventLog, _ stream: String, _ type: String, count: Int = 1) async throws {
        let events = (0..<count).map { _ in NewEvent(type: type, payload: Data("{}".utf8)) }
        _ = try await log.append(to: stream, events: events)
    }

    @Test func catchUpThenLiveWithCheckpointAndLag() async throws {
        try await withTempLog { log, _ in
            try await append(log, "s1", "a", count: 10)
            try await append(log, "s2", "b", count: 5)
            try await append(log, "s2", "ignored", count: 3)
            let runner = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger)
            #expect(try runner.status("counting").lag == 18)
            try await runner.catchUp(batchSize: 4)
            let s = try runner.status("counting")
            #expect(s.checkpoint == 18 && s.lag == 0 && s.slot == "a")
            #expect(try dump(runner, "counting").map { String(decoding: $0.0, as: UTF8.self) } == ["s1", "s2"])

            let task = Task { try await runner.run() }
            try await append(log, "s1", "a", count: 2)
            // A bound, not a speed check: it returns as soon as position 20 is projected. It is
            // generous because blocking CLI tests can hold the 2-thread cooperative pool for a while.
            try await runner.waitUntil(position: 20, timeout: .seconds(120))
            let rows = try dump(runner, "counting")
            #expect(rows[0].1 == Keys.be64(12))
            task.cancel()
        }
    }

    @Test func restartResumesFromCheckpointExactlyOnce() async throws {
        try await withTempLog { log, _ in
            try await append(log, "s1", "a", count: 7)
            do {
                let runner = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger)
                try await runner.catchUp(batchSize: 3)
            }
            try await append(log, "s1", "a", count: 3)
            let runner = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger)
            #expect(try runner.status("counting").checkpoint == 7)
            try await runner.catchUp()
            #expect(try dump(runner, "counting")[0].1 == Keys.be64(10))
        }
    }

    @Test func failingHandlerStopsProjectionNamingPosition() async throws {
        try await withTempLog { log, _ in
            try await append(log, "s1", "a", count: 3)
            try await append(log, "s1", "boom")
            try await append(log, "s1", "a")
            let runner = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger)
            let error = await #expect(throws: ProjectionError.self) { try await runner.catchUp(batchSize: 2) }
            #expect(error?.position == 4)
            #expect(error?.message.contains("log position 4") == true)
            let s = try runner.status("counting")
            #expect(s.checkpoint == 2)  // the batch holding position 4 was not committed
            #expect(s.failure != nil)
            await #expect(throws: ProjectionError.self) { try await runner.waitUntil(position: 5, timeout: .milliseconds(50)) }
        }
    }

    @Test("a projection that fails stops alone: the others fold on, nothing of its failed batch is kept")
    func failingProjectionStopsAlone() async throws {
        try await withTempLog { log, _ in
            try await append(log, "s1", "a", count: 3)
            try await append(log, "s1", "boom")
            try await append(log, "s1", "a")
            try await append(log, "s2", "b", count: 2)
            let runner = try ProjectionRunner(
                log: log, projections: [CountingProjection(), CountingProjection(name: "steady", explodes: false)], logger: testLogger)
            let error = await #expect(throws: ProjectionError.self) { try await runner.catchUp(batchSize: 2) }
            #expect(error?.projection == "counting" && error?.position == 4)
            let failed = try runner.status("counting")
            #expect(failed.checkpoint == 2 && failed.failure != nil)
            #expect(try dump(runner, "counting").map { String(decoding: $0.0, as: UTF8.self) } == ["s1"])
            #expect(try dump(runner, "counting")[0].1 == Keys.be64(2))
            let steady = try runner.status("steady")
            #expect(steady.checkpoint == 7 && steady.lag == 0 && steady.failure == nil)
            #expect(try dump(runner, "steady").map(\.1) == [Keys.be64(4), Keys.be64(2)])
            // Live steps go on for the projection that did not fail.
            try await append(log, "s2", "b")
            #expect(try await runner.step())
            #expect(try runner.status("steady").checkpoint == 8)
            #expect(try dump(runner, "steady")[1].1 == Keys.be64(3))
            #expect(try runner.status("counting").checkpoint == 2)
        }
    }

    @Test("a live step prepared off the writer thread is dropped when the checkpoint moved meanwhile: nothing goes back")
    func stalePreparedStepIsNotApplied() async throws {
        try await withTempLog { log, _ in
            var history = SyntheticHistory()
            history.cases = 30
            history.seed = 5
            try await appendAll(log, try history.appends(catalog: shippedCatalog))
            let projection = CaseProjection(catalog: shippedCatalog)
            let runner = try ProjectionRunner(log: log, projections: [projection], logger: testLogger)
            let target = ProjectionRunner.StepTarget(log: runner.log, checkpoints: runner.checkpoints, key: Array("cases".utf8),
                                                     tables: runner.entries[0].tables, limit: 50)
            let prepared = try log.environment.read { txn in try ProjectionRunner.prepareStep(projection, txn: txn, target: target) }
            #expect(prepared.from.position == 0 && prepared.to == 50 && prepared.writes != nil)
            try await runner.catchUp()  // another step gets there first, and further
            let head = try log.head().position
            let tables = try dump(runner, "cases")
            let applied = try log.writer.performAndWait { context in
                try context.transaction { txn in
                    try ProjectionRunner.applyPrepared(prepared, txn: txn, target: target, name: "cases", formatVersion: projection.formatVersion)
                }
            }
            #expect(applied == nil)
            #expect(try runner.readCheckpoint(key: Array("cases".utf8)).position == head)
            #expect(try dump(runner, "cases").elementsEqual(tables) { $0.0 == $1.0 && $0.1 == $1.1 })
        }
    }

    @Test("a catch-up over more of the log than the budget leaves the data file's pages unmapped; live steps release at most once per interval, so queries keep their pages in between")
    func catchUpReleasesMappedPagesAboveItsBudget() async throws {
        try await withTempLog { log, _ in
            // 40 MiB of events: each 128 KiB payload lies on overflow pages the step reads.
            let payload = Data(("{\"text\":\"" + String(repeating: "x", count: 128 << 10) + "\"}").utf8)
            func appendLarge() async throws {
                for _ in 0..<8 {
                    _ = try await log.append(to: "s1", events: (0..<40).map { _ in NewEvent(type: "a", payload: payload) })
                }
            }
            try await appendLarge()
            log.environment.releaseMappedPages()
            // Within the budget (here: none), every page read stays mapped: the case the budget is for.
            let keeping = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger, residentFileBudget: .max)
            try await keeping.catchUp(batchSize: 64)
            let kept = try #require(log.environment.residentMappedBytes())
            #expect(kept > 30 << 20, "\(kept) bytes of the data file mapped after reading 40 MiB")

            try await appendLarge()
            log.environment.releaseMappedPages()
            let interval = Duration.seconds(1)
            let releasing = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger, residentFileBudget: 0,
                                                 liveReleaseInterval: interval)
            #expect(try releasing.status("counting").lag == 320)
            let clock = ContinuousClock()
            try await releasing.catchUp(batchSize: 64)
            let released = clock.now
            #expect(try releasing.status("counting").lag == 0)
            #expect(try dump(releasing, "counting")[0].1 == Keys.be64(640))
            let left = try #require(log.environment.residentMappedBytes())
            #expect(left < 4 << 20, "\(left) bytes of the data file still mapped after the catch-up")

            // What queries map (here: every payload read) ...
            func query() throws -> Int {
                var large = 0
                try log.scan(from: 1, chunk: 64, budget: .unlimited) { record in
                    let value = record.payload
                    var touched = 0
                    for offset in stride(from: 0, to: value.count, by: 4_096) { touched &+= Int(value[offset]) }
                    if value.count > 128 << 10 && touched > 0 { large += 1 }
                }
                return large
            }
            func smallStep(_ n: Int) async throws {
                _ = try await log.append(to: "s2", events: [NewEvent(type: "a", payload: Data("{\"n\":\(n)}".utf8))])
                #expect(try await releasing.step(batchSize: 512))
                #expect(try releasing.status("counting").lag == 0)
            }
            #expect(try query() == 640)
            let queried = try #require(log.environment.residentMappedBytes())
            #expect(queried > 60 << 20, "\(queried) bytes of the data file mapped after reading 80 MiB")
            // ... stays mapped through a live step within the interval of the last release ...
            try await smallStep(1)
            let afterSmall = try #require(log.environment.residentMappedBytes())
            if clock.now - released < interval {
                #expect(afterSmall > 60 << 20, "\(afterSmall) bytes of the data file still mapped after a one-event live step (\(queried) before)")
            }
            // ... and is released by the first step once the interval has passed.
            try await Task.sleep(for: interval)
            try await smallStep(2)
            let afterInterval = try #require(log.environment.residentMappedBytes())
            #expect(afterInterval < 4 << 20, "\(afterInterval) bytes of the data file still mapped after a live step past the interval")
            // A live step folding a backlog releases at once.
            _ = try query()
            try await log.append(to: "s3", events: (0..<Int(ProjectionRunner.bulkStepEvents)).map { i in NewEvent(type: "a", payload: Data("{\"n\":\(i)}".utf8)) })
            #expect(try await releasing.step(batchSize: 8_192))
            let afterBacklog = try #require(log.environment.residentMappedBytes())
            #expect(afterBacklog < 4 << 20, "\(afterBacklog) bytes of the data file still mapped after a live step over a backlog")
        }
    }

    @Test func rebuildSwapsSlotsAndMatchesLive() async throws {
        try await withTempLog { log, _ in
            for i in 0..<20 { try await append(log, "s\(i % 3)", i % 2 == 0 ? "a" : "b", count: 5) }
            let runner = try ProjectionRunner(log: log, projections: [CountingProjection()], logger: testLogger)
            try await runner.catchUp(batchSize: 7)
            let live = try dump(runner, "counting")
            try await runner.rebuild("counting", batchSize: 11)
            let s = try runner.status("counting")
            #expect(s.slot == "b" && s.checkpoint == 100)
            let rebuilt = try dump(runner, "counting")
            #expect(live.map(\.0) == rebuilt.map(\.0) && live.map(\.1) == rebuilt.map(\.1))
            try await runner.rebuild("counting")
            #expect(try runner.status("counting").slot == "a")
            await #expect(throws: ProjectionError.self) { try await runner.rebuild("nope") }
        }
    }
}

@Suite struct ProjectionFormatTests {
    /// Tables written by an older layout (here: `cases` before its reported-by index) must not
    /// be served as if they were current: the runner rebuilds them before folding further.
    @Test func olderLayoutIsRebuiltWhenTheRunnerStarts() async throws {
        try await withTempLog { log, _ in
            var history = SyntheticHistory()
            history.cases = 80
            try await appendAll(log, try history.appends(catalog: shippedCatalog))
            let first = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await first.catchUp()
            #expect(try first.storedFormat("cases") == CaseProjection(catalog: shippedCatalog).formatVersion)
            let rows = try CaseQueries(runner: first).allRows()
            let contact = try #require(rows.first?.reportedBy)
            var mine = CaseQuery()
            mine.reportedBy = contact
            mine.limit = 1_000
            let expected = try CaseQueries(runner: first).list(mine).rows
            #expect(!expected.isEmpty)

            // Make the tables look like version 1: no format key, no reported-by index entries.
            let cps = first.checkpoints
            let table = first.entries[0].tables.a
            try await log.writer.perform { context in
                try context.transaction { txn in
                    _ = try txn.delete(cps, key: ProjectionRunner.formatKey("cases"))
                    var doomed: [[UInt8]] = []
                    try txn.withCursor(table) { cursor in
                        var e = try cursor.get(.setRange, key: [CaseKeys.indexTag, CaseIndex.Dimension.reportedBy.rawValue])
                        while let x = e, x.key.count > 1, x.key[0] == CaseKeys.indexTag, x.key[1] == CaseIndex.Dimension.reportedBy.rawValue {
                            doomed.append(Array(x.key))
                            e = try cursor.get(.next)
                        }
                    }
                    for key in doomed { _ = try txn.delete(table, key: key) }
                }
            }
            #expect(try first.storedFormat("cases") == 1)
            #expect(try CaseQueries(runner: first).list(mine).rows.isEmpty)

            let second = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await second.catchUp()
            #expect(try second.status("cases").slot == "b")
            #expect(try second.storedFormat("cases") == CaseProjection(catalog: shippedCatalog).formatVersion)
            #expect(try CaseQueries(runner: second).list(mine).rows == expected)
        }
    }
}
