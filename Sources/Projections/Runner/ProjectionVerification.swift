import EventLog
import Foundation
import LMDB

/// One row where a projection's live table and its re-derivation disagree.
public struct ProjectionDifference: Sendable, Hashable {
    /// The row's key (UTF-8 when it decodes as such, else hex).
    public var key: String
    /// The live value, or `nil` when the live table lacks the row.
    public var live: String?
    /// The re-derived value, or `nil` when the re-derivation lacks the row.
    public var rebuilt: String?
}

/// The result of re-deriving one projection and comparing it with the live tables (R9.4).
public struct ProjectionCheck: Sendable, Hashable {
    /// The projection.
    public var projection: String
    /// The log position both tables reflect.
    public var position: UInt64
    /// Rows compared (the larger of the two tables).
    public var rows: Int
    /// The first 100 differing rows.
    public var differences: [ProjectionDifference]
    /// How many rows differ in all.
    public var differenceCount: Int
    /// True when the tables are byte-identical.
    public var ok: Bool { differenceCount == 0 }
}

extension ProjectionRunner {
    /// Re-derives `projection` from position 1 into a scratch table (`proj.<name>.verify`)
    /// up to the live checkpoint, and compares it row by row, byte for byte, with the live
    /// table (R9.4). The live tables are not touched. Batches run as write transactions on
    /// the writer thread (like ``rebuild(_:batchSize:progress:)``); the last batch and the
    /// comparison share one write transaction, so the live checkpoint cannot move between
    /// them. The scratch table is emptied afterwards.
    public func verifyRebuild(_ projection: String, batchSize: Int = ProjectionRunner.defaultBatchSize,
                              progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) async throws -> ProjectionCheck {
        guard let e = entries.first(where: { $0.name == projection }) else { throw unknown(projection) }
        let liveKey = Array(projection.utf8)
        let scratchKey = Array((projection + "#verify").utf8)
        let cps = checkpoints
        let scratch = try await log.writer.perform { context in
            let db = try context.openDatabase(named: "proj.\(projection).verify")
            try context.transaction { txn in
                try txn.removeAll(db)
                try txn.put(cps, key: scratchKey, value: Self.encodeCheckpoint(Checkpoint(position: 0, slotB: false)))
            }
            return db
        }
        let limit = max(1, batchSize)
        let log = self.log
        /// Folds the scratch table up to the live checkpoint, at most `limit` events per call.
        @Sendable func stepToLive(_ txn: borrowing WriteTransaction) throws -> (done: UInt64, live: UInt64, finished: Bool) {
            let live = Self.decodeCheckpoint(try txn.get(cps, key: liveKey)).position
            let built = Self.decodeCheckpoint(try txn.get(cps, key: scratchKey)).position
            guard built < live else { return (built, live, true) }
            let target = StepTarget(log: log, checkpoints: cps, key: scratchKey, tables: (scratch, scratch),
                                    limit: Int(min(UInt64(limit), live - built)))
            let r = try e.step(txn, target, nil, nil, false)
            return (r.to, live, r.to == r.from || r.to >= live)
        }
        while true {
            let r = try await log.writer.perform { context in try context.transaction { txn in try stepToLive(txn) } }
            progress?(r.done, r.live)
            if r.finished { break }
        }
        let check = try await log.writer.perform { context in
            try context.transaction { txn -> ProjectionCheck in
                while true {
                    if try stepToLive(txn).finished { break }
                }
                let live = Self.decodeCheckpoint(try txn.get(cps, key: liveKey))
                let liveTable = live.slotB ? e.tables.b : e.tables.a
                var check = try Self.compare(liveTable, scratch, txn: txn)
                check.projection = projection
                check.position = live.position
                try txn.removeAll(scratch)
                _ = try txn.delete(cps, key: scratchKey)
                return check
            }
        }
        logger.info("projection verified", metadata: ["projection": "\(projection)", "differences": "\(check.differenceCount)"])
        return check
    }

    /// Walks both tables in key order and lists the rows that differ.
    static func compare(_ live: Database, _ rebuilt: Database, txn: borrowing WriteTransaction) throws -> ProjectionCheck {
        var check = ProjectionCheck(projection: "", position: 0, rows: 0, differences: [], differenceCount: 0)
        func differ(_ key: UnsafeRawBufferPointer, _ l: UnsafeRawBufferPointer?, _ r: UnsafeRawBufferPointer?) {
            check.differenceCount += 1
            if check.differences.count < 100 {
                check.differences.append(ProjectionDifference(key: readable(key), live: l.map(readable), rebuilt: r.map(readable)))
            }
        }
        try txn.withCursor(live) { a in
            try txn.withCursor(rebuilt) { b in
                var x = try a.get(.first)
                var y = try b.get(.first)
                while x != nil || y != nil {
                    check.rows += 1
                    switch (x, y) {
                    case let (l?, r?):
                        let order = lexicographic(l.key, r.key)
                        if order == 0 {
                            if !l.value.elementsEqual(r.value) { differ(l.key, l.value, r.value) }
                            x = try a.get(.next)
                            y = try b.get(.next)
                        } else if order < 0 {
                            differ(l.key, l.value, nil)
                            x = try a.get(.next)
                        } else {
                            differ(r.key, nil, r.value)
                            y = try b.get(.next)
                        }
                    case let (l?, nil):
                        differ(l.key, l.value, nil)
                        x = try a.get(.next)
                    case let (nil, r?):
                        differ(r.key, nil, r.value)
                        y = try b.get(.next)
                    case (nil, nil):
                        break
                    }
                }
            }
        }
        return check
    }
}

/// LMDB's default key order: bytewise, shorter first on a common prefix.
private func lexicographic(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// Bytes as text when they are printable UTF-8, else as hex.
private func readable(_ bytes: UnsafeRawBufferPointer) -> String {
    if let text = String(validating: bytes, as: UTF8.self), text.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\t" }) {
        return text
    }
    return bytes.map { String(format: "%02x", $0) }.joined()
}
