import LMDB

/// Work that shares each group commit's write transaction: after a batch's events are
/// written, and before the transaction commits, the log hands the transaction to its
/// follower (the projection runner folds the new events into its tables there), so that
/// the events and what follows from them reach the disk in one commit and one sync.
///
/// A follower must contain its own failures (e.g. in a ``WriteTransaction/nested(_:)``
/// transaction per unit of work): an error it throws aborts the whole batch, appends
/// included, and is meant only for a full map (``LMDBResultCode/mapFull``), after which
/// the log grows the map and writes the batch, and calls the follower, again.
public protocol CommitFollower: Sendable {
    /// Called on the writer thread inside the transaction that wrote positions
    /// `from + 1 ... to`. Returns work to run once the transaction has committed (before
    /// any appender learns of its commit), or `nil`.
    func follow(_ txn: borrowing WriteTransaction, after from: UInt64, through to: UInt64) throws -> (@Sendable () -> Void)?
}

extension EventLog {
    /// Sets (or, with `nil`, removes) the follower of every group commit from the next batch
    /// on. At most one: setting one replaces the previous.
    public func setCommitFollower(_ follower: (any CommitFollower)?) {
        state.withLock { $0.follower = follower }
    }
}
