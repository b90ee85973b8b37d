import Crypto
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
    ///
    /// How it is fast (issue 6: at least 1 M events/s) without dropping a check:
    /// - one pass over `events` recomputes every hash and walks each record's fields in
    ///   place (no decoding into strings and `Data`, no per-event allocation but the stream
    ///   name), checking positions, structure and per-stream versions;
    /// - instead of two random B-tree lookups per event, the event-id index and the stream
    ///   index are each read once in key order and compared with the events as multisets:
    ///   every (position, id) and (position, stream, version) pair is mixed with a keyed hash
    ///   (`Hasher`, randomly seeded per process, plus a random salt per call) and summed;
    ///   equal counts and sums mean the index holds exactly the log's pairs (an alteration
    ///   goes unnoticed with probability about 2⁻⁶⁴, and cannot be aimed at without the seed);
    /// - only when a sum differs does a second pass look every event up in the indexes, to
    ///   name the positions that are wrong (the same problems the lookups always reported).
    public func verify(expecting digest: LogHead? = nil, chunkSize: Int = 65_536,
                       progress: ((_ done: UInt64, _ total: UInt64) -> Void)? = nil) throws -> VerificationReport {
        let chunkSize = max(1, chunkSize)
        let end = try head().position
        var problems: [VerificationProblem] = []
        var problemCount = 0
        func problem(_ position: UInt64?, _ kind: String, _ message: String) {
            problemCount += 1
            if problems.count < 100 { problems.append(VerificationProblem(position: position, kind: kind, message: message)) }
        }
        let salt = UInt64.random(in: .min ... .max)
        var idsFromLog = IndexPrint()
        var streamIndexFromLog = IndexPrint()
        var expected: UInt64 = 1
        var previous = [UInt8](repeating: 0, count: 32)
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
                        let value = e.value
                        let key = e.key.count == 8 ? RecordCoding.readBE64(e.key) : 0
                        if key != expected {
                            problem(expected, "gap", "expected position \(expected) next, found key \(key)")
                            if key > expected { expected = key }
                        }
                        // The chain covers the canonical bytes as stored, decodable or not.
                        if value.count > 32 {
                            var hasher = SHA256()
                            previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: value[32...]))
                            let recomputed = hasher.finalize()
                            let matches = recomputed.withUnsafeBytes { $0.elementsEqual(value.prefix(32)) }
                            if !matches {
                                let stored = ChainHash(bytes: Array(value.prefix(32)))
                                problem(key, "hash-mismatch", "stored hash \(stored.hex) but SHA-256(previous hash ‖ record) is \(ChainHash(bytes: Array(recomputed)).hex): the record or an earlier one was altered")
                            }
                            previous.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: value[0..<32])) }
                        } else {
                            problem(key, "undecodable", "record is \(value.count) bytes, shorter than a hash and a header")
                        }
                        if let digest, digest.position == key {
                            digestSeen = true
                            if digest.hash.bytes != previous {
                                problem(key, "digest", "the kept digest \(key):\(digest.hash.hex) does not match the log's hash \(ChainHash(bytes: previous).hex) at that position: the log does not extend it")
                            }
                        }
                        switch RecordLayout.parse(value) {
                        case .failure(let reason):
                            problem(key, "undecodable", "record does not decode: \(reason)")
                        case .success(let record):
                            if record.position != key {
                                problem(key, "position-mismatch", "record under key \(key) says position \(record.position)")
                            }
                            let streamBytes = UnsafeRawBufferPointer(rebasing: value[record.stream])
                            let stream = String(decoding: streamBytes, as: UTF8.self)
                            let want = streams[stream].map { $0.version + 1 } ?? 0
                            if record.version != want {
                                problem(key, "stream-version", "stream \(stream) has version \(record.version) here, expected \(want)")
                            }
                            streams[stream] = (record.version, key)
                            idsFromLog.add(IndexPrint.mix(salt, key, UnsafeRawBufferPointer(rebasing: value[record.id])))
                            streamIndexFromLog.add(IndexPrint.mix(salt, key, streamBytes, record.version))
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
        // The indexes, each read once in key order; entries for events appended after
        // verification began (positions beyond `end`) are not part of the verified log.
        var idIndex = IndexPrint()
        try scanIndex(databases.eventIds, chunkSize: chunkSize) { key, value in
            guard key.count == 16, value.count == 8 else { idIndex.add(0); return }
            let position = RecordCoding.readBE64(value)
            if position <= end { idIndex.add(IndexPrint.mix(salt, position, key)) }
        }
        var streamIndex = IndexPrint()
        try scanIndex(databases.streamIndex, chunkSize: chunkSize) { key, value in
            guard key.count >= 9, key[key.count - 9] == 0, value.count == 8 else { streamIndex.add(0); return }
            let position = RecordCoding.readBE64(value)
            if position <= end {
                let stream = UnsafeRawBufferPointer(rebasing: key[0..<(key.count - 9)])
                streamIndex.add(IndexPrint.mix(salt, position, stream, RecordCoding.readBE64(key, at: key.count - 8)))
            }
        }
        if idIndex != idsFromLog || streamIndex != streamIndexFromLog {
            try locateIndexProblems(end: end, chunkSize: chunkSize, problem: problem)
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
        let verifiedHead = LogHead(position: end, hash: end == 0 ? .genesis : ChainHash(bytes: previous))
        return VerificationReport(head: verifiedHead, eventsChecked: end, streamsChecked: streams.count,
                                  problems: problems, problemCount: problemCount)
    }

    /// Reads every entry of `database` in key order, `chunkSize` entries per read transaction.
    private func scanIndex(_ database: Database, chunkSize: Int,
                           _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) throws {
        var resume: [UInt8]?
        while true {
            let last = try environment.read { txn -> [UInt8]? in
                try txn.withCursor(database) { cursor in
                    var entry = try resume.map { try cursor.get(.setRange, key: $0) } ?? (try cursor.get(.first))
                    if let resume, let e = entry, e.key.elementsEqual(resume) { entry = try cursor.get(.next) }
                    var count = 0
                    while let e = entry {
                        body(e.key, e.value)
                        count += 1
                        if count == chunkSize { return Array(e.key) }
                        entry = try cursor.get(.next)
                    }
                    return nil
                }
            }
            guard let last else { return }
            resume = last
        }
    }

    /// Looks every event of positions 1...`end` up in the event-id and stream indexes and
    /// reports each one they do not point back at (run only when the multiset check failed).
    private func locateIndexProblems(end: UInt64, chunkSize: Int,
                                     problem: (_ position: UInt64?, _ kind: String, _ message: String) -> Void) throws {
        var position: UInt64 = 1
        while position <= end {
            let visited = try environment.read { txn -> Int in
                try txn.withCursor(databases.events) { cursor in
                    var count = 0
                    var entry = try cursor.get(.setRange, key: RecordCoding.be64(position))
                    while let e = entry, count < chunkSize {
                        let key = e.key.count == 8 ? RecordCoding.readBE64(e.key) : 0
                        if key > end { return count }
                        count += 1
                        position = key + 1
                        // Undecodable records were reported by the main pass.
                        if let event = try? RecordCoding.decode(e.value) {
                            let idValue = try txn.get(databases.eventIds, key: RecordCoding.uuidBytes(event.id))
                            if idValue.map({ RecordCoding.readBE64($0) }) != key {
                                problem(key, "event-id-index", "event id \(event.id.uuidString.lowercased()) is indexed at \(idValue.map { String(RecordCoding.readBE64($0)) } ?? "nothing"), not \(key)")
                            }
                            let indexValue = try txn.get(databases.streamIndex, key: RecordCoding.streamIndexKey(event.stream, version: event.version))
                            if indexValue.map({ RecordCoding.readBE64($0) }) != key {
                                problem(key, "stream-index", "stream index \(event.stream)@\(event.version) points at \(indexValue.map { String(RecordCoding.readBE64($0)) } ?? "nothing"), not \(key)")
                            }
                        }
                        entry = try cursor.get(.next)
                    }
                    return count
                }
            }
            if visited == 0 { return }
        }
        // Entries pointing at positions that hold no such event are found by the count check.
    }
}

/// A multiset fingerprint of index entries: how many, and the sum of their keyed hashes.
struct IndexPrint: Equatable {
    var count: UInt64 = 0
    var sum: UInt64 = 0

    mutating func add(_ mixed: UInt64) {
        count &+= 1
        sum &+= mixed
    }

    /// Keyed hash of an event-id entry (position, id bytes).
    static func mix(_ salt: UInt64, _ position: UInt64, _ id: UnsafeRawBufferPointer) -> UInt64 {
        var h = Hasher()
        h.combine(salt)
        h.combine(position)
        h.combine(bytes: id)
        return UInt64(UInt(bitPattern: h.finalize()))
    }

    /// Keyed hash of a stream-index entry (position, stream bytes, version).
    static func mix(_ salt: UInt64, _ position: UInt64, _ stream: UnsafeRawBufferPointer, _ version: UInt64) -> UInt64 {
        var h = Hasher()
        h.combine(salt &+ 1)
        h.combine(position)
        h.combine(version)
        h.combine(stream.count)
        h.combine(bytes: stream)
        return UInt64(UInt(bitPattern: h.finalize()))
    }
}

/// The offsets of a stored record's fields, found without copying anything
/// (schemas/storage.md: hash ‖ format ‖ position ‖ version ‖ id ‖ recordedAt ‖ schema
/// version ‖ seven length-prefixed fields, the first being the stream).
struct RecordLayout {
    var position: UInt64
    var version: UInt64
    var id: Range<Int>
    var stream: Range<Int>

    /// Walks `value`; fails with the reason the full decoder would give.
    static func parse(_ value: UnsafeRawBufferPointer) -> Result<RecordLayout, RecordLayoutError> {
        let fixed = 32 + 1 + 8 + 8 + 16 + 8 + 4
        guard value.count >= 33 else { return .failure(RecordLayoutError("record is truncated or malformed")) }
        guard value[32] == RecordCoding.recordFormat else {
            return .failure(RecordLayoutError("record has format \(value[32]), expected \(RecordCoding.recordFormat)"))
        }
        guard value.count >= fixed else { return .failure(RecordLayoutError("record is truncated or malformed")) }
        var offset = fixed
        var stream = 0..<0
        for field in 0..<7 {
            guard offset + 4 <= value.count else { return .failure(RecordLayoutError("record is truncated or malformed")) }
            var length = 0
            for i in 0..<4 { length = length << 8 | Int(value[offset + i]) }
            offset += 4
            guard length <= value.count - offset else { return .failure(RecordLayoutError("record is truncated or malformed")) }
            if field == 0 { stream = offset..<(offset + length) }
            offset += length
        }
        let position = RecordCoding.readBE64(value, at: 33)
        guard offset == value.count else {
            return .failure(RecordLayoutError("record at position \(position) has \(value.count - offset) trailing bytes"))
        }
        return .success(RecordLayout(position: position, version: RecordCoding.readBE64(value, at: 41), id: 49..<65, stream: stream))
    }
}

/// Why a record's layout is malformed.
struct RecordLayoutError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
