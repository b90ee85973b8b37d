import Synchronization

/// Per-stream async locks: commands for the same stream in this process take turns, so
/// they decide on fresh state instead of racing and re-deciding on conflicts. Commands for
/// different streams run concurrently. (Writers in other processes are still handled by
/// the expected-version check and the handler's retry.)
final class StreamLocks: Sendable {
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Waits until this task holds `stream`'s lock. A free lock is taken without suspending
    /// (a continuation resumed at once would still send the task through its executor's
    /// queue: a hop, often a thread wakeup, per command).
    func acquire(_ stream: String) async {
        let free = waiting.withLock { table -> Bool in
            guard table[stream] == nil else { return false }
            table[stream] = []
            return true
        }
        if free { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = waiting.withLock { table -> Bool in
                if table[stream] == nil {
                    table[stream] = []
                    return true
                }
                table[stream]?.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands `stream`'s lock to the next waiter, or frees it.
    func release(_ stream: String) {
        let next = waiting.withLock { table -> CheckedContinuation<Void, Never>? in
            guard var queue = table[stream] else { return nil }
            if queue.isEmpty {
                table.removeValue(forKey: stream)
                return nil
            }
            let first = queue.removeFirst()
            table[stream] = queue
            return first
        }
        next?.resume()
    }
}
