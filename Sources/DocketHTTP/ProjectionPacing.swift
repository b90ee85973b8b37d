import EventLog
import Projections

/// How the server's projections share the LMDB writer thread with command appends.
///
/// Every projection step is a write transaction of its own with a full sync, run on the one
/// writer thread between the appends' group-commit transactions. Following the log after
/// every commit, as ``ProjectionRunner/run(batchSize:)`` does, puts one step per projection
/// (two fsynced commits with the shipped projections) between any two append batches, so
/// under a stream of commands the appends get a third of the writer and their batches wait
/// behind the projections' syncs. Paced, a step that moved is followed by a pause
/// proportional to what it took, so the projections take at most ``writerShare`` of the
/// wall time while appends keep arriving; they fold whatever the pause let accumulate in
/// one step. An isolated command is still projected at once (no pause precedes a step), so
/// read-your-writes (`Docket-Position`) waits at most one pause longer under load.
public struct ProjectionPacing: Sendable {
    /// Most of the wall time the projections' steps may take while the log keeps growing.
    public var writerShare: Double
    /// The longest pause after a step.
    public var maxPause: Duration

    /// Creates a pacing (defaults: a fifth of the time, pauses of at most 50 ms).
    public init(writerShare: Double = 0.2, maxPause: Duration = .milliseconds(50)) {
        self.writerShare = writerShare
        self.maxPause = maxPause
    }

    /// Events behind the log from which the projections catch up without pauses.
    public static let backlog: UInt64 = 4_096

    /// The pause after a step that took `step` and moved a checkpoint.
    public func pause(after step: Duration) -> Duration {
        let share = min(1, max(0.01, writerShare))
        return min(maxPause, step * ((1 - share) / share))
    }

    /// Catches up, then follows the log live, paced, until the task is cancelled, the log
    /// closes, or every projection has stopped (a projection that fails stops; the others
    /// keep running, as with ``ProjectionRunner/run(batchSize:)``).
    public func run(_ runner: ProjectionRunner, log: EventLog) async throws {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            if try await runner.step() {
                let pause = pause(after: clock.now - started)
                // No pause while catching up on a backlog (a restart, a long outage).
                if pause >= .milliseconds(1), try runner.statuses().map(\.lag).max() ?? 0 < Self.backlog {
                    try? await Task.sleep(for: pause)
                }
                continue
            }
            let live = try runner.statuses().filter { $0.failure == nil }
            guard let low = live.map(\.checkpoint).min() else { return }  // every projection stopped
            var waiting = log.subscribe(from: low + 1, batchSize: 1).makeAsyncIterator()
            guard try await waiting.next() != nil else { return }
        }
    }
}
