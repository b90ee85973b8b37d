import CaseDomain
import EventLog
import Foundation
import LMDB
import Synchronization

/// The lower bounds of a `cases` rebuild on this machine, whatever the code around them:
/// what reading and decoding the log costs on both cores, and what LMDB's one writer needs
/// to write the table a rebuild produces. A rebuild cannot start writing the table before
/// the last event is folded (the first key in order may belong to the last case touched),
/// so its wall time is at least the sum of the two.
enum RebuildFloors {
    /// Reads every record once, split by position between `threads` threads (each a
    /// contiguous part of the log, ``EventLog/partitions(of:count:)``) through the log's scan
    /// at the rebuild's page budget, and, when `decode` is set, decodes every case event's
    /// payload with the generated codec (nothing folded, nothing written). Returns the case
    /// events seen.
    static func readOnce(_ log: EventLog, head: UInt64, threads: Int, decode: Bool) throws -> Int {
        guard head > 0 else { return 0 }
        let parts = EventLog.partitions(of: 1...head, count: threads)
        let results = Mutex<[Result<Int, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: parts.count) { index in
            let result = Result { () throws -> Int in
                var seen = 0
                try log.scan(positions: parts[index], chunk: 2_048, budget: .rebuild) { record in
                    guard record.streamHasPrefix("case-") else { return }
                    seen += 1
                    guard decode else { return }
                    _ = try CaseEvent.decode(type: record.type, schemaVersion: Int(record.schemaVersion), bytes: record.payload)
                }
                return seen
            }
            results.withLock { $0.append(result) }
        }
        return try results.withLock { $0 }.reduce(0) { try $0 + $1.get() }
    }

    /// The entries of the fuller slot of the `cases` projection in `environment`, in key
    /// order, as `key length ‖ value length ‖ key ‖ value` records in one buffer.
    static func casesTable(_ log: EventLog) throws -> (bytes: [UInt8], entries: Int) {
        let environment = log.environment
        var best: (bytes: [UInt8], entries: Int) = ([], 0)
        for name in ["proj.cases.a", "proj.cases.b"] {
            let db = try environment.openExistingDatabase(named: name)
            var out: [UInt8] = []
            var count = 0
            try environment.read { txn in
                try txn.withCursor(db) { cursor in
                    var entry = try cursor.get(.first)
                    while let e = entry {
                        withUnsafeBytes(of: UInt32(e.key.count)) { out.append(contentsOf: $0) }
                        withUnsafeBytes(of: UInt32(e.value.count)) { out.append(contentsOf: $0) }
                        out.append(contentsOf: e.key)
                        out.append(contentsOf: e.value)
                        count += 1
                        entry = try cursor.get(.next)
                    }
                }
            }
            if count > best.entries { best = (out, count) }
            log.relinquishMappedPages(afterReading: .max, budget: .none)
        }
        return best
    }

    /// Appends `table` (from ``casesTable(_:)``) to a fresh database of a fresh environment
    /// in `directory`, in transactions of about 8 MB as a rebuild does (`MDB_APPEND`, with
    /// `durability`); returns the seconds the writer took.
    static func appendTable(_ table: [UInt8], directory: String, durability: Durability) throws -> Double {
        var options = EnvironmentOptions()
        options.durability = durability
        options.initialMapSize = 8 << 30
        let environment = try Environment(path: directory, options: options)
        let writer = Writer(environment: environment)
        defer { writer.shutdown() }
        let start = Date()
        try table.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            let whole = UnsafeRawBufferPointer(start: all.baseAddress, count: all.count)
            var from = 0
            while from < whole.count {
                let begin = from
                var end = from
                while end < whole.count && end - begin < 8 << 20 {
                    let k = Int(whole.loadUnaligned(fromByteOffset: end, as: UInt32.self))
                    let v = Int(whole.loadUnaligned(fromByteOffset: end + 4, as: UInt32.self))
                    end += 8 + k + v
                }
                let slice = UnsafeRawBufferPointer(rebasing: whole[begin..<end])
                nonisolated(unsafe) let chunk = slice
                try writer.performAndWait { context in
                    let db = try context.openDatabase(named: "proj.cases.a")
                    try context.transaction { txn in
                        var o = 0
                        while o < chunk.count {
                            let k = Int(chunk.loadUnaligned(fromByteOffset: o, as: UInt32.self))
                            let v = Int(chunk.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self))
                            try txn.put(db, key: UnsafeRawBufferPointer(rebasing: chunk[o + 8..<o + 8 + k]),
                                        value: UnsafeRawBufferPointer(rebasing: chunk[o + 8 + k..<o + 8 + k + v]), flags: .append)
                            o += 8 + k + v
                        }
                    }
                    environment.releaseMappedPages()
                }
                from = end
            }
        }
        return Date().timeIntervalSince(start)
    }
}
