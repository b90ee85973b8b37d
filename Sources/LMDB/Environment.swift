import CLMDB
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How hard a commit works to reach the disk.
public enum Durability: Sendable, Hashable {
    /// Every commit is synced (data and meta page). Docket's default and the only mode for
    /// production (DESIGN.md rule 3: durable means synced).
    case full
    /// `MDB_NOMETASYNC`: the meta page is not synced; the last commit may be lost on an OS crash.
    /// For benchmarks that compare against full sync only.
    case noMetaSync
    /// `MDB_NOSYNC`: nothing is synced. For benchmark baselines only.
    case noSync
}

/// Options for opening an LMDB ``Environment``.
public struct EnvironmentOptions: Sendable, Hashable {
    /// Maximum number of named databases (`mdb_env_set_maxdbs`).
    public var maxDatabases: UInt32 = 64
    /// Maximum number of concurrent read transactions (`mdb_env_set_maxreaders`).
    public var maxReaders: UInt32 = 510
    /// Map size used when the environment is created, in bytes. It grows automatically.
    public var initialMapSize: Int = 64 << 20
    /// The map never grows beyond this many bytes; a write that needs more fails with
    /// ``LMDBResultCode/mapFull`` and writes nothing.
    public var maxMapSize: Int = 1 << 40
    /// Sync policy for commits.
    public var durability: Durability = .full
    /// Open read-only (`MDB_RDONLY`): no write transactions, nothing created.
    public var readOnly: Bool = false
    /// Create the directory when it does not exist.
    public var createDirectory: Bool = true

    /// Default options: full sync, 64 MiB initial map growing up to 1 TiB.
    public init() {}
}

/// A named LMDB database inside an ``Environment``.
public struct Database: Sendable, Hashable {
    /// The LMDB handle (`MDB_dbi`), valid for the life of the environment.
    public let handle: MDB_dbi
    /// The database's name.
    public let name: String
}

/// An LMDB environment: one memory-mapped file holding named databases.
///
/// Read transactions run on any thread through ``read(_:)`` (they are opened with
/// `MDB_NOTLS`, are closure-scoped and therefore never held across `await`). Write
/// transactions run only on a ``Writer``'s dedicated thread.
///
/// The map grows automatically: when a write transaction hits `MDB_MAP_FULL`, the writer
/// aborts it, doubles the map (up to ``EnvironmentOptions/maxMapSize``) and runs the
/// transaction again. Growing needs that no transaction of this process is open, which a
/// reader-writer lock guarantees: every transaction holds it shared, a resize holds it
/// exclusively.
public final class Environment: @unchecked Sendable {
    // Why @unchecked Sendable is safe: `env` is an `MDB_env*`, which LMDB allows to be used
    // from any thread; the only mutable state is the map size, changed solely under
    // `resizeLock` held exclusively (no transaction open), and transactions themselves are
    // non-copyable values confined to the closure (and thread) that opened them.
    let env: OpaquePointer
    let resizeLock: ReadWriteLock
    /// Counts the map's re-mappings (``setMapSize(_:)``); changed only under `resizeLock`
    /// held exclusively.
    private let mapGeneration = Atomic<UInt64>(0)
    /// Where the data file is mapped, as found in /proc/self/maps for a map generation.
    private let mappedRanges = Mutex<(generation: UInt64, ranges: [(start: UInt, length: Int)])?>(nil)
    /// The directory holding `data.mdb` and `lock.mdb`.
    public let path: String
    /// The options the environment was opened with.
    public let options: EnvironmentOptions

    /// Opens (creating if needed and allowed) the environment in directory `path`.
    public init(path: String, options: EnvironmentOptions = EnvironmentOptions()) throws(LMDBError) {
        self.path = path
        self.options = options
        if !options.readOnly && options.createDirectory {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw LMDBError(code: .noSuchFile, operation: "create directory",
                                message: "cannot create data directory \(path): \(error.localizedDescription)")
            }
        }
        var handle: OpaquePointer?
        try check(mdb_env_create(&handle), "mdb_env_create")
        guard let handle else {
            throw LMDBError(code: .invalid, operation: "mdb_env_create", message: "no environment returned")
        }
        do throws(LMDBError) {
            try check(mdb_env_set_maxdbs(handle, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(handle, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(handle, min(options.initialMapSize, options.maxMapSize)), "mdb_env_set_mapsize")
            var flags = UInt32(MDB_NOTLS)
            switch options.durability {
            case .full: break
            case .noMetaSync: flags |= UInt32(MDB_NOMETASYNC)
            case .noSync: flags |= UInt32(MDB_NOSYNC)
            }
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            let rc = mdb_env_open(handle, path, flags, 0o640)
            if rc == ENOENT {
                throw LMDBError(code: .noSuchFile, operation: "mdb_env_open",
                                message: "no LMDB environment at \(path) (directory missing)")
            }
            try check(rc, "mdb_env_open(\(path))")
        } catch {
            mdb_env_close(handle)
            throw error
        }
        self.env = handle
        self.resizeLock = ReadWriteLock()
    }

    deinit {
        mdb_env_close(env)
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Drops this process's mappings of the data file's pages (`madvise(MADV_DONTNEED)` over
    /// the map): the pages stay in the kernel's page cache and are mapped again on their next
    /// access, so nothing changes for readers, but the process stops holding every page it
    /// ever read as resident memory. For long sequential passes (a rebuild reads the whole
    /// log). Safe because the map is read-only and shared (Docket never opens with
    /// `MDB_WRITEMAP`; writes go through the file), so there are no private pages to lose.
    public func releaseMappedPages() {
        // Held shared, no resize can move the map while its range is looked up and used.
        resizeLock.lockShared()
        defer { resizeLock.unlock() }
        let generation = mapGeneration.load(ordering: .relaxed)
        let cached = mappedRanges.withLock { cache in cache.flatMap { $0.generation == generation ? $0.ranges : nil } }
        let ranges: [(start: UInt, length: Int)]
        if let cached {
            ranges = cached
        } else {
            ranges = findMappedRanges()
            mappedRanges.withLock { $0 = (generation, ranges) }
        }
        for range in ranges {
            guard let address = UnsafeMutableRawPointer(bitPattern: range.start) else { continue }
            _ = madvise(address, range.length, MADV_DONTNEED)
        }
    }

    /// ``releaseMappedPages()`` when the process holds more than `bytes` of file-backed
    /// memory (shared libraries included; ``residentFileBytes()``); returns whether it
    /// released. For readers that walk a large part of the map: what a walk maps depends on
    /// the file's layout (the kernel maps up to 16 neighbouring pages per fault, so a log
    /// whose pages are interleaved with other tables' maps many times what it reads), so a
    /// release by resident size bounds it where a release every so many reads does not.
    /// Without `/proc/self/statm`, it releases every time.
    @discardableResult
    public func releaseMappedPages(ifResidentAbove bytes: Int) -> Bool {
        if let resident = Self.residentFileBytes(), resident <= bytes { return false }
        releaseMappedPages()
        return true
    }

    /// Bytes of file-backed memory resident in this process (`RssFile` + `RssShmem`: the
    /// third field of `/proc/self/statm`, in pages), or `nil` where that file is missing.
    /// Reads about 50 bytes; cheap enough to call every thousand events.
    public static func residentFileBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer -> Int? in
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            guard n > 0 else { return nil }
            var field = 0
            var value = 0
            for byte in buffer[0..<n] {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                    if field == 2 { return value * Int(sysconf(Int32(_SC_PAGESIZE))) }
                    field += 1
                    value = 0
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                } else {
                    return nil
                }
            }
            return nil
        }
    }

    /// Bytes of this environment's data file resident in this process's mappings (the `Rss`
    /// of its entries in /proc/self/smaps): unlike ``residentFileBytes()``, shared libraries
    /// and other environments' files do not count. `nil` where /proc/self/smaps is missing.
    /// Reads the whole smaps file: for tests and occasional diagnostics, not a hot path.
    public func residentMappedBytes() -> Int? {
        let starts = Set(findMappedRanges().map(\.start))
        guard let smaps = readProcFile("/proc/self/smaps") else { return nil }
        var kilobytes = 0
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), let start = UInt(line[..<dash], radix: 16), line.contains(" ") {
                inMapping = starts.contains(start)
            } else if inMapping, line.hasPrefix("Rss:") {
                kilobytes += Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
        }
        return kilobytes * 1024
    }

    /// The data file's mappings in this process. LMDB does not expose where it mapped the
    /// file (`me_mapaddr` is only set for MDB_FIXEDMAP), so they are read from
    /// /proc/self/maps, which names the file by its canonical path. Reading and parsing it
    /// costs more than the release itself, so the result is kept until the map moves.
    func findMappedRanges() -> [(start: UInt, length: Int)] {
        var dir: UnsafePointer<CChar>?
        guard mdb_env_get_path(env, &dir) == 0, let dir, let canonical = realpath(dir, nil) else { return [] }
        let dataFile = String(cString: canonical) + "/data.mdb"
        free(canonical)
        guard let maps = readProcFile("/proc/self/maps") else { return [] }
        var ranges: [(start: UInt, length: Int)] = []
        for line in maps.split(separator: "\n") where line.hasSuffix(dataFile) {
            let range = line.prefix { $0 != " " }.split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start
            else { continue }
            ranges.append((start, Int(end - start)))
        }
        return ranges
    }

    /// Runs `body` in a read-only transaction. The transaction handle cannot escape the
    /// closure; keep the closure short (no blocking, no waiting).
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        let txn = try beginTransaction(flags: UInt32(MDB_RDONLY), operation: "mdb_txn_begin(read)")
        defer {
            mdb_txn_abort(txn)
            resizeLock.unlock()
        }
        return try body(ReadTransaction(handle: txn))
    }

    /// Opens a named database that already exists, for reading (no write transaction
    /// needed). Throws ``LMDBResultCode/notFound`` when it does not exist.
    public func openExistingDatabase(named name: String) throws(LMDBError) -> Database {
        let txn = try beginTransaction(flags: UInt32(MDB_RDONLY), operation: "mdb_txn_begin(open \(name))")
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, 0, &dbi)
        guard rc == MDB_SUCCESS else {
            mdb_txn_abort(txn)
            resizeLock.unlock()
            throw LMDBError(code: LMDBResultCode(rawValue: rc), operation: "mdb_dbi_open(\(name))",
                            message: rc == MDB_NOTFOUND ? "database \(name) does not exist" : nil)
        }
        let commit = mdb_txn_commit(txn)
        resizeLock.unlock()
        try check(commit, "mdb_txn_commit(open \(name))")
        return Database(handle: dbi, name: name)
    }

    /// Copies the environment to directory `destination` (which must exist and be empty)
    /// as a consistent snapshot, optionally compacting free pages (`mdb_env_copy2`).
    ///
    /// The copy runs inside one read transaction, so it holds the resize lock shared like
    /// any reader (this process must not resize the map under it). When another process
    /// grew the map first, it adopts the new size, removes the partial copy and retries.
    public func copy(to destination: String, compact: Bool) throws(LMDBError) {
        while true {
            resizeLock.lockShared()
            let rc = mdb_env_copy2(env, destination, compact ? UInt32(MDB_CP_COMPACT) : 0)
            resizeLock.unlock()
            guard rc == MDB_MAP_RESIZED else { return try check(rc, "mdb_env_copy2(\(destination))") }
            unlink(destination + "/data.mdb")
            resizeLock.lockExclusive()
            let adopt = setMapSize(0)
            resizeLock.unlock()
            try check(adopt, "mdb_env_set_mapsize(0)")
        }
    }

    /// Number of entries and depth of a database, from `mdb_stat`.
    public func entryCount(_ database: Database) throws -> Int {
        try read { txn in try txn.entryCount(database) }
    }

    /// Begins a transaction with the resize lock held shared; on success the caller must
    /// end the transaction and then release the lock.
    func beginTransaction(flags: UInt32, operation: String) throws(LMDBError) -> OpaquePointer {
        while true {
            resizeLock.lockShared()
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, flags, &txn)
            if rc == MDB_MAP_RESIZED {
                // Another process grew the map: adopt its size, then try again.
                resizeLock.unlock()
                resizeLock.lockExclusive()
                let adopt = setMapSize(0)
                resizeLock.unlock()
                try check(adopt, "mdb_env_set_mapsize(0)")
                continue
            }
            if rc != MDB_SUCCESS {
                resizeLock.unlock()
                throw LMDBError(code: LMDBResultCode(rawValue: rc), operation: operation)
            }
            if let txn { return txn }
            resizeLock.unlock()
            throw LMDBError(code: .badTransaction, operation: operation, message: "no transaction returned")
        }
    }

    /// Grows the map (doubling, at least 64 MiB more) up to the configured maximum.
    /// Must be called with no transaction of this process open on the calling thread.
    func grow() throws(LMDBError) {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        let current = mapSize
        let maximum = options.maxMapSize
        guard current < maximum else {
            throw LMDBError(
                code: .mapFull, operation: "grow map",
                message: "the data file reached its maximum map size of \(maximum) bytes; nothing was written. "
                    + "Free disk space and raise the maximum map size to append more.")
        }
        let next = min(maximum, max(current * 2, current + (64 << 20)))
        try check(setMapSize(next), "mdb_env_set_mapsize(\(next))")
    }

    /// `mdb_env_set_mapsize` on the open environment, which maps the file again (perhaps
    /// elsewhere). Call with `resizeLock` held exclusively.
    private func setMapSize(_ size: Int) -> Int32 {
        let rc = mdb_env_set_mapsize(env, size)
        mapGeneration.add(1, ordering: .relaxed)
        return rc
    }
}

/// The whole text of a file under /proc, read until end of file. (`String(contentsOfFile:)`
/// reads such files, whose size shows as 0, only up to their first 4 KB: /proc/self/maps
/// of a process with many mappings is longer.)
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { return nil }
        if n == 0 { break }
        text.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: text, as: UTF8.self)
}

/// A POSIX reader-writer lock that prefers writers (so a map resize is not starved by a
/// steady stream of short readers). Shared holders must not nest.
final class ReadWriteLock: @unchecked Sendable {
    // Why @unchecked Sendable is safe: the pthread rwlock is designed for concurrent use;
    // its storage is allocated once, never moved, and freed only in deinit.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockShared() { pthread_rwlock_rdlock(lock) }
    func lockExclusive() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }
}

/// Calls ``Environment/releaseMappedPages()`` every `interval` on a background thread until
/// ``stop()``: for long passes over the data (a projection rebuild reads the whole log,
/// writes a second copy of the tables and then frees the first), so that the pages they
/// touch do not pile up as the process's resident memory between the pass's own steps.
public final class MappedPageReleaser: Sendable {
    private let stopping = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)
    private let period: Period

    /// The interval in nanoseconds, shared with the thread.
    private final class Period: Sendable {
        let nanoseconds: Atomic<Int>
        init(_ nanoseconds: Int) { self.nanoseconds = Atomic(nanoseconds) }
    }

    /// Starts releasing `environment`'s pages every `interval` (at least 1 ms).
    public init(environment: Environment, interval: Duration = .milliseconds(50)) {
        let stopping = self.stopping, finished = self.finished
        let period = Period(Self.nanoseconds(interval))
        self.period = period
        let thread = Thread {
            while stopping.wait(timeout: .now() + .nanoseconds(period.nanoseconds.load(ordering: .relaxed))) == .timedOut {
                environment.releaseMappedPages()
            }
            finished.signal()
        }
        thread.name = "docket-page-releaser"
        thread.start()
    }

    /// The time between two releases (at least 1 ms), for a phase that maps pages faster
    /// than others (e.g. emptying a large table, whose every leaf LMDB reads). Takes
    /// effect after the current wait.
    public var interval: Duration {
        get { .nanoseconds(period.nanoseconds.load(ordering: .relaxed)) }
        set { period.nanoseconds.store(Self.nanoseconds(newValue), ordering: .relaxed) }
    }

    private static func nanoseconds(_ d: Duration) -> Int {
        max(1_000_000, Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000))
    }

    /// Stops the thread and waits for it (idempotent).
    public func stop() {
        let first = stopped.withLock { s in
            defer { s = true }
            return !s
        }
        guard first else { return }
        stopping.signal()
        finished.wait()
    }

    deinit { stop() }
}
