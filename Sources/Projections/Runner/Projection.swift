import EventLog
import Foundation
import LMDB

/// A projection: a pure function of the log kept in its own LMDB database (DESIGN.md rule 5).
///
/// The runner feeds it the events whose type has a handler, in position order, in batches.
/// A batch is the projection's working set for one write transaction: handlers fold events
/// into it (reading existing rows through the transaction when they need them), and
/// ``flush(_:table:txn:)`` writes the result. The runner writes the checkpoint in the same
/// transaction, so the tables and the checkpoint always agree (exactly-once).
///
/// The result must not depend on how the log is cut into batches: that is what makes a
/// rebuild byte-identical to the incrementally built tables (R9.4).
public protocol Projection: Sendable {
    /// The per-transaction working set.
    associatedtype Batch

    /// Stable name: `[a-z0-9-]+`. The tables live in `proj.<name>.a` or `proj.<name>.b`.
    var name: String { get }

    /// Handlers by event type. Events of other types are skipped without being decoded.
    var handlers: [String: ProjectionHandler<Batch>] { get }

    /// A fresh working set for one transaction.
    func makeBatch() -> Batch

    /// Writes what `batch` folded into `table`, inside the batch's transaction.
    func flush(_ batch: inout Batch, table: Database, txn: borrowing WriteTransaction) throws

    /// The layout version of the projection's tables. Raise it whenever the tables a given
    /// log produces change (a new index, a new value layout): the runner then rebuilds the
    /// projection before folding further (``ProjectionRunner/rebuildOutdated(batchSize:)``),
    /// instead of serving tables that lack what queries now expect. Default: 1.
    var formatVersion: Int { get }

    /// Decodes what the handler of `event` will need, on a thread other than the writer's
    /// (a rebuild reads and decodes ahead while the writer thread folds): pure, no tables.
    /// The handler finds the result in ``ProjectionEvent/decoded``. Default: `nil` (the
    /// handler decodes). A failure should return `nil`, so the handler reports it in order.
    func predecode(_ event: ProjectionEvent) -> (any Sendable)?

    /// During a rebuild the runner keeps folding into one batch across transactions and
    /// flushes it at the end or when this returns true (bound the memory here). Default: true
    /// (flush every transaction).
    func shouldFlushDuringRebuild(_ batch: Batch) -> Bool
}

extension Projection {
    /// Version 1.
    public var formatVersion: Int { 1 }

    /// No read-ahead decoding.
    public func predecode(_ event: ProjectionEvent) -> (any Sendable)? { nil }

    /// Flush every transaction.
    public func shouldFlushDuringRebuild(_ batch: Batch) -> Bool { true }
}

/// A projection whose tables are a function of each stream's fold alone (no stream reads
/// another's rows) can rebuild off the writer thread: it folds the log on every core, each
/// thread a partition of the streams, and hands the finished table to `append` in key order.
///
/// The runner calls this for phase 2 of ``ProjectionRunner/rebuild(_:batchSize:progress:)``
/// with the log's head; the runner appends the chunks to the fresh slot (empty), one write
/// transaction each. The rest (events appended meanwhile, the swap) goes through the
/// ordinary steps, so the entries must be exactly what ``Projection/flush(_:table:txn:)``
/// would have written.
public protocol ParallelRebuildProjection: Projection {
    /// Called before ``rebuildInParallel(log:upTo:progress:append:)`` with
    /// the log it rebuilds from, for what the fold needs from the log as a whole (the case
    /// projection puts in force every policy and calendar version the log holds: its threads
    /// read case streams only, and derive rows with the versions in force up to `head`).
    func prepareRebuild(log: EventLog, upTo head: UInt64) throws

    /// Folds every event up to `head` and passes the resulting table's entries to `append`,
    /// in chunks whose keys strictly increase across calls.
    /// Returns `false`, having passed nothing, when this instance rebuilds sequentially.
    ///
    /// - Parameters:
    ///   - log: the log, read through its scan (``EventLog/scan(positions:chunk:budget:_:)``);
    ///     its environment's directory holds the rebuild's scratch files (unlinked, so they
    ///     vanish with the process).
    ///   - progress: called with the position folded so far (by the slowest thread).
    func rebuildInParallel(log: EventLog, upTo head: UInt64,
                           progress: @escaping @Sendable (UInt64) -> Void,
                           append: @escaping @Sendable (SortedChunk) throws -> Void) throws -> Bool
}

/// A projection whose live steps the runner can prepare off the writer thread: fold the new
/// events and compute the writes in a read transaction on the caller's thread, then only
/// write them (and the checkpoint) on the writer thread, if the checkpoint has not moved
/// meanwhile (``ProjectionRunner/step(batchSize:)``). Both must do exactly what the
/// handlers and ``Projection/flush(_:table:txn:)`` do.
protocol PreparedStepProjection: Projection {
    /// What the handler of `event` does, reading the table through any transaction.
    func fold<T: TransactionReading & ~Copyable>(_ batch: inout Batch, _ event: ProjectionEvent, table: Database,
                                                 txn: borrowing T) throws
    /// The writes ``Projection/flush(_:table:txn:)`` makes for `batch`, which it empties.
    func writes(flushing batch: inout Batch) throws -> TableWrites
}

/// Writes to a projection's table: the deletes, then the puts (in key order).
struct TableWrites: Sendable {
    var deletes: [[UInt8]] = []
    var puts: [(key: [UInt8], value: [UInt8])] = []

    /// Makes them in `table`.
    func apply(to table: Database, txn: borrowing WriteTransaction) throws {
        for key in deletes { try txn.delete(table, key: key) }
        for (key, value) in puts { try txn.put(table, key: key, value: value) }
    }
}

/// Folds one event into the batch; may read `table` through `txn`. Throwing stops the
/// projection at this event (the runner reports its position; nothing of the batch is kept).
public typealias ProjectionHandler<Batch> =
    @Sendable (_ batch: inout Batch, _ event: ProjectionEvent, _ table: Database, _ txn: borrowing WriteTransaction) throws -> Void

/// Why a projection stopped or could not run.
public struct ProjectionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: Sendable, Hashable {
        /// A handler threw at ``ProjectionError/position``.
        case handlerFailed
        /// A stored record could not be read.
        case corruptRecord
        /// No projection of that name.
        case unknownProjection
        /// The projection stopped earlier with an error (see the message).
        case stopped
        /// ``ProjectionRunner/waitUntil(position:timeout:)`` timed out.
        case timeout
        /// LMDB failed.
        case storage
    }

    /// The code.
    public var code: Code
    /// The projection concerned.
    public var projection: String
    /// The log position of the failing event, when there is one.
    public var position: UInt64?
    /// What was wrong and what would be right.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, projection: String, position: UInt64? = nil, _ message: String) {
        self.code = code
        self.projection = projection
        self.position = position
        self.message = message
    }

    public var description: String { message }
}

/// A projection's progress: checkpoint against the log head.
public struct ProjectionStatus: Sendable, Hashable {
    /// The projection.
    public var name: String
    /// Last log position folded into its tables.
    public var checkpoint: UInt64
    /// The log's head when measured.
    public var head: UInt64
    /// `head - checkpoint`: events not yet projected.
    public var lag: UInt64 { head > checkpoint ? head - checkpoint : 0 }
    /// Which table slot (`a` or `b`) is active; a rebuild fills the other and swaps.
    public var slot: String
    /// The error that stopped it, if any.
    public var failure: String?
}
