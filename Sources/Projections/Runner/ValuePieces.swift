import LMDB

/// Values cut into pieces small enough to stay on a B-tree leaf (schemas/storage.md
/// "Long values").
///
/// LMDB (4 KiB pages) moves a value whose key and value exceed 2 030 bytes to overflow
/// pages of its own. A table with any overflow page costs a full read of every leaf when it
/// is emptied (`mdb_drop` must find the overflow pages to free them): for the `cases` table
/// of a 5 M-event log that was a gigabyte mapped in a fraction of a second at the end of
/// every rebuild, which pushed its resident memory past 256 MB. A table without overflow
/// pages is emptied by reading its branch pages only.
///
/// So a value longer than ``pieceBytes(keyCount:)`` is stored as pieces: the first under
/// the key itself, piece `k` (1, 2, ...) under `key ‖ 0x00 ‖ k` (2 bytes, big-endian).
/// Every piece but the last is exactly ``pieceBytes(keyCount:)`` long, so a reader that
/// finds a shorter value under the key knows it is whole. The continuation keys sort right
/// after their key and before any other key of the table, as long as no key of the table is
/// another key followed by `0x00` (text in keys never contains `0x00`).
enum ValuePieces {
    /// The most bytes of key and value an entry may have (LMDB's limit for 4 KiB pages is
    /// 2 030; the rest is margin).
    static let leafBudget = 2_016

    /// The most pieces one value is cut into (2-byte piece numbers).
    static let maxPieces = 65_536

    /// How many bytes of the value each piece of an entry with a `keyCount`-byte key holds:
    /// the continuation key is 3 bytes longer than the key, so every piece fits the budget.
    static func pieceBytes(keyCount: Int) -> Int { leafBudget - keyCount - 3 }

    /// The key of piece `k` (1...) of the value under `key`.
    static func continuationKey(_ key: [UInt8], _ k: Int) -> [UInt8] {
        var out = key
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: k >> 8))
        out.append(UInt8(truncatingIfNeeded: k))
        return out
    }

    /// Whether `candidate` is the key of a piece (1...) of the value under `key`.
    static func isContinuation(_ candidate: [UInt8], of key: [UInt8]) -> Bool {
        candidate.count == key.count + 3 && candidate[key.count] == 0 && candidate.starts(with: key)
    }

    /// How many pieces a value of `valueCount` bytes under a `keyCount`-byte key is cut into.
    static func pieceCount(keyCount: Int, valueCount: Int) -> Int {
        let size = pieceBytes(keyCount: keyCount)
        return valueCount <= size ? 1 : (valueCount + size - 1) / size
    }

    /// Appends the entry to `out`, cut into pieces if it is too long for a leaf.
    static func append(key: [UInt8], value: [UInt8], to out: inout [(key: [UInt8], value: [UInt8])]) throws(PieceError) {
        let size = pieceBytes(keyCount: key.count)
        guard value.count > size else {
            out.append((key, value))
            return
        }
        let count = pieceCount(keyCount: key.count, valueCount: value.count)
        guard count <= maxPieces else { throw PieceError(key: key, valueCount: value.count) }
        out.append((key, Array(value[0..<size])))
        for k in 1..<count {
            out.append((continuationKey(key, k), Array(value[(k * size)..<min(value.count, (k + 1) * size)])))
        }
    }

    /// Appends the entry to `chunk`, cut into pieces if it is too long for a leaf (the
    /// pieces sort right after the key, so the chunk stays in key order).
    static func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to chunk: inout SortedChunk) throws(PieceError) {
        let size = pieceBytes(keyCount: key.count)
        guard value.count > size else {
            chunk.append(key: key, value: value)
            return
        }
        let count = pieceCount(keyCount: key.count, valueCount: value.count)
        guard count <= maxPieces else { throw PieceError(key: Array(key), valueCount: value.count) }
        let base = Array(key)
        for k in 0..<count {
            let piece = UnsafeRawBufferPointer(rebasing: value[(k * size)..<min(value.count, (k + 1) * size)])
            if k == 0 {
                chunk.append(key: key, value: piece)
            } else {
                continuationKey(base, k).withUnsafeBytes { chunk.append(key: $0, value: piece) }
            }
        }
    }

    /// Calls `body` with the whole value under `key` (its pieces joined) and how many pieces
    /// it is stored in; `nil` when there is no such key. A value stored whole (the usual
    /// case) is passed straight from the map, without a copy.
    static func withValue<T: TransactionReading & ~Copyable, R>(
        _ txn: borrowing T, _ db: Database, key: [UInt8], _ body: (UnsafeRawBufferPointer, Int) throws -> R
    ) throws -> R? {
        guard let first = try txn.get(db, key: key) else { return nil }
        let size = pieceBytes(keyCount: key.count)
        guard first.count == size else { return try body(first, 1) }
        var whole = Array(first)
        var k = 1
        while k < maxPieces, let piece = try txn.get(db, key: continuationKey(key, k)) {
            whole.append(contentsOf: piece)
            k += 1
            if piece.count < size { break }
        }
        let pieces = k
        return try whole.withUnsafeBytes { try body($0, pieces) }
    }

    /// The keys of the continuation pieces stored for `key` (none for a value stored whole).
    static func continuationKeys<T: TransactionReading & ~Copyable>(_ txn: borrowing T, _ db: Database, key: [UInt8]) throws -> [[UInt8]] {
        guard let count = try withValue(txn, db, key: key, { _, pieces in pieces }), count > 1 else { return [] }
        return (1..<count).map { continuationKey(key, $0) }
    }

    /// Every entry whose key starts with `prefix`, in key order, at most `limit`, each value
    /// joined from its pieces and passed to `body` under its own key (continuation keys are
    /// never passed).
    static func scan<T>(_ cursor: inout Cursor, prefix: [UInt8], limit: Int,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> T) throws -> [T] {
        var out: [T] = []
        var e = try cursor.get(.setRange, key: prefix)
        while let x = e, Keys.hasPrefix(x.key, prefix), out.count < limit {
            let size = pieceBytes(keyCount: x.key.count)
            guard x.value.count == size else {
                out.append(try body(x.key, x.value))
                e = try cursor.get(.next)
                continue
            }
            let key = Array(x.key)
            var whole = Array(x.value)
            var k = 1
            e = try cursor.get(.next)
            while let p = e, k < maxPieces, p.key.elementsEqual(continuationKey(key, k)) {
                whole.append(contentsOf: p.value)
                k += 1
                e = try cursor.get(.next)
            }
            out.append(try key.withUnsafeBytes { k in try whole.withUnsafeBytes { v in try body(k, v) } })
        }
        return out
    }
}

/// A value too long to store even in pieces.
struct PieceError: Error, CustomStringConvertible {
    let key: [UInt8]
    let valueCount: Int

    var description: String {
        "a value of \(valueCount) bytes is longer than the \(ValuePieces.maxPieces) pieces of "
            + "\(ValuePieces.pieceBytes(keyCount: key.count)) bytes a table entry can be cut into"
    }
}
