import Foundation

/// An `AsyncSequence` of the log's events from a position on: it catches up on what is
/// stored, then follows live appends, with no gap and no duplicate (it reads by position,
/// and positions are gap-free). It ends when the log closes or the task is cancelled.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    let log: EventLog
    let start: UInt64
    let batchSize: Int

    /// The iterator; each `next()` reads in short read transactions, never across `await`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let log: EventLog
        var nextPosition: UInt64
        let batchSize: Int
        var buffer: [RecordedEvent] = []
        var index = 0

        public mutating func next() async throws -> RecordedEvent? {
            while true {
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                if Task.isCancelled || log.isClosed { return nil }
                buffer = try log.readAll(from: nextPosition, limit: batchSize)
                index = 0
                if let last = buffer.last {
                    nextPosition = last.position + 1
                    continue
                }
                await log.waitForAppend(after: nextPosition - 1)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(log: log, nextPosition: Swift.max(1, start), batchSize: batchSize)
    }
}

extension EventLog {
    /// Events from `position` (inclusive) on: catch-up, then live.
    public func subscribe(from position: UInt64 = 1, batchSize: Int = 512) -> EventSubscription {
        EventSubscription(log: self, start: position, batchSize: max(1, batchSize))
    }
}
