import CLMDB

/// A result code returned by an LMDB C function (`MDB_SUCCESS`, `MDB_NOTFOUND`, an `errno`, ...).
///
/// Modelled on GRDB's `ResultCode`: a thin, comparable wrapper around the C integer with
/// named constants for the codes Docket acts on.
public struct LMDBResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw C return value.
    public let rawValue: Int32

    /// Wraps a raw C return value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `MDB_SUCCESS`.
    public static let success = LMDBResultCode(rawValue: MDB_SUCCESS)
    /// `MDB_KEYEXIST`: key/data pair already exists (with `noOverwrite`).
    public static let keyExists = LMDBResultCode(rawValue: MDB_KEYEXIST)
    /// `MDB_NOTFOUND`: no matching key/data pair.
    public static let notFound = LMDBResultCode(rawValue: MDB_NOTFOUND)
    /// `MDB_CORRUPTED`: located page was wrong type.
    public static let corrupted = LMDBResultCode(rawValue: MDB_CORRUPTED)
    /// `MDB_PANIC`: update of meta page failed or environment had a fatal error.
    public static let panic = LMDBResultCode(rawValue: MDB_PANIC)
    /// `MDB_VERSION_MISMATCH`: environment version mismatch.
    public static let versionMismatch = LMDBResultCode(rawValue: MDB_VERSION_MISMATCH)
    /// `MDB_INVALID`: file is not a valid LMDB file.
    public static let invalid = LMDBResultCode(rawValue: MDB_INVALID)
    /// `MDB_MAP_FULL`: environment map size reached.
    public static let mapFull = LMDBResultCode(rawValue: MDB_MAP_FULL)
    /// `MDB_DBS_FULL`: environment `maxdbs` reached.
    public static let databasesFull = LMDBResultCode(rawValue: MDB_DBS_FULL)
    /// `MDB_READERS_FULL`: environment `maxreaders` reached.
    public static let readersFull = LMDBResultCode(rawValue: MDB_READERS_FULL)
    /// `MDB_TXN_FULL`: transaction has too many dirty pages.
    public static let transactionFull = LMDBResultCode(rawValue: MDB_TXN_FULL)
    /// `MDB_MAP_RESIZED`: another process grew the map beyond this one's size.
    public static let mapResized = LMDBResultCode(rawValue: MDB_MAP_RESIZED)
    /// `MDB_BAD_TXN`: transaction must abort, has a child, or is invalid.
    public static let badTransaction = LMDBResultCode(rawValue: MDB_BAD_TXN)
    /// `MDB_BAD_VALSIZE`: unsupported size of key/DB name/data, or wrong DUPFIXED size.
    public static let badValueSize = LMDBResultCode(rawValue: MDB_BAD_VALSIZE)
    /// `EACCES`: for example a write in a read-only transaction.
    public static let accessDenied = LMDBResultCode(rawValue: 13)
    /// `ENOENT`: no such file or directory.
    public static let noSuchFile = LMDBResultCode(rawValue: 2)
    /// `EINVAL`: an invalid parameter.
    public static let invalidArgument = LMDBResultCode(rawValue: 22)

    /// LMDB's own text for the code (`mdb_strerror`).
    public var description: String {
        String(cString: mdb_strerror(rawValue))
    }
}

/// An error from an LMDB operation: the result code, the operation that failed, and a
/// message saying what was wrong and, where Docket knows it, what would be right.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The LMDB result code.
    public var code: LMDBResultCode
    /// The C function or wrapper operation that failed, e.g. `mdb_put(events)`.
    public var operation: String
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(code: LMDBResultCode, operation: String, message: String? = nil) {
        self.code = code
        self.operation = operation
        self.message = message ?? code.description
    }

    public var description: String {
        "LMDB error \(code.rawValue) in \(operation): \(message)"
    }
}

/// Throws an ``LMDBError`` unless `rc` is `MDB_SUCCESS`.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    guard rc == MDB_SUCCESS else {
        throw LMDBError(code: LMDBResultCode(rawValue: rc), operation: operation())
    }
}
