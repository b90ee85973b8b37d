import CLMDB

/// Operations every transaction offers: reads and cursors.
///
/// Byte buffers returned by reads point into LMDB's memory map and are valid only until
/// the transaction ends; copy what you keep.
public protocol TransactionReading: ~Copyable {
    /// The raw `MDB_txn*`: an explicit escape hatch for calls this wrapper does not cover.
    /// Valid only inside the transaction's closure.
    var unsafeHandle: OpaquePointer { get }
}

/// Creates an `MDB_val` viewing `buffer` (LMDB never writes through key/data inputs).
@inline(__always)
func mdbVal(_ buffer: UnsafeRawBufferPointer) -> MDB_val {
    MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
}

/// The bytes an `MDB_val` points at.
@inline(__always)
func bytes(_ val: MDB_val) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: val.mv_data, count: val.mv_size)
}

extension TransactionReading where Self: ~Copyable {
    /// The value stored under `key`, or `nil`. Valid until the transaction ends.
    public func get(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = mdbVal(key)
        var v = MDB_val()
        let rc = mdb_get(unsafeHandle, database.handle, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(database.name))")
        return bytes(v)
    }

    /// The value stored under `key` (given as bytes), or `nil`.
    public func get(_ database: Database, key: [UInt8]) throws(LMDBError) -> UnsafeRawBufferPointer? {
        // The returned buffer points into the map, not into `key`, so it outlives this call.
        let result: Result<UnsafeRawBufferPointer?, LMDBError> = key.withUnsafeBytes { k in
            do throws(LMDBError) { return .success(try get(database, key: k)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Number of entries in `database` (`mdb_stat`).
    public func entryCount(_ database: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(unsafeHandle, database.handle, &stat), "mdb_stat(\(database.name))")
        return stat.ms_entries
    }

    /// The shape of `database`'s B-tree (`mdb_stat`).
    public func statistics(_ database: Database) throws(LMDBError) -> DatabaseStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(unsafeHandle, database.handle, &stat), "mdb_stat(\(database.name))")
        return DatabaseStatistics(entries: stat.ms_entries, depth: Int(stat.ms_depth), branchPages: stat.ms_branch_pages,
                                  leafPages: stat.ms_leaf_pages, overflowPages: stat.ms_overflow_pages)
    }

    /// Runs `body` with a cursor over `database`; the cursor is closed when `body` returns.
    public func withCursor<R>(_ database: Database, _ body: (inout Cursor) throws -> R) throws -> R {
        var handle: OpaquePointer?
        try check(mdb_cursor_open(unsafeHandle, database.handle, &handle), "mdb_cursor_open(\(database.name))")
        guard let handle else {
            throw LMDBError(code: .badTransaction, operation: "mdb_cursor_open(\(database.name))")
        }
        defer { mdb_cursor_close(handle) }
        var cursor = Cursor(handle: handle, database: database)
        return try body(&cursor)
    }
}

/// A read-only transaction. It exists only inside ``Environment/read(_:)``'s closure:
/// it is non-copyable, so it cannot be stored or returned.
public struct ReadTransaction: ~Copyable, TransactionReading {
    /// The raw `MDB_txn*` (read-only).
    public let unsafeHandle: OpaquePointer
    init(handle: OpaquePointer) { self.unsafeHandle = handle }
}

/// Flags for ``WriteTransaction/put(_:key:value:flags:)``.
public struct PutFlags: OptionSet, Sendable {
    /// The raw `mdb_put` flags.
    public let rawValue: UInt32
    /// Creates flags from raw `mdb_put` flags.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `MDB_NOOVERWRITE`: fail with ``LMDBResultCode/keyExists`` if the key exists.
    public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// `MDB_APPEND`: the key is greater than every existing key (fast path for ordered keys).
    public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
}

/// A read-write transaction. It exists only inside ``WriteContext/transaction(_:)`` on
/// the writer thread; it commits when the closure returns and aborts when it throws.
public struct WriteTransaction: ~Copyable, TransactionReading {
    /// The raw `MDB_txn*`.
    public let unsafeHandle: OpaquePointer
    init(handle: OpaquePointer) { self.unsafeHandle = handle }

    /// Stores `value` under `key`.
    public func put(_ database: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                    flags: PutFlags = []) throws(LMDBError) {
        var k = mdbVal(key)
        var v = mdbVal(value)
        try check(mdb_put(unsafeHandle, database.handle, &k, &v, flags.rawValue), "mdb_put(\(database.name))")
    }

    /// Stores `value` under `key` (both as byte arrays).
    public func put(_ database: Database, key: [UInt8], value: [UInt8], flags: PutFlags = []) throws(LMDBError) {
        let result: LMDBError? = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                do throws(LMDBError) { try put(database, key: k, value: v, flags: flags); return nil } catch { return error }
            }
        }
        if let result { throw result }
    }

    /// Deletes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ database: Database, key: [UInt8]) throws(LMDBError) -> Bool {
        let rc: Int32 = key.withUnsafeBytes { k in
            var kv = mdbVal(k)
            return mdb_del(unsafeHandle, database.handle, &kv, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(database.name))")
        return true
    }

    /// Removes every entry of `database`, keeping the database itself.
    public func removeAll(_ database: Database) throws(LMDBError) {
        try check(mdb_drop(unsafeHandle, database.handle, 0), "mdb_drop(\(database.name))")
    }
}

/// The shape of a database's B-tree, as `mdb_stat` reports it.
public struct DatabaseStatistics: Sendable, Equatable {
    /// Key/value pairs.
    public var entries: Int
    /// Levels of the tree (0 when empty).
    public var depth: Int
    /// Internal pages.
    public var branchPages: Int
    /// Pages holding entries.
    public var leafPages: Int
    /// Pages holding values too large for a leaf (LMDB stores a value whose node would
    /// exceed about half a page on its own run of pages).
    public var overflowPages: Int
}

/// Cursor positioning operations.
public enum CursorOperation: Sendable {
    case first, last, next, previous, current
    /// Position at `key` exactly.
    case set
    /// Position at the first key greater than or equal to `key`.
    case setRange

    var raw: MDB_cursor_op {
        switch self {
        case .first: MDB_FIRST
        case .last: MDB_LAST
        case .next: MDB_NEXT
        case .previous: MDB_PREV
        case .current: MDB_GET_CURRENT
        case .set: MDB_SET_KEY
        case .setRange: MDB_SET_RANGE
        }
    }
}

/// A cursor over one database, valid only inside ``TransactionReading/withCursor(_:_:)``.
public struct Cursor: ~Copyable {
    let handle: OpaquePointer
    /// The database the cursor walks.
    public let database: Database

    /// Moves the cursor and returns the key and value there, or `nil` when there is none.
    /// `key` is required for `.set` and `.setRange`. The buffers are valid until the
    /// transaction ends.
    public mutating func get(_ operation: CursorOperation, key: UnsafeRawBufferPointer? = nil)
        throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
    {
        var k = key.map(mdbVal) ?? MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, operation.raw)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(database.name))")
        return (bytes(k), bytes(v))
    }

    /// Like ``get(_:key:)`` with the key given as bytes.
    public mutating func get(_ operation: CursorOperation, key: [UInt8])
        throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
    {
        var k = key
        let handle = self.handle
        let database = self.database
        let result: Result<(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?, LMDBError> =
            k.withUnsafeMutableBytes { buffer in
                var cursor = Cursor(handle: handle, database: database)
                do throws(LMDBError) { return .success(try cursor.get(operation, key: UnsafeRawBufferPointer(buffer))) }
                catch { return .failure(error) }
            }
        return try result.get()
    }
}
