import Synchronization

/// A bounded cache of folded aggregate states by stream: a command on a stream it has seen
/// folds only the events appended since (by this or any other process), not the whole
/// stream. Entries are values (states are immutable value types), so sharing is safe.
final class StateCache: Sendable {
    private struct Entry {
        var state: any Sendable
        var version: UInt64
    }

    private struct Table {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var next = 0
    }

    private let table = Mutex(Table())
    /// Most streams kept; beyond it the oldest insertions are dropped.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The cached state and version of `stream`, if it was folded with type `State`.
    func get<State: Sendable>(_ stream: String, as: State.Type) -> (state: State, version: UInt64)? {
        table.withLock { t in
            guard let entry = t.entries[stream], let state = entry.state as? State else { return nil }
            return (state, entry.version)
        }
    }

    /// Remembers `state` as `stream`'s state at `version`, unless a later version of it is
    /// cached already (a reader that folded before an append may finish after it).
    func put<State: Sendable>(_ stream: String, state: State, version: UInt64) {
        table.withLock { t in
            if let existing = t.entries[stream], existing.version > version { return }
            if t.entries[stream] == nil {
                if t.order.count < capacity {
                    t.order.append(stream)
                } else {
                    t.entries.removeValue(forKey: t.order[t.next])
                    t.order[t.next] = stream
                    t.next = (t.next + 1) % capacity
                }
            }
            t.entries[stream] = Entry(state: state, version: version)
        }
    }
}
