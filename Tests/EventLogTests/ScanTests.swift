import Foundation
import LMDB
import Testing
@testable import EventLog

@Suite("Event log: the scan API (record views, ranges, chunks, partitions, page budget)")
struct ScanTests {
    /// A log of `count` events over 3 streams, each with every envelope field set.
    func makeLog(_ count: Int, payloadBytes: Int = 20) async throws -> EventLog {
        let log = try openLog(temporaryDataDir())
        let text = String(repeating: "x", count: payloadBytes)
        var appends: [StreamAppend] = []
        for i in 0..<count {
            var e = NewEvent(type: "t\(i % 5)", actor: "actor-\(i)", payload: Data("{\"i\":\(i),\"text\":\"\(text)\"}".utf8))
            e.correlationId = i % 2 == 0 ? "corr-\(i)" : nil
            e.causationId = i % 3 == 0 ? "cause-\(i)" : nil
            e.metadata = Data("{\"channel\":\"portal\"}".utf8)
            e.schemaVersion = UInt32(1 + i % 2)
            appends.append(StreamAppend(stream: "s-\(i % 3)", events: [e]))
            if appends.count == 500 {
                _ = try await log.append(appends)
                appends.removeAll()
            }
        }
        if !appends.isEmpty { _ = try await log.append(appends) }
        return log
    }

    /// Every position a scan visits.
    func positions(_ log: EventLog, _ range: ClosedRange<UInt64>, chunk: Int) throws -> [UInt64] {
        var out: [UInt64] = []
        try log.scan(positions: range, chunk: chunk) { out.append($0.position) }
        return out
    }

    @Test("a view's fields and its decoded copy equal what readAll and event(at:) return")
    func viewsMatchDecodedEvents() async throws {
        let log = try await makeLog(40)
        defer { log.close() }
        let read = try log.readAll(from: 1, limit: 100)
        var seen: [RecordedEvent] = []
        try log.scan(positions: 1...40) { record in
            let e = record.decoded()
            #expect(record.position == e.position && record.version == e.version && record.id == e.id)
            #expect(record.stream == e.stream && record.type == e.type && record.actor == e.actor)
            #expect(record.correlationId == e.correlationId && record.causationId == e.causationId)
            #expect(Data(record.metadata) == e.metadata && Data(record.payload) == e.payload && record.hash == e.hash)
            #expect(record.schemaVersion == e.schemaVersion && record.recordedAtMicros == e.recordedAtMicros)
            #expect(record.streamHasPrefix("s-") && !record.streamHasPrefix("s-x") && !record.streamHasPrefix("s-0123456789"))
            seen.append(e)
        }
        #expect(seen == read)
        #expect(try log.event(at: 7) == read[6])
    }

    @Test("ranges: from, through, beyond the head, empty; chunk boundaries neither skip nor repeat a record",
          arguments: [1, 2, 3, 7, 64, 100, 10_000])
    func rangesAndChunks(chunk: Int) async throws {
        let log = try await makeLog(100)
        defer { log.close() }
        #expect(try positions(log, 1...100, chunk: chunk) == Array(1...100))
        #expect(try positions(log, 0...UInt64.max, chunk: chunk) == Array(1...100))
        #expect(try positions(log, 37...64, chunk: chunk) == Array(37...64))
        #expect(try positions(log, 64...64, chunk: chunk) == [64])
        #expect(try positions(log, 90...500, chunk: chunk) == Array(90...100))
        #expect(try positions(log, 101...500, chunk: chunk).isEmpty)
        #expect(try log.scan(from: 50, through: 49, chunk: chunk) { _ in Issue.record("visited a record of an empty range") } == nil)
        #expect(try log.scan(from: 99, chunk: chunk) { _ in } == 100)
    }

    @Test("each chunk is one read transaction, and the body may throw to stop the scan")
    func chunksAndStopping() async throws {
        let log = try await makeLog(30)
        defer { log.close() }
        struct Stop: Error {}
        var visited: [UInt64] = []
        do {
            try log.scan(positions: 1...30, chunk: 4) { record in
                if record.position == 11 { throw Stop() }
                visited.append(record.position)
            }
            Issue.record("the scan did not stop")
        } catch is Stop {
        }
        #expect(visited == Array(1...10))
        // A scan to the end sees what was appended before it reached the end.
        _ = try await log.append(to: "late", events: [event()])
        var count = 0
        try log.scan(from: 1, chunk: 7) { _ in count += 1 }
        #expect(count == 31)
    }

    @Test("partitions cover a range exactly once, in order, in nearly equal parts",
          arguments: [1...1, 1...2, 1...10, 5...17, 1...1_000_003, (UInt64.max - 10)...UInt64.max, 1...UInt64.max] as [ClosedRange<UInt64>])
    func partitionsCoverExactlyOnce(range: ClosedRange<UInt64>) {
        for count in [1, 2, 3, 4, 7, 16, 100] {
            let parts = EventLog.partitions(of: range, count: count)
            let size = range.upperBound - range.lowerBound
            #expect(UInt64(parts.count) == min(UInt64(count) - 1, size) + 1)
            #expect(parts.first?.lowerBound == range.lowerBound && parts.last?.upperBound == range.upperBound)
            for (a, b) in zip(parts, parts.dropFirst()) { #expect(a.upperBound &+ 1 == b.lowerBound) }
            let sizes = parts.map { $0.upperBound - $0.lowerBound }
            if let low = sizes.min(), let high = sizes.max() { #expect(high - low <= 1) }
        }
        #expect(EventLog.partitions(of: 0...9, count: 2) == [1...5, 6...9])
        #expect(EventLog.partitions(of: 0...0, count: 2).isEmpty)
    }

    @Test("scans of the partitions of the log visit every record exactly once, on two threads")
    func partitionedScans() async throws {
        let log = try await makeLog(1_001)
        defer { log.close() }
        let parts = try log.partitions(count: 2)
        #expect(parts == [1...501, 502...1_001])
        #expect(try log.partitions(count: 4).count == 4)
        let lists = Array(repeating: [UInt64](), count: parts.count)
        let results = ResultsBox(lists)
        DispatchQueue.concurrentPerform(iterations: parts.count) { i in
            var mine: [UInt64] = []
            do { try log.scan(positions: parts[i], chunk: 100) { mine.append($0.position) } } catch { Issue.record("\(error)") }
            results.set(i, mine)
        }
        #expect(results.all.flatMap { $0 } == Array(1...1_001))
        let empty = try openLog(temporaryDataDir())
        defer { empty.close() }
        #expect(try empty.partitions(count: 2).isEmpty)
    }

    @Test("a corrupt record stops the scan with an error naming its position, after the records before it",
          arguments: ["truncated", "trailing", "format"])
    func corruptRecordIsReportedWithItsPosition(damage: String) async throws {
        let log = try await makeLog(20)
        defer { log.close() }
        try log.writer.performAndWait { ctx in
            let db = try ctx.openDatabase(named: EventLog.DatabaseName.events, create: false)
            try ctx.transaction { txn in
                let key = RecordCoding.be64(13)
                var value = Array(try #require(try txn.get(db, key: key)))
                switch damage {
                case "truncated": value.removeLast(3)
                case "trailing": value += [0, 0]
                default: value[32] = 2
                }
                try txn.put(db, key: key, value: value)
            }
        }
        var visited: [UInt64] = []
        do {
            try log.scan(positions: 1...20, chunk: 5) { visited.append($0.position) }
            Issue.record("the scan read a corrupt record")
        } catch let error as EventLogError {
            #expect(error.code == .corrupt && error.position == 13)
            switch damage {
            case "truncated": #expect(error.message == "record at position 13 is truncated or malformed")
            case "trailing": #expect(error.message == "record at position 13 has 2 trailing bytes")
            default: #expect(error.message == "record has format 2, expected 1")
            }
        }
        #expect(visited == Array(1...12))
        #expect(throws: EventLogError.self) { try log.readAll(from: 10, limit: 10) }
        #expect(try log.readAll(from: 14, limit: 10).count == 7)
        // Verification names it too, with the record's own message.
        let report = try log.verify()
        #expect(report.problems.contains { $0.position == 13 && $0.kind == "undecodable" })
    }

    @Test("the page budget: a bulk scan drops the data file's mappings above it, an unlimited one keeps them; a short pass releases only per its live interval")
    func budgetReleasesMappedPages() async throws {
        // About 8 MiB of records.
        let log = try await makeLog(2_000, payloadBytes: 4_000)
        defer { log.close() }
        var mapped: [Int] = []
        for budget in [MappedPageBudget.unlimited, MappedPageBudget(residentBytes: 0, bulkRecords: 100)] {
            log.environment.releaseMappedPages()
            var touched = 0
            try log.scan(positions: 1...2_000, chunk: 250, budget: budget) { record in
                let p = record.payload
                for o in stride(from: 0, to: p.count, by: 1_024) { touched &+= Int(p[o]) }
            }
            #expect(touched > 0)
            mapped.append(try #require(log.environment.residentMappedBytes()))
        }
        #expect(mapped[0] > 6 << 20, "\(mapped[0]) bytes of the data file mapped after reading 8 MiB")
        #expect(mapped[1] < 2 << 20, "\(mapped[1]) bytes still mapped with a budget of 0 (\(mapped[0]) without)")

        // Short passes (under bulkRecords): nothing without a live interval; at most one per interval with one.
        let short = MappedPageBudget(residentBytes: 0, bulkRecords: 1_000)
        #expect(!log.relinquishMappedPages(afterReading: 10, budget: short))
        let live = MappedPageBudget(residentBytes: 0, bulkRecords: 1_000, liveInterval: .seconds(60))
        #expect(log.relinquishMappedPages(afterReading: 1_000, budget: live))  // bulk: releases, and starts the interval
        #expect(!log.relinquishMappedPages(afterReading: 10, budget: live))
        #expect(log.relinquishMappedPages(afterReading: 10, budget: MappedPageBudget(residentBytes: 0, bulkRecords: 1_000, liveInterval: .zero)))
        #expect(!log.relinquishMappedPages(afterReading: 1_000_000, budget: .unlimited))
        #expect(!log.relinquishMappedPages(afterReading: 0, budget: .none))
    }
}

/// One slot per thread of a `concurrentPerform`.
///
/// `@unchecked Sendable`: every access holds `lock`.
private final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lists: [[UInt64]]
    init(_ lists: [[UInt64]]) { self.lists = lists }
    func set(_ i: Int, _ list: [UInt64]) { lock.withLock { lists[i] = list } }
    var all: [[UInt64]] { lock.withLock { lists } }
}
