import Foundation
import LMDB

/// Direction of a stream read.
public enum ReadDirection: Sendable, Hashable {
    /// Oldest first.
    case forward
    /// Newest first.
    case backward
}

extension EventLog {
    /// The log's head: last position and its chain hash.
    public func head() throws -> LogHead {
        try environment.read { txn in
            try txn.withCursor(databases.events) { cursor in
                guard let last = try cursor.get(.last) else { return LogHead(position: 0, hash: .genesis) }
                return LogHead(position: RecordCoding.readBE64(last.key),
                               hash: ChainHash(bytes: Array(last.value.prefix(32))))
            }
        }
    }

    /// The head of `stream`, or `nil` when it has no events.
    public func streamHead(_ stream: String) throws -> StreamHead? {
        try environment.read { txn in
            guard let value = try txn.get(databases.streams, key: Array(stream.utf8)) else { return nil }
            return StreamHead(stream: stream, version: RecordCoding.readBE64(value, at: 0),
                              lastPosition: RecordCoding.readBE64(value, at: 8))
        }
    }

    /// The event at `position`, or `nil`.
    public func event(at position: UInt64) throws -> RecordedEvent? {
        try environment.read { txn in
            try txn.get(databases.events, key: RecordCoding.be64(position)).map { try RecordCoding.decode($0) }
        }
    }

    /// The event with id `id`, or `nil`.
    public func event(id: UUID) throws -> RecordedEvent? {
        try environment.read { txn in
            guard let pos = try txn.get(databases.eventIds, key: RecordCoding.uuidBytes(id)) else { return nil }
            return try txn.get(databases.events, key: Array(pos)).map { try RecordCoding.decode($0) }
        }
    }

    /// Up to `limit` events of `stream`, starting at `version` and going `direction`.
    /// Backward from `UInt64.max` reads the newest first. Cost is proportional to what is read.
    public func readStream(_ stream: String, from version: UInt64 = 0, direction: ReadDirection = .forward,
                           limit: Int = 1_000) throws -> [RecordedEvent] {
        guard limit > 0 else { return [] }
        let prefix = Array(stream.utf8) + [0]
        return try environment.read { txn in
            try txn.withCursor(databases.streamIndex) { cursor in
                var out: [RecordedEvent] = []
                var entry = try cursor.get(.setRange, key: RecordCoding.streamIndexKey(stream, version: version))
                if direction == .backward {
                    let exact = entry.map { isKey($0.key, prefix: prefix) && RecordCoding.readBE64($0.key, at: prefix.count) == version } ?? false
                    if !exact { entry = try cursor.get(entry == nil ? .last : .previous) }
                }
                while let e = entry, isKey(e.key, prefix: prefix), out.count < limit {
                    guard let value = try txn.get(databases.events, key: Array(e.value)) else {
                        throw EventLogError(.corrupt, "stream index of \(stream) points at missing position \(RecordCoding.readBE64(e.value))")
                    }
                    out.append(try RecordCoding.decode(value, key: RecordCoding.readBE64(e.value)))
                    entry = try cursor.get(direction == .forward ? .next : .previous)
                }
                return out
            }
        }
    }

    /// Up to `limit` events of the whole log from `position` on, in position order, read in
    /// one short read transaction (``scan(positions:chunk:budget:_:)`` with an owned copy of
    /// each).
    public func readAll(from position: UInt64 = 1, limit: Int = 1_000) throws -> [RecordedEvent] {
        guard limit > 0 else { return [] }
        let first = max(1, position)
        var out: [RecordedEvent] = []
        out.reserveCapacity(min(limit, 4_096))
        let (last, overflow) = first.addingReportingOverflow(UInt64(limit) - 1)
        try scan(positions: first...(overflow ? .max : last), chunk: limit) { out.append($0.decoded()) }
        return out
    }

    /// Every stream head, in stream-name order, from `after` (exclusive), at most `limit`.
    public func streams(after: String? = nil, limit: Int = 1_000) throws -> [StreamHead] {
        try environment.read { txn in
            try txn.withCursor(databases.streams) { cursor in
                var out: [StreamHead] = []
                var entry = try after.map { a in
                    var e = try cursor.get(.setRange, key: Array(a.utf8))
                    if let k = e?.key, Array(k) == Array(a.utf8) { e = try cursor.get(.next) }
                    return e
                } ?? (try cursor.get(.first))
                while let e = entry, out.count < limit {
                    out.append(StreamHead(stream: String(decoding: e.key, as: UTF8.self),
                                          version: RecordCoding.readBE64(e.value, at: 0),
                                          lastPosition: RecordCoding.readBE64(e.value, at: 8)))
                    entry = try cursor.get(.next)
                }
                return out
            }
        }
    }
}

private func isKey(_ key: UnsafeRawBufferPointer, prefix: [UInt8]) -> Bool {
    key.count == prefix.count + 8 && key.prefix(prefix.count).elementsEqual(prefix)
}
