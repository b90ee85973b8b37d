import Foundation
import LMDB
import Testing
@testable import Projections

/// Long values are stored in pieces that stay on B-tree leaves (schemas/storage.md "Long
/// values"), and every reader gets them back whole.
@Suite struct ValuePiecesTests {
    /// Values of every length around the piece boundaries, under keys of several lengths,
    /// written through the real LMDB: each reads back whole, no entry exceeds the leaf
    /// budget, the table has no overflow page, and a scan sees each value once, joined, with
    /// its neighbours untouched.
    @Test func longValuesReadBackWholeAndLeaveNoOverflowPages() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pieces-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try Environment(path: dir)
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "t") }

        var expected: [[UInt8]: [UInt8]] = [:]
        var puts: [(key: [UInt8], value: [UInt8])] = []
        for keyLength in [2, 40, 300] {
            let size = ValuePieces.pieceBytes(keyCount: keyLength)
            for (n, length) in [0, 1, size - 1, size, size + 1, 2 * size - 1, 2 * size, 2 * size + 1, 7 * size + 5, 40_000].enumerated() {
                var key: [UInt8] = [0x02] + Array(repeating: UInt8(ascii: "a") + UInt8(n), count: keyLength - 1)
                key[key.count - 1] = UInt8(ascii: "0") + UInt8(n % 10)
                let value = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) }
                expected[key] = value
                try ValuePieces.append(key: key, value: value, to: &puts)
            }
        }
        // A neighbour on each side of the range, with a short value.
        puts.append(([0x01], [1]))
        puts.append(([0x03], [3]))
        #expect(puts.allSatisfy { $0.key.count + $0.value.count <= ValuePieces.leafBudget })
        let entries = puts
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in for (k, v) in entries { try txn.put(db, key: k, value: v) } }
        }
        try env.read { txn in
            #expect(try txn.statistics(db).overflowPages == 0)
            for (key, value) in expected {
                let read = try ValuePieces.withValue(txn, db, key: key) { bytes, pieces in (Array(bytes), pieces) }
                #expect(read?.0 == value, "value of \(value.count) bytes under a \(key.count)-byte key")
                #expect(read?.1 == ValuePieces.pieceCount(keyCount: key.count, valueCount: value.count))
                let continuations = try ValuePieces.continuationKeys(txn, db, key: key)
                #expect(continuations.count == (read?.1 ?? 0) - 1)
            }
            #expect(try ValuePieces.withValue(txn, db, key: [0x02, 0x7A]) { _, _ in true } == nil)
            let scanned = try txn.withCursor(db) { cursor in
                try ValuePieces.scan(&cursor, prefix: [0x02], limit: .max) { (Array($0), Array($1)) }
            }
            #expect(scanned.count == expected.count)
            #expect(scanned.allSatisfy { expected[$0.0] == $0.1 })
            #expect(zip(scanned, scanned.dropFirst()).allSatisfy { Keys.precedes($0.0, $1.0) })
            let limited = try txn.withCursor(db) { cursor in
                try ValuePieces.scan(&cursor, prefix: [0x02], limit: 3) { (Array($0), Array($1)) }
            }
            #expect(limited.map(\.0) == scanned.prefix(3).map(\.0))
        }
    }

    /// The open format: storage.md states the sizes the code cuts at.
    @Test func storageDocumentStatesThePieceSizes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("schemas/storage.md"), encoding: .utf8)
        func spaced(_ n: Int) -> String { n >= 1_000 ? "\(n / 1_000) \(String(n % 1_000).leftPadded(to: 3))" : "\(n)" }
        #expect(doc.contains("*p* = \(spaced(ValuePieces.pieceBytes(keyCount: 0))) − *n* bytes"))
        #expect(doc.contains("never exceed \(spaced(ValuePieces.leafBudget)) bytes"))
        #expect(doc.contains("*k* (2 bytes, big-endian)") && ValuePieces.continuationKey([7], 258) == [7, 0, 1, 2])
    }

    /// The rebuild cuts the chunks it appends the same way: the chunk's entries are the
    /// pieces ``ValuePieces/append(key:value:to:)`` makes, in key order, and entries of
    /// tags that are never cut (index entries) pass as they are.
    @Test func rebuildChunksAreCutLikeLiveWrites() throws {
        var chunk = SortedChunk()
        var expected: [(key: [UInt8], value: [UInt8])] = []
        let entries: [([UInt8], Int)] = [([CaseKeys.stateTag] + Array("C1".utf8), 5_000), ([CaseKeys.stateTag] + Array("C2".utf8), 10),
                                         ([CaseKeys.rowTag] + Array("C1".utf8), 2_500), ([CaseKeys.indexTag, 0x61], 3_000),
                                         ([CaseKeys.surveyTag] + Array("C1".utf8) + [0] + Array("s".utf8), 4_100)]
        for (key, length) in entries {
            let value = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            key.withUnsafeBytes { k in value.withUnsafeBytes { v in chunk.append(key: k, value: v) } }
            if CaseKeys.mayBeCut(key.first) { try ValuePieces.append(key: key, value: value, to: &expected) } else { expected.append((key, value)) }
        }
        var cut: [(key: [UInt8], value: [UInt8])] = []
        try CaseProjection.cuttingLongValues(chunk).forEach { k, v in cut.append((Array(k), Array(v))) }
        #expect(cut.count == expected.count && cut.count > entries.count)
        #expect(zip(cut, expected).allSatisfy { $0.key == $1.key && $0.value == $1.value })
        #expect(zip(cut, cut.dropFirst()).allSatisfy { Keys.precedes($0.key, $1.key) })
        // The index entry (never cut) is kept whole even though it is long.
        #expect(cut.contains { $0.key == [CaseKeys.indexTag, 0x61] && $0.value.count == 3_000 })
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
