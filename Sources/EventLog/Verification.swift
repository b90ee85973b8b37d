import Foundation
import LMDB

/// One disagreement found by ``EventLog/verify(expecting:chunkSize:progress:)``.
public struct VerificationProblem: Sendable, Hashable, CustomStringConvertible {
    /// The log position concerned (`nil` for a problem not tied to one event).
    public var position: UInt64?
    /// What disagrees: `gap`, `undecodable`, `position-mismatch`, `hash-mismatch`,
    /// `stream-version`, `event-id-index`, `stream-index`, `stream-head`, `index-count`, `digest`.
    public var kind: String
    /// Human-readable explanation.
    public var message: String

    public var description: String {
        (position.map { "position \($0): " } ?? "") + message
    }
}

/// The result of verifying the log.
public struct VerificationReport: Sendable, Hashable {
    /// The digest (last position and hash) of the verified log.
    public var head: LogHead
    /// Events whose hash and indexes were checked.
    public var eventsChecked: UInt64
    /// Streams whose heads were checked.
    public var streamsChecked: Int
    /// The problems found (at most the first 100; see ``problemCount``).
    public var problems: [VerificationProblem]
    /// How many problems there were in all.
    public var problemCount: Int
    /// True when the chain and every index agree with the log.
    public var ok: Bool { problemCount == 0 }
    /// The lowest position named by a problem.
    public var firstBadPosition: UInt64? { problems.compactMap(\.position).min() }
}

extension EventLog {
    /// Recomputes the hash chain from the first event, and checks every index (event ids,
    /// stream index, stream heads) against the log. Runs in short read transactions of
    /// `chunkSize` events, so it works on a live log; it verifies up to the head it saw at
    /// start. With `expecting`, also checks that the log extends that digest (an auditor's
    /// earlier `position:hash`).
    public func verify(expecting digest: LogHead? = nil, chunkSize: Int = 65_536,
                       progress: ((_ done: UInt64, _ total: UInt64) -> Void)? = nil) throws -> VerificationReport {
        let end = try head().position
        var problems: [VerificationProblem] = []
        var problemCount = 0
        func problem(_ position: UInt64?, _ kind: String, _ message: String) {
            problemCount += 1
            if problems.count < 100 { problems.append(VerificationProblem(position: position, kind: kind, message: message)) }
        }
        var expected: UInt64 = 1
        var hash = ChainHash.genesis
        var streams: [String: (version: UInt64, last: UInt64)] = [:]
        var digestSeen = digest.map { $0.position == 0 } ?? true
        if let digest, digest.position == 0, digest.hash != .genesis {
            problem(nil, "digest", "digest 0:\(digest.hash.hex) is not the empty log's (0:\(ChainHash.genesis.hex))")
        }
        while expected <= end {
            let visited = try environment.read { txn -> Int in
                try txn.withCursor(databases.events) { cursor in
                    var count = 0
                    var entry = try cursor.get(.setRange, key: RecordCoding.be64(expected))
                    while let e = entry, count < chunkSize, expected <= end {
                        count += 1
                        let key = e.key.count == 8 ? RecordCoding.readBE64(e.key) : 0
                        if key != expected {
                            problem(expected, "gap", "expected position \(expected) next, found key \(key)")
                            if key > expected { expected = key }
                        }
                        // The chain covers the canonical bytes as stored, decodable or not.
                        if e.value.count > 32 {
                            let recomputed = RecordCoding.chainHash(previous: hash, canonical: UnsafeRawBufferPointer(rebasing: e.value[32...]))
                            let stored = ChainHash(bytes: Array(e.value.prefix(32)))
                            if recomputed != stored {
                                problem(key, "hash-mismatch", "stored hash \(stored.hex) but SHA-256(previous hash ‖ record) is \(recomputed.hex): the record or an earlier one was altered")
                            }
                            hash = stored
                        } else {
                            problem(key, "undecodable", "record is \(e.value.count) bytes, shorter than a hash and a header")
                        }
                        if let digest, digest.position == key {
                            digestSeen = true
                            if digest.hash != hash {
                                problem(key, "digest", "the kept digest \(key):\(digest.hash.hex) does not match the log's hash \(hash.hex) at that position: the log does not extend it")
                            }
                        }
                        do {
                            let event = try RecordCoding.decode(e.value)
                            if event.position != key {
                                problem(key, "position-mismatch", "record under key \(key) says position \(event.position)")
                            }
                            let want = streams[event.stream].map { $0.version + 1 } ?? 0
                            if event.version != want {
                                problem(key, "stream-version", "stream \(event.stream) has version \(event.version) here, expected \(want)")
                            }
                            streams[event.stream] = (event.version, key)
                            let idValue = try txn.get(databases.eventIds, key: RecordCoding.uuidBytes(event.id))
                            if idValue.map({ RecordCoding.readBE64($0) }) != key {
                                problem(key, "event-id-index", "event id \(event.id.uuidString.lowercased()) is indexed at \(idValue.map { String(RecordCoding.readBE64($0)) } ?? "nothing"), not \(key)")
                            }
                            let indexValue = try txn.get(databases.streamIndex, key: RecordCoding.streamIndexKey(event.stream, version: event.version))
                            if indexValue.map({ RecordCoding.readBE64($0) }) != key {
                                problem(key, "stream-index", "stream index \(event.stream)@\(event.version) points at \(indexValue.map { String(RecordCoding.readBE64($0)) } ?? "nothing"), not \(key)")
                            }
                        } catch {
                            problem(key, "undecodable", "record does not decode: \(error)")
                        }
                        expected = key + 1
                        entry = try cursor.get(.next)
                    }
                    return count
                }
            }
            progress?(min(expected - 1, end), end)
            if visited == 0 {
                problem(expected, "gap", "the log ends at \(expected - 1), before its head \(end)")
                break
            }
        }
        if let digest, !digestSeen {
            problem(nil, "digest", "the kept digest is at position \(digest.position), beyond the log's head \(end)")
        }
        // Index sizes and stream heads, each in one snapshot.
        try environment.read { txn in
            let events = try txn.entryCount(databases.events)
            let ids = try txn.entryCount(databases.eventIds)
            let index = try txn.entryCount(databases.streamIndex)
            if ids != events {
                problem(nil, "index-count", "event id index has \(ids) entries for \(events) events")
            }
            if index != events {
                problem(nil, "index-count", "stream index has \(index) entries for \(events) events")
            }
            for (stream, tracked) in streams {
                guard let value = try txn.get(databases.streams, key: Array(stream.utf8)) else {
                    problem(tracked.last, "stream-head", "stream \(stream) has events but no head")
                    continue
                }
                let version = RecordCoding.readBE64(value, at: 0)
                let last = RecordCoding.readBE64(value, at: 8)
                // A head beyond `end` belongs to a live append made after verification began.
                if last <= end && (version != tracked.version || last != tracked.last) || last > end && version <= tracked.version {
                    problem(tracked.last, "stream-head", "stream \(stream) head says version \(version) at \(last), the log says version \(tracked.version) at \(tracked.last)")
                }
            }
            try txn.withCursor(databases.streams) { cursor in
                var entry = try cursor.get(.first)
                while let e = entry {
                    let stream = String(decoding: e.key, as: UTF8.self)
                    if streams[stream] == nil && RecordCoding.readBE64(e.value, at: 8) <= end {
                        problem(nil, "stream-head", "stream \(stream) has a head but no events")
                    }
                    entry = try cursor.get(.next)
                }
            }
        }
        let verifiedHead = LogHead(position: end, hash: end == 0 ? .genesis : hash)
        return VerificationReport(head: verifiedHead, eventsChecked: end, streamsChecked: streams.count,
                                  problems: problems, problemCount: problemCount)
    }
}
