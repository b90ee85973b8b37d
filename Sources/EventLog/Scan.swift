import Foundation
import LMDB

/// How much of the data file a reader of the log may keep mapped, and when it checks: the
/// one page-release policy of the process (DESIGN.md rule 8: the log owns its reading).
///
/// Every page LMDB reads stays mapped and counts as the process's resident memory until the
/// mapping is dropped (``Environment/releaseMappedPages()``): the pages stay in the kernel's
/// page cache, so a reader only maps them again. What a pass maps depends on the file's
/// layout (the kernel maps up to 16 neighbouring pages per fault), so the budget bounds the
/// process's file-backed resident memory (``Environment/residentFileBytes()``, shared
/// libraries included), not a count of reads.
///
/// ``EventLog/scan(positions:chunk:budget:_:)`` applies it after every chunk (outside its
/// read transaction); readers that read the log another way (a write transaction, stream
/// reads) report what they read to ``EventLog/relinquishMappedPages(afterReading:budget:)``.
public struct MappedPageBudget: Sendable, Hashable {
    /// File-backed resident bytes above which the mappings are dropped (`Int.max`: never).
    public var residentBytes: Int
    /// A pass of at least this many records is bulk work: it releases above the budget
    /// after every chunk. A shorter pass releases only per ``liveInterval``.
    public var bulkRecords: Int
    /// For passes shorter than ``bulkRecords``: release above the budget at most once per
    /// this interval (`nil`: never), so that the pages queries read stay mapped in between.
    public var liveInterval: Duration?

    /// A budget of `residentBytes`; see the properties.
    public init(residentBytes: Int, bulkRecords: Int = 4_096, liveInterval: Duration? = nil) {
        self.residentBytes = max(0, residentBytes)
        self.bulkRecords = max(1, bulkRecords)
        self.liveInterval = liveInterval.map { max(.zero, $0) }
    }

    /// What a long-running follower of the log holds at most: 256 MiB, bulk passes only.
    public static let `default` = MappedPageBudget(residentBytes: 256 << 20)
    /// What a rebuild's reading threads hold at most: 96 MiB, checked after every chunk
    /// (a rebuild reads every page of the log, and writes a second copy of the tables).
    public static let rebuild = MappedPageBudget(residentBytes: 96 << 20, bulkRecords: 1)
    /// Never release (tests, benchmarks of a warm map).
    public static let unlimited = MappedPageBudget(residentBytes: .max)
    /// Release after every chunk, whatever is resident (a writer that just appended a
    /// table's worth of pages).
    public static let none = MappedPageBudget(residentBytes: 0, bulkRecords: 1)

    /// The interval of the timer that drops a rebuild's mappings meanwhile
    /// (``EventLog/startPageReleaseTimer()``), and while it empties a large table.
    static let timerInterval = Duration.milliseconds(20)
    static let heavyTimerInterval = Duration.milliseconds(2)
}

/// Drops the data file's mappings on a timer while a long pass runs (a rebuild), so that
/// the pages it touches do not pile up between its own steps. Made by
/// ``EventLog/startPageReleaseTimer()``; stops when ``stop()`` is called or it is released.
public final class PageReleaseTimer: Sendable {
    private let releaser: MappedPageReleaser

    init(environment: Environment) {
        releaser = MappedPageReleaser(environment: environment, interval: MappedPageBudget.timerInterval)
    }

    /// For a phase that maps pages faster than reading does (emptying a large table, whose
    /// every leaf LMDB reads): release more often from now on.
    public func enterHeavyPhase() { releaser.interval = MappedPageBudget.heavyTimerInterval }

    /// Stops the timer (idempotent).
    public func stop() { releaser.stop() }
}

extension EventLog {
    // MARK: - The mapped-page budget

    /// Applies `budget` after a pass that read `records` records of the log (or, for a
    /// writer, wrote as many pages): drops the process's mappings of the data file when the
    /// pass was bulk work (``MappedPageBudget/bulkRecords``) or the budget's live interval
    /// passed since the last release, and more than ``MappedPageBudget/residentBytes`` of
    /// file-backed memory is resident. Returns whether it released. Call it outside any
    /// transaction. ``scan(positions:chunk:budget:_:)`` calls it itself.
    @discardableResult
    public func relinquishMappedPages(afterReading records: Int, budget: MappedPageBudget = .default) -> Bool {
        guard budget.residentBytes != .max, records > 0 else { return false }
        let now = ContinuousClock.now
        if records < budget.bulkRecords {
            guard let interval = budget.liveInterval else { return false }
            let due = state.withLock { s in s.lastPageRelease.map { now - $0 >= interval } ?? true }
            guard due else { return false }
        }
        guard environment.releaseMappedPages(ifResidentAbove: budget.residentBytes) else { return false }
        state.withLock { $0.lastPageRelease = now }
        return true
    }

    /// Starts dropping the data file's mappings every few milliseconds until the timer is
    /// stopped: for a rebuild, which reads every page of the log, writes a second copy of
    /// the tables and then frees the first.
    public func startPageReleaseTimer() -> PageReleaseTimer {
        PageReleaseTimer(environment: environment)
    }

    // MARK: - Scanning

    /// Calls `body` with a view of each stored record whose position is in `positions`, in
    /// position order: the one way to read the log in bulk (verification, projections,
    /// replay, export, `log read`, the deadline scheduler).
    ///
    /// Reads in short read transactions of at most `chunk` records each (`MDB_NOTLS`, on the
    /// calling thread, never open across a suspension point: `body` is synchronous), and
    /// applies `budget` after each (``relinquishMappedPages(afterReading:budget:)``). Each
    /// chunk is a snapshot of its own: a scan to `UInt64.max` sees records appended while it
    /// runs. Positions beyond the head are simply not there.
    ///
    /// - Returns: the last position visited, `nil` when none was.
    /// - Throws: ``EventLogError`` `.corrupt` naming the position of a record that does not
    ///   parse (or of a key that is not a position); `.storage` when LMDB fails; whatever
    ///   `body` throws (the scan stops there).
    @discardableResult
    public func scan(positions: ClosedRange<UInt64>, chunk: Int = 8_192, budget: MappedPageBudget = .default,
                     _ body: (borrowing RecordView) throws -> Void) throws -> UInt64? {
        let chunk = max(1, chunk)
        var next = max(1, positions.lowerBound)
        var last: UInt64?
        let types = UnsafeMutablePointer<TypeNames>.allocate(capacity: 1)
        types.initialize(to: TypeNames())
        defer { types.deinitialize(count: 1); types.deallocate() }
        while next <= positions.upperBound {
            var visited = 0
            var done = false
            try readTransaction { txn in
                try txn.withCursor(databases.events) { cursor in
                    var entry = try cursor.get(.setRange, key: RecordCoding.be64(next))
                    while let e = entry, visited < chunk {
                        let position = try Self.position(e.key)
                        guard position <= positions.upperBound else { done = true; return }
                        var view = try RecordCoding.parse(e.value, key: position)
                        view.typeNames = types
                        try body(view)
                        last = position
                        visited += 1
                        if position == UInt64.max { done = true; return }
                        next = position + 1
                        entry = try cursor.get(.next)
                    }
                    if entry == nil { done = true }
                }
            }
            relinquishMappedPages(afterReading: visited, budget: budget)
            if done || visited == 0 { break }
        }
        return last
    }

    /// ``scan(positions:chunk:budget:_:)`` from `first` through `last`; nothing when `last`
    /// is before `first`.
    @discardableResult
    public func scan(from first: UInt64, through last: UInt64 = .max, chunk: Int = 8_192, budget: MappedPageBudget = .default,
                     _ body: (borrowing RecordView) throws -> Void) throws -> UInt64? {
        let first = max(1, first)
        guard last >= first else { return nil }
        return try scan(positions: first...last, chunk: chunk, budget: budget, body)
    }

    /// Calls `body` with each record after `position`, at most `limit` of them, inside the
    /// transaction `txn` the caller holds (a projection step reads the events it folds in
    /// the write transaction that moves its checkpoint). No page is released here: report
    /// what was read to ``relinquishMappedPages(afterReading:budget:)`` once the transaction
    /// is over.
    ///
    /// - Returns: the last position visited, `position` when none was.
    public func scan<T: TransactionReading & ~Copyable>(in txn: borrowing T, after position: UInt64, limit: Int,
                                                        _ body: (borrowing RecordView) throws -> Void) throws -> UInt64 {
        var last = position
        guard position < UInt64.max else { return last }
        let types = UnsafeMutablePointer<TypeNames>.allocate(capacity: 1)
        types.initialize(to: TypeNames())
        defer { types.deinitialize(count: 1); types.deallocate() }
        try txn.withCursor(databases.events) { cursor in
            var entry = try cursor.get(.setRange, key: RecordCoding.be64(position + 1))
            var count = 0
            while let e = entry, count < limit {
                let at = try Self.position(e.key)
                var view = try RecordCoding.parse(e.value, key: at)
                view.typeNames = types
                try body(view)
                last = at
                count += 1
                entry = try cursor.get(.next)
            }
        }
        return last
    }

    /// Cuts `positions` into at most `count` contiguous, non-empty ranges of nearly equal
    /// size, in order, covering it exactly once: one per thread of a scan on every core.
    /// Positions start at 1: a range from 0 is cut from 1 (empty for `0...0`).
    public static func partitions(of positions: ClosedRange<UInt64>, count: Int) -> [ClosedRange<UInt64>] {
        guard positions.upperBound >= 1 else { return [] }
        let positions = max(1, positions.lowerBound)...positions.upperBound
        let total = positions.upperBound - positions.lowerBound  // one less than the size (no overflow)
        let n = min(UInt64(max(1, count)) - 1, total) + 1
        // Size = total + 1 = n * q + r, split so that the first r ranges hold q + 1.
        let (q, r) = ((total / n) + (total % n + 1) / n, (total % n + 1) % n)
        var out: [ClosedRange<UInt64>] = []
        out.reserveCapacity(Int(n))
        var start = positions.lowerBound
        for i in 0..<n {
            let size = q + (i < r ? 1 : 0)
            let end = start + (size - 1)
            out.append(start...end)
            if i + 1 < n { start = end + 1 }
        }
        return out
    }

    /// ``partitions(of:count:)`` of the whole log as it is now (1 through the head); empty
    /// when the log is.
    public func partitions(count: Int) throws -> [ClosedRange<UInt64>] {
        let head = try head().position
        return head == 0 ? [] : Self.partitions(of: 1...head, count: count)
    }

    /// The position a key of `events` encodes.
    @inline(__always)
    static func position(_ key: UnsafeRawBufferPointer) throws(EventLogError) -> UInt64 {
        guard key.count == 8 else {
            throw EventLogError(.corrupt, "the events database holds a key of \(key.count) bytes, not an 8-byte position")
        }
        return UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
    }

    /// A read transaction whose failures are ``EventLogError``s (LMDB's mapped to `.storage`).
    func readTransaction<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        do {
            return try environment.read(body)
        } catch let error as LMDBError {
            throw EventLogError(.storage, "cannot read the event log: \(error.message) (\(error.operation), code \(error.code.rawValue))")
        }
    }
}
