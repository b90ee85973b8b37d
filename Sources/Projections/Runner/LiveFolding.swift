import EventLog
import LMDB

extension ProjectionRunner {
    /// The runner as its log's ``CommitFollower`` while it ``run(batchSize:)``s: every
    /// projection whose checkpoint stands at the head a group commit starts from folds the
    /// commit's events inside the commit's own write transaction. Events, tables and
    /// checkpoints then reach the disk in one commit and one sync, where separate steps cost
    /// a commit and a sync each per projection (on the one writer thread, so appends waited
    /// for them), and a command's read-your-writes holds as soon as it is answered.
    ///
    /// Each projection folds in a nested transaction of its own: if it fails, its writes
    /// are undone, the appends and the other projections commit, and the run loop's own
    /// step folds the same events again and reports the failure as it always has. A
    /// projection that lags (a catch-up, a rebuild's swap in between) is left to the loop.
    struct LiveFolder: CommitFollower {
        let runner: ProjectionRunner

        func follow(_ txn: borrowing WriteTransaction, after from: UInt64, through to: UInt64) throws
            -> (@Sendable () -> Void)?
        {
            var moved: [(name: String, position: UInt64)] = []
            for e in runner.entries {
                if runner.state.withLock({ $0.failures[e.name] != nil }) { continue }
                let target = StepTarget(events: runner.events, checkpoints: runner.checkpoints, key: Array(e.name.utf8),
                                        tables: e.tables, limit: Int(clamping: to - from))
                guard ProjectionRunner.decodeCheckpoint(try txn.get(target.checkpoints, key: target.key)).position == from else {
                    continue
                }
                do {
                    let result = try txn.nested { child in try e.step(child, target, nil, nil, false) }
                    moved.append((e.name, result.to))
                } catch let error as LMDBError where error.code == .mapFull {
                    throw error
                } catch {
                    runner.logger.debug("live fold left to the run loop", metadata: ["projection": "\(e.name)", "error": "\(error)"])
                }
            }
            guard !moved.isEmpty else { return nil }
            let runner = self.runner, folded = moved
            return {
                runner.state.withLock { s in
                    for m in folded where (s.checkpoints[m.name] ?? 0) < m.position { s.checkpoints[m.name] = m.position }
                }
            }
        }
    }
}
