import Foundation
import LMDB
import Testing
@testable import EventLog

@Suite("Event log: verification (R9.3)")
struct VerificationTests {
    /// A log of 30 events over 4 streams.
    func makeLog() async throws -> EventLog {
        let log = try openLog(temporaryDataDir())
        for i in 0..<30 {
            _ = try await log.append(to: "case-\(i % 4)", events: [event("case-commented", "{\"i\":\(i),\"text\":\"hello\"}")])
        }
        return log
    }

    /// Replaces the raw value at `key` of database `name` through the log's own writer.
    func overwrite(_ log: EventLog, database name: String, key: [UInt8], _ change: @escaping @Sendable ([UInt8]) -> [UInt8]?) throws {
        try log.writer.performAndWait { ctx in
            let db = try ctx.openDatabase(named: name, create: false)
            try ctx.transaction { txn in
                let old = try #require(try txn.get(db, key: key)).map { $0 }
                if let new = change(Array(old)) {
                    try txn.put(db, key: key, value: new)
                } else {
                    try txn.delete(db, key: key)
                }
            }
        }
    }

    /// Verifies `log` on one thread in one segment, and cut into 2, 3, 7 and 30 segments on
    /// two threads (with small read transactions), expects every run to report the same
    /// problems in the same order, and returns the report.
    func verifyAllWays(_ log: EventLog, expecting digest: LogHead? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> VerificationReport {
        let single = try log.verify(expecting: digest, chunkSize: 65_536, segments: 1, workers: 1, progress: nil)
        for (segments, chunk) in [(2, 4), (3, 7), (7, 1), (30, 2)] {
            let split = try log.verify(expecting: digest, chunkSize: chunk, segments: segments, workers: 2, progress: nil)
            #expect(split.problems == single.problems, "\(segments) segments", sourceLocation: sourceLocation)
            #expect(split.problemCount == single.problemCount && split.head == single.head
                    && split.streamsChecked == single.streamsChecked, "\(segments) segments", sourceLocation: sourceLocation)
        }
        return single
    }

    @Test("an untouched log verifies, with its digest equal to the head")
    func cleanLog() async throws {
        let log = try await makeLog()
        defer { log.close() }
        let report = try log.verify(chunkSize: 7)
        #expect(report.ok)
        #expect(report.eventsChecked == 30 && report.streamsChecked == 4)
        #expect(report.head == (try log.head()))
        #expect(try verifyAllWays(log) == report)
    }

    @Test("altering any single stored byte of an event is detected at that event's position")
    func everyByteOfARecord() async throws {
        let log = try await makeLog()
        defer { log.close() }
        let position: UInt64 = 17
        let key = RecordCoding.be64(position)
        let length = try #require(try log.environment.read { txn in
            try txn.get(try log.environment.openExistingDatabase(named: "events"), key: key)?.count
        })
        for offset in 0..<length {
            try overwrite(log, database: "events", key: key) { bytes in
                var b = bytes
                b[offset] ^= 0x5A
                return b
            }
            let report = try verifyAllWays(log)
            #expect(!report.ok, "flipping byte \(offset) went unnoticed")
            #expect(report.firstBadPosition == position, "byte \(offset): first bad position \(String(describing: report.firstBadPosition))")
            try overwrite(log, database: "events", key: key) { bytes in
                var b = bytes
                b[offset] ^= 0x5A
                return b
            }
        }
        #expect(try log.verify().ok)
    }

    @Test("a forged record with its own hash recomputed still breaks the chain at the next event")
    func recomputedHashBreaksChain() async throws {
        let log = try await makeLog()
        defer { log.close() }
        let previous = try #require(try log.event(at: 9)).hash
        try overwrite(log, database: "events", key: RecordCoding.be64(10)) { bytes in
            var canonical = Array(bytes[32...])
            canonical[canonical.count - 3] = UInt8(ascii: "X")
            let forged = canonical.withUnsafeBytes { RecordCoding.chainHash(previous: previous, canonical: $0) }
            return forged.bytes + canonical
        }
        let report = try verifyAllWays(log)
        #expect(!report.ok)
        #expect(report.firstBadPosition == 11)
        #expect(report.problems.first?.kind == "hash-mismatch")
    }

    @Test("index damage is detected: a missing event id, a wrong stream index entry, a wrong stream head, a deleted event")
    func indexDamage() async throws {
        do {
            let log = try await makeLog()
            defer { log.close() }
            let e = try #require(try log.event(at: 5))
            try overwrite(log, database: "event_ids", key: RecordCoding.uuidBytes(e.id)) { _ in nil }
            let report = try verifyAllWays(log)
            #expect(report.firstBadPosition == 5 && report.problems.contains { $0.kind == "event-id-index" })
        }
        do {
            let log = try await makeLog()
            defer { log.close() }
            try overwrite(log, database: "stream_index", key: RecordCoding.streamIndexKey("case-1", version: 2)) { _ in RecordCoding.be64(3) }
            let report = try verifyAllWays(log)
            #expect(!report.ok && report.problems.contains { $0.kind == "stream-index" && $0.position == 10 })
        }
        do {
            let log = try await makeLog()
            defer { log.close() }
            try overwrite(log, database: "streams", key: Array("case-2".utf8)) { _ in RecordCoding.be64(1) + RecordCoding.be64(7) }
            let report = try verifyAllWays(log)
            #expect(!report.ok && report.problems.contains { $0.kind == "stream-head" })
        }
        do {
            let log = try await makeLog()
            defer { log.close() }
            try overwrite(log, database: "events", key: RecordCoding.be64(12)) { _ in nil }
            let report = try verifyAllWays(log)
            #expect(!report.ok && report.firstBadPosition == 12)
        }
    }

    @Test("a kept digest: the log extends it, and a forged digest is refused")
    func digests() async throws {
        let log = try await makeLog()
        defer { log.close() }
        let early = LogHead(position: 12, hash: try #require(try log.event(at: 12)).hash)
        _ = try await log.append(to: "later", events: [event()])
        #expect(try verifyAllWays(log, expecting: early).ok)
        let forged = LogHead(position: 12, hash: ChainHash(bytes: [UInt8](repeating: 1, count: 32)))
        let report = try verifyAllWays(log, expecting: forged)
        #expect(!report.ok && report.problems.contains { $0.kind == "digest" && $0.position == 12 })
        let beyond = try verifyAllWays(log, expecting: LogHead(position: 99, hash: early.hash))
        #expect(!beyond.ok && beyond.problems.contains { $0.kind == "digest" && $0.position == nil })
        let genesis = try verifyAllWays(log, expecting: LogHead(position: 0, hash: .genesis))
        #expect(genesis.ok)
    }

    @Test("a gap across segment boundaries is reported once, at its first missing position, whatever the segments")
    func gapAcrossSegments() async throws {
        let log = try await makeLog()
        defer { log.close() }
        for position: UInt64 in 9...22 {
            try overwrite(log, database: "events", key: RecordCoding.be64(position)) { _ in nil }
        }
        let report = try verifyAllWays(log)
        #expect(report.problems.filter { $0.kind == "gap" }.map(\.position) == [9])
        #expect(report.problems.first { $0.kind == "gap" }?.message == "expected position 9 next, found key 23")
        // The link from 8 to 23 is broken too, and the indexes still name the missing events.
        #expect(report.problems.contains { $0.kind == "hash-mismatch" && $0.position == 23 })
        #expect(report.problems.contains { $0.kind == "index-count" })
    }

    @Test("stream versions are checked across segment boundaries")
    func streamVersionAcrossSegments() async throws {
        let log = try await makeLog()
        defer { log.close() }
        // Position 21 is case-0's 5th event (version 5, after 17 at version 4); rewrite it as
        // version 7 with its own hash recomputed, so only its link to 22 and the versions break.
        let previous = try #require(try log.event(at: 20)).hash
        try overwrite(log, database: "events", key: RecordCoding.be64(21)) { bytes in
            var canonical = Array(bytes[32...])
            #expect(canonical.withUnsafeBytes { RecordCoding.readBE64($0, at: 9) } == 5)
            canonical[16] = 7
            let forged = canonical.withUnsafeBytes { RecordCoding.chainHash(previous: previous, canonical: $0) }
            return forged.bytes + canonical
        }
        let report = try verifyAllWays(log)
        let versions = report.problems.filter { $0.kind == "stream-version" }
        #expect(versions.map(\.position) == [21, 25])
        #expect(versions.first?.message == "stream case-0 has version 7 here, expected 5")
        #expect(versions.last?.message == "stream case-0 has version 6 here, expected 8")
        #expect(report.problems.contains { $0.kind == "hash-mismatch" && $0.position == 22 })
    }

    @Test("a malformed stream head is reported, not trusted")
    func malformedHead() async throws {
        let log = try await makeLog()
        defer { log.close() }
        try overwrite(log, database: "streams", key: Array("case-3".utf8)) { _ in [1, 2, 3] }
        let report = try verifyAllWays(log)
        #expect(report.problems.map(\.kind) == ["stream-head"])
        #expect(report.problems.first?.position == 28)
    }

    @Test("a stream version altered in the record and every index alike is still reported at its position")
    func versionAlteredEverywhere() async throws {
        let log = try await makeLog()
        defer { log.close() }
        // Position 29 is case-0's last event (version 7): make it version 9 in the record (hash
        // recomputed), the stream index and the head, so that the indexes agree with the log.
        let previous = try #require(try log.event(at: 28)).hash
        try overwrite(log, database: "events", key: RecordCoding.be64(29)) { bytes in
            var canonical = Array(bytes[32...])
            canonical[16] = 9
            let forged = canonical.withUnsafeBytes { RecordCoding.chainHash(previous: previous, canonical: $0) }
            return forged.bytes + canonical
        }
        try overwrite(log, database: "stream_index", key: RecordCoding.streamIndexKey("case-0", version: 7)) { _ in nil }
        try log.writer.performAndWait { ctx in
            let db = try ctx.openDatabase(named: "stream_index", create: false)
            try ctx.transaction { txn in
                try txn.put(db, key: RecordCoding.streamIndexKey("case-0", version: 9), value: RecordCoding.be64(29))
            }
        }
        try overwrite(log, database: "streams", key: Array("case-0".utf8)) { _ in RecordCoding.be64(9) + RecordCoding.be64(29) }
        let report = try verifyAllWays(log)
        #expect(report.problems.map(\.kind) == ["stream-version", "hash-mismatch"])
        #expect(report.problems.first?.position == 29)
        #expect(report.problems.first?.message == "stream case-0 has version 9 here, expected 7")
        #expect(report.problems.last?.position == 30)
    }
}
