import Foundation
import LMDB
import Logging
import Synchronization

/// The append-only event log on LMDB: Docket's source of truth.
///
/// - Appends go through group commit: concurrent appends queue up, and the one writer
///   thread takes everything queued into one LMDB write transaction, checks each append's
///   expected version inside it (so a conflict fails only that append), commits with a full
///   sync, and only then resumes the callers.
/// - Positions are gap-free from 1; stream versions start at 0; every record is chained to
///   the previous by SHA-256 (schemas/storage.md).
/// - Reads are short `MDB_NOTLS` read transactions on the caller's thread.
public final class EventLog: Sendable {
    /// How the log is opened.
    public struct Configuration: Sendable {
        /// LMDB environment options (map size and growth, durability).
        public var environment = EnvironmentOptions()
        /// Soft limit of events per group-commit transaction (one append is never split).
        public var maxBatchEvents = 16_384
        /// The clock stamping `recordedAt`, in microseconds since the epoch (UTC). The log
        /// keeps `recordedAt` non-decreasing along positions.
        public var clock: @Sendable () -> Int64 = { systemMicros() }
        /// Called on the writer thread after each committed group-commit batch with the
        /// number of appends and of new events in it (for metrics); keep it cheap.
        public var onBatchCommitted: (@Sendable (_ appends: Int, _ events: Int) -> Void)?

        /// Default configuration: full sync, growing map, system clock.
        public init() {}
    }

    /// The LMDB environment (shared with projections, which live in the same file).
    public let environment: Environment
    /// The environment's one writer thread; projections submit their writes here too.
    public let writer: Writer
    let databases: Databases
    let configuration: Configuration
    let logger: Logger
    let state: Mutex<State>

    /// The log's named databases.
    struct Databases: Sendable {
        let events: Database
        let streamIndex: Database
        let streams: Database
        let eventIds: Database
        let meta: Database
    }

    /// An append waiting for the writer.
    struct Pending {
        let appends: [StreamAppend]
        let eventCount: Int
        let continuation: CheckedContinuation<[AppendResult], any Error>
    }

    /// Mutable state shared by callers and the writer thread.
    struct State {
        var pending: [Pending] = []
        var drainScheduled = false
        var closed = false
        var committedHead: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterToken: UInt64 = 0
        var batchesCommitted: UInt64 = 0
        var eventsCommitted: UInt64 = 0
        /// When a reader last dropped the data file's mappings (``relinquishMappedPages(afterReading:budget:)``).
        var lastPageRelease: ContinuousClock.Instant?
    }

    /// A subscription waiting for the head to pass `after`.
    struct Waiter {
        let after: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }

    /// Names of the LMDB databases (schemas/storage.md).
    public enum DatabaseName {
        public static let events = "events"
        public static let streamIndex = "stream_index"
        public static let streams = "streams"
        public static let eventIds = "event_ids"
        public static let meta = "meta"
    }

    /// Opens the log in `directory`, creating it (and its databases) when missing.
    ///
    /// - Throws: ``EventLogError`` with code `.notFound` when `create` is false and there is
    ///   no log there, `.corrupt` when the directory holds something else.
    public static func open(directory: String, configuration: Configuration = Configuration(), create: Bool = true,
                            logger: Logger) throws -> EventLog {
        let dataFile = (directory as NSString).appendingPathComponent("data.mdb")
        if !create && !FileManager.default.fileExists(atPath: dataFile) {
            throw EventLogError(.notFound, "no Docket event log in \(directory) (no data.mdb there); "
                + "pass the right --data-dir, or append an event to create one")
        }
        var options = configuration.environment
        options.createDirectory = create
        let environment: Environment
        do {
            environment = try Environment(path: directory, options: options)
        } catch {
            throw EventLogError(.storage, "cannot open the event log in \(directory): \(error.message)")
        }
        let writer = Writer(environment: environment)
        do {
            let dbs = try writer.performAndWait { context in
                let dbs = Databases(
                    events: try context.openDatabase(named: DatabaseName.events),
                    streamIndex: try context.openDatabase(named: DatabaseName.streamIndex),
                    streams: try context.openDatabase(named: DatabaseName.streams),
                    eventIds: try context.openDatabase(named: DatabaseName.eventIds),
                    meta: try context.openDatabase(named: DatabaseName.meta))
                try context.transaction { txn in
                    let key = Array("format".utf8)
                    if let existing = try txn.get(dbs.meta, key: key) {
                        let tag = String(decoding: existing, as: UTF8.self)
                        guard tag == RecordCoding.formatTag else {
                            throw EventLogError(.corrupt, "\(directory) holds log format \"\(tag)\"; this Docket reads \"\(RecordCoding.formatTag)\"")
                        }
                    } else {
                        try txn.put(dbs.meta, key: key, value: Array(RecordCoding.formatTag.utf8))
                    }
                }
                return dbs
            }
            let log = EventLog(environment: environment, writer: writer, databases: dbs,
                               configuration: configuration, logger: logger)
            let head = try log.head()
            log.state.withLock { $0.committedHead = head.position }
            logger.info("event log open", metadata: ["directory": "\(directory)", "head": "\(head.position)"])
            return log
        } catch {
            writer.shutdown()
            throw EventLogError.storage(error)
        }
    }

    private init(environment: Environment, writer: Writer, databases: Databases, configuration: Configuration,
                 logger: Logger) {
        self.environment = environment
        self.writer = writer
        self.databases = databases
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Finishes queued appends, ends subscriptions and stops the writer thread. Idempotent.
    public func close() {
        writer.shutdown()
        let waiters = state.withLock { s -> [Waiter] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { w.continuation.resume() }
    }

    /// Counters since open: batches (transactions) and events committed.
    public var statistics: (batches: UInt64, events: UInt64) {
        state.withLock { ($0.batchesCommitted, $0.eventsCommitted) }
    }

    // MARK: - Appending

    /// Appends `events` to `stream` if its version matches `expectedVersion`.
    ///
    /// Returns once the events are durably committed. Appending event ids that are all
    /// stored already with the same content returns the original positions and appends
    /// nothing (``AppendResult/duplicate``).
    ///
    /// - Throws: ``EventLogError`` (`.wrongExpectedVersion` with the current version,
    ///   `.duplicateEventId`, `.partialDuplicate`, `.invalidInput`, `.storage`, `.closed`).
    public func append(to stream: String, expectedVersion: ExpectedVersion = .any, events: [NewEvent]) async throws
        -> AppendResult
    {
        let results = try await append([StreamAppend(stream: stream, expectedVersion: expectedVersion, events: events)])
        return results[0]
    }

    /// Appends to several streams atomically: either every part is appended, or none is.
    public func append(_ appends: [StreamAppend]) async throws -> [AppendResult] {
        try Validation.check(appends)
        let count = appends.reduce(0) { $0 + $1.events.count }
        return try await withCheckedThrowingContinuation { continuation in
            let schedule = state.withLock { s -> Bool? in
                if s.closed { return nil }
                s.pending.append(Pending(appends: appends, eventCount: count, continuation: continuation))
                if s.drainScheduled { return false }
                s.drainScheduled = true
                return true
            }
            switch schedule {
            case nil:
                continuation.resume(throwing: EventLogError(.closed, "the event log is closed; reopen it to append"))
            case true?:
                if !writer.submit({ [self] context in self.drain(context) }) {
                    failAllPending(EventLogError(.closed, "the event log is closed; reopen it to append"))
                }
            case false?:
                break
            }
        }
    }

    private func failAllPending(_ error: EventLogError) {
        let pending = state.withLock { s -> [Pending] in
            defer { s.pending.removeAll(); s.drainScheduled = false }
            return s.pending
        }
        for p in pending { p.continuation.resume(throwing: error) }
    }

    /// Runs on the writer thread: commits everything queued (up to the batch limit) in one
    /// transaction, then resumes the callers.
    private func drain(_ context: borrowing WriteContext) {
        let batch = state.withLock { s -> [Pending] in
            var taken = 0
            var events = 0
            while taken < s.pending.count && (taken == 0 || events + s.pending[taken].eventCount <= configuration.maxBatchEvents) {
                events += s.pending[taken].eventCount
                taken += 1
            }
            let batch = Array(s.pending.prefix(taken))
            s.pending.removeFirst(taken)
            return batch
        }
        let outcome: Result<BatchWriter.Outcome, any Error> = Result {
            try context.transaction { txn in
                var writer = BatchWriter(databases: databases, clock: configuration.clock)
                return try writer.write(batch.map(\.appends), in: txn)
            }
        }
        // Anything queued meanwhile gets its own drain, after this one.
        let again = state.withLock { s -> Bool in
            if case .success(let o) = outcome, o.head > s.committedHead {
                s.committedHead = o.head
                s.batchesCommitted += 1
                s.eventsCommitted += UInt64(o.appended)
            }
            if s.pending.isEmpty {
                s.drainScheduled = false
                return false
            }
            return true
        }
        if again, !writer.submit({ [self] context in self.drain(context) }) {
            failAllPending(EventLogError(.closed, "the event log is closed; reopen it to append"))
        }
        switch outcome {
        case .success(let o):
            for (pending, result) in zip(batch, o.results) {
                pending.continuation.resume(with: result.mapError { $0 as any Error })
            }
            if o.appended > 0 { wakeWaiters() }
            configuration.onBatchCommitted?(batch.count, o.appended)
            logger.trace("committed batch", metadata: ["appends": "\(batch.count)", "events": "\(o.appended)", "head": "\(o.head)"])
        case .failure(let error):
            let mapped = EventLogError.storage(error)
            logger.error("append batch failed", metadata: ["error": "\(mapped.message)"])
            for pending in batch { pending.continuation.resume(throwing: mapped) }
        }
    }

    // MARK: - Waiting for appends (subscriptions)

    /// Suspends until the committed head passes `position`, the log closes, the task is
    /// cancelled, or `pollInterval` passes (so appends by another process are seen too).
    func waitForAppend(after position: UInt64, pollInterval: Duration = .milliseconds(500)) async {
        let token = state.withLock { s -> UInt64 in
            s.nextWaiterToken += 1
            return s.nextWaiterToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.closed || s.committedHead > position || Task.isCancelled { return true }
                    s.waiters[token] = Waiter(after: position, continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                let nanos = pollInterval.components.seconds * 1_000_000_000 + pollInterval.components.attoseconds / 1_000_000_000
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanos))) { [self] in
                    resumeWaiter(token)
                }
            }
        } onCancel: {
            resumeWaiter(token)
        }
    }

    private func resumeWaiter(_ token: UInt64) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
        waiter?.continuation.resume()
    }

    private func wakeWaiters() {
        let ready = state.withLock { s -> [Waiter] in
            let head = s.committedHead
            let ready = s.waiters.filter { $0.value.after < head }
            for key in ready.keys { s.waiters.removeValue(forKey: key) }
            return Array(ready.values)
        }
        for w in ready { w.continuation.resume() }
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}

/// Microseconds since the epoch from the system clock.
public func systemMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
}

/// Sync policy of the log's commits (re-exported from the LMDB wrapper so that users of
/// the log need not import it).
public typealias Durability = LMDB.Durability
