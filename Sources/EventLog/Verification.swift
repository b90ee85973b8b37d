import Crypto
import Dispatch
import Foundation
import LMDB
import Synchronization

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
    /// - every link of the chain is checked on its own: `SHA-256(stored hash of p-1 ‖
    ///   canonical(p))` must equal the stored hash of `p`, for every `p` from 1 with the
    ///   genesis hash before it. By induction this is the same as recomputing the chain from
    ///   the first event, and it lets the log be cut into contiguous segments verified on
    ///   all cores at once; a segment starts from the stored hash of the record before it;
    /// - one pass over each segment recomputes every hash and walks each record's fields in
    ///   place (no decoding into strings and `Data`, no per-event allocation), checking
    ///   positions and structure;
    /// - instead of two random B-tree lookups per event, the event-id index and the stream
    ///   index are each read once in key order (in parallel with the segments) and compared
    ///   with the events as multisets: every (position, id) and (position, stream, version)
    ///   pair is mixed with a keyed hash (`Hasher`, randomly seeded per process, plus a random
    ///   salt per call) and summed; equal counts and sums mean the index holds exactly the
    ///   log's pairs (an alteration goes unnoticed with probability about 2⁻⁶⁴, and cannot be
    ///   aimed at without the seed);
    /// - per-stream versions are checked on the stream index, whose entries come grouped by
    ///   stream in version order: each stream's versions must be 0, 1, 2, ... with increasing
    ///   positions. With the stream index equal to the log's (position, stream, version)
    ///   triples (the fingerprint above), that is exactly "a stream's versions are 0, 1, 2, ...
    ///   in position order". It also yields every stream's last version and position for the
    ///   head check, so the events pass keeps no per-stream table;
    /// - only when a sum differs, or the stream index shows a version out of order, do further
    ///   passes name the positions that are wrong: one over the log with a per-stream table
    ///   (a stream's first version in a segment checked against its last one in the segments
    ///   before, when they are merged in log order) for `stream-version`, and one looking every
    ///   event up in the indexes (the same problems the lookups always reported);
    /// - the stream heads are read in one cursor pass over `streams`, in one snapshot.
    ///
    /// `progress` is called on the calling thread, about ten times a second and at the end.
    public func verify(expecting digest: LogHead? = nil, chunkSize: Int = 65_536,
                       progress: ((_ done: UInt64, _ total: UInt64) -> Void)? = nil) throws -> VerificationReport {
        try verify(expecting: digest, chunkSize: chunkSize, segments: nil, workers: nil, progress: progress)
    }

    /// ``verify(expecting:chunkSize:progress:)`` with the parallelism chosen by the caller
    /// (tests): the log is cut into `segments` (nil: automatic) verified by `workers` threads
    /// (nil: one per core; 1: everything on the calling thread).
    func verify(expecting digest: LogHead?, chunkSize: Int, segments: Int?, workers: Int?,
                progress: ((_ done: UInt64, _ total: UInt64) -> Void)?) throws -> VerificationReport {
        let chunkSize = max(1, chunkSize)
        let end = try head().position
        var problems = ProblemLog()
        if let digest, digest.position == 0, digest.hash != .genesis {
            problems.add(nil, "digest", "digest 0:\(digest.hash.hex) is not the empty log's (0:\(ChainHash.genesis.hex))")
        }
        let workerCount = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        let segmentCount = max(1, segments ?? (workerCount == 1 || end < 16_384 ? 1 : workerCount * 4))
        let salt = UInt64.random(in: .min ... .max)
        let segmentRanges = VerifyRun.split(end: end, into: segmentCount)
        let run = VerifyRun(log: self, end: end, salt: salt, digest: digest, chunkSize: chunkSize,
                            segments: segmentRanges, mode: .chain)
        var merge = try run.perform(workers: workerCount, progress: progress)
        progress?(end, end)
        var found = merge.problems
        if let digest, !merge.digestSeen {
            found.append(VerificationProblem(position: nil, kind: "digest", message: "the kept digest is at position \(digest.position), beyond the log's head \(end)"))
            merge.problemCount += 1
        }
        guard let idIndex = run.idIndex, let streamIndex = run.streamIndex, var streams = run.streamHeads else {
            throw EventLogError(.storage, "verification finished without scanning the indexes")
        }
        let indexesDiffer = idIndex != merge.ids || streamIndex != merge.streamIndex
        if indexesDiffer || run.versionsOutOfOrder {
            // Name the stream-version problems from the log itself (the index cannot be trusted
            // for them), and take the streams' last versions from the log too.
            let streamsRun = VerifyRun(log: self, end: end, salt: salt, digest: nil, chunkSize: chunkSize,
                                       segments: segmentRanges, mode: .streams)
            let fromLog = try streamsRun.perform(workers: workerCount, progress: nil)
            found += fromLog.problems
            merge.problemCount += fromLog.problemCount
            streams = fromLog.streams
        }
        // Problems of the log's passes in position order (those of one position in the order found).
        problems.absorb(found.sorted(), count: merge.problemCount)
        if indexesDiffer {
            try locateIndexProblems(end: end, chunkSize: chunkSize) { problems.add($0, $1, $2) }
        }
        // Index sizes and stream heads, each in one snapshot.
        try environment.read { txn in
            let events = try txn.entryCount(databases.events)
            let ids = try txn.entryCount(databases.eventIds)
            let index = try txn.entryCount(databases.streamIndex)
            if ids != events {
                problems.add(nil, "index-count", "event id index has \(ids) entries for \(events) events")
            }
            if index != events {
                problems.add(nil, "index-count", "stream index has \(index) entries for \(events) events")
            }
            let keys = MixKeys(salt: run.salt)
            try txn.withCursor(databases.streams) { cursor in
                var entry = try cursor.get(.first)
                while let e = entry {
                    entry = try cursor.get(.next)
                    let handle = streams.find(hash: keys.stream(e.key), name: e.key)
                    if let handle { streams.mark(handle) }
                    guard e.value.count == 16 else {
                        problems.add(handle.map { streams.entry($0).lastPosition }, "stream-head",
                                     "stream \(String(decoding: e.key, as: UTF8.self)) has a head of \(e.value.count) bytes, not 16")
                        continue
                    }
                    let version = RecordCoding.readBE64(e.value, at: 0)
                    let last = RecordCoding.readBE64(e.value, at: 8)
                    guard let handle else {
                        if last <= end {
                            problems.add(nil, "stream-head", "stream \(String(decoding: e.key, as: UTF8.self)) has a head but no events")
                        }
                        continue
                    }
                    let tracked = streams.entry(handle)
                    // A head beyond `end` belongs to a live append made after verification began.
                    if last <= end && (version != tracked.lastVersion || last != tracked.lastPosition)
                        || last > end && version <= tracked.lastVersion {
                        problems.add(tracked.lastPosition, "stream-head", "stream \(streams.name(handle)) head says version \(version) at \(last), the log says version \(tracked.lastVersion) at \(tracked.lastPosition)")
                    }
                }
            }
            for handle in streams.handles where !streams.isMarked(handle) {
                problems.add(streams.entry(handle).lastPosition, "stream-head", "stream \(streams.name(handle)) has events but no head")
            }
        }
        let verifiedHead = LogHead(position: end, hash: end == 0 ? .genesis : ChainHash(bytes: merge.lastHash))
        return VerificationReport(head: verifiedHead, eventsChecked: end, streamsChecked: streams.count,
                                  problems: problems.problems, problemCount: problems.count)
    }

    /// Reads every entry of `database` in key order, `chunkSize` entries per read transaction.
    fileprivate func scanIndex(_ database: Database, chunkSize: Int,
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

/// The first 100 problems found, and how many there were in all.
struct ProblemLog: Sendable {
    var problems: [VerificationProblem] = []
    var count = 0

    mutating func add(_ position: UInt64?, _ kind: String, _ message: String) {
        count += 1
        if problems.count < 100 { problems.append(VerificationProblem(position: position, kind: kind, message: message)) }
    }

    /// Adds problems kept elsewhere (`kept`, the first of `count` in all).
    mutating func absorb(_ kept: [VerificationProblem], count: Int) {
        self.count += count
        problems.append(contentsOf: kept.prefix(max(0, 100 - problems.count)))
    }
}

/// One verification's shared state: the work (event segments and the two index scans),
/// handed to worker threads one task at a time, and what each task found.
final class VerifyRun: Sendable {
    let log: EventLog
    /// The head position seen at the start: what is verified.
    let end: UInt64
    /// Random per verification: keys the index fingerprints and the stream table.
    let salt: UInt64
    let digest: LogHead?
    let chunkSize: Int
    /// Contiguous ranges of positions covering 1...end, in order.
    let segments: [ClosedRange<UInt64>]
    let mode: Mode
    /// What a run checks.
    enum Mode: Sendable {
        /// The chain, record structure, positions and digest in the segments, and the two
        /// index scans (tasks 0 and 1).
        case chain
        /// Only the per-stream versions, from the log (after the stream index proved untrustworthy).
        case streams
    }
    /// Tasks before the segments' (the index scans, in `.chain` mode).
    private var scanTasks: Int { mode == .chain ? 2 : 0 }
    /// The next task to hand out: the index scans first, then the segments.
    private let nextTask = Atomic<Int>(0)
    /// Events of the segments checked so far (for progress).
    let done = Atomic<UInt64>(0)
    private let state = Mutex(Results())

    private struct Results {
        var segments: [SegmentResult?] = []
        var idIndex: IndexPrint?
        var streamIndex: IndexPrint?
        var streamHeads: StreamTable?
        var versionsOutOfOrder = false
        var failure: (any Error)?
    }

    init(log: EventLog, end: UInt64, salt: UInt64, digest: LogHead?, chunkSize: Int, segments: [ClosedRange<UInt64>], mode: Mode) {
        self.log = log
        self.end = end
        self.salt = salt
        self.digest = digest
        self.chunkSize = chunkSize
        self.segments = segments
        self.mode = mode
        state.withLock { $0.segments = Array(repeating: nil, count: segments.count) }
    }

    /// Cuts 1...`end` into at most `count` contiguous non-empty ranges of nearly equal size
    /// (``EventLog/partitions(of:count:)``).
    static func split(end: UInt64, into count: Int) -> [ClosedRange<UInt64>] {
        end == 0 ? [] : EventLog.partitions(of: 1...end, count: count)
    }

    var failure: (any Error)? { state.withLock { $0.failure } }
    var idIndex: IndexPrint? { state.withLock { $0.idIndex } }
    var streamIndex: IndexPrint? { state.withLock { $0.streamIndex } }
    /// Every stream's last version and position below `end`, from the stream index.
    var streamHeads: StreamTable? { state.withLock { $0.streamHeads } }
    /// Whether the stream index shows a stream whose versions are not 0, 1, 2, ... in position order.
    var versionsOutOfOrder: Bool { state.withLock { $0.versionsOutOfOrder } }

    /// Runs every task on `workers` threads (1: on this one) and folds the segments' results
    /// in log order as they arrive, calling `progress` from this thread meanwhile.
    func perform(workers: Int, progress: ((_ done: UInt64, _ total: UInt64) -> Void)?) throws -> SegmentMerge {
        var merge = SegmentMerge(digest: digest)
        if workers == 1 {
            work()
        } else {
            let group = DispatchGroup()
            for _ in 0..<workers {
                group.enter()
                DispatchQueue.global().async {
                    self.work()
                    group.leave()
                }
            }
            while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
                while let next = takeResult(merge.merged) { merge.add(next) }
                progress?(min(done.load(ordering: .relaxed), end), end)
            }
        }
        if let failure { throw failure }
        while let next = takeResult(merge.merged) { merge.add(next) }
        return merge
    }

    /// Removes and returns the result of segment `index` once it is there.
    func takeResult(_ index: Int) -> SegmentResult? {
        state.withLock { results -> SegmentResult? in
            guard index < results.segments.count, let result = results.segments[index] else { return nil }
            results.segments[index] = nil
            return result
        }
    }

    /// Runs tasks until none is left (or one failed).
    func work() {
        while true {
            let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            guard task < segments.count + scanTasks, failure == nil else { return }
            do {
                switch task - scanTasks {
                case -2:
                    let print = try scanEventIDs()
                    state.withLock { $0.idIndex = print }
                case -1:
                    let (print, heads, outOfOrder) = try scanStreamIndex()
                    state.withLock {
                        $0.streamIndex = print
                        $0.streamHeads = heads
                        $0.versionsOutOfOrder = outOfOrder
                    }
                case let segment:
                    let result = try verifySegment(segments[segment])
                    state.withLock { $0.segments[segment] = result }
                }
            } catch {
                state.withLock { if $0.failure == nil { $0.failure = error } }
                return
            }
        }
    }

    /// The event-id index, read once in key order; entries for events appended after
    /// verification began (positions beyond `end`) are not part of the verified log.
    private func scanEventIDs() throws -> IndexPrint {
        var print = IndexPrint()
        let (keys, end) = (MixKeys(salt: salt), self.end)
        try log.scanIndex(log.databases.eventIds, chunkSize: chunkSize) { key, value in
            guard key.count == 16, value.count == 8 else { print.add(0); return }
            let position = RecordCoding.readBE64(value)
            if position <= end { print.add(keys.id(position, key)) }
        }
        return print
    }

    /// The stream index, read once in key order (positions beyond `end` left out): its
    /// fingerprint, every stream's first and last version and position, and whether some
    /// stream's versions are not 0, 1, 2, ... with increasing positions.
    private func scanStreamIndex() throws -> (IndexPrint, StreamTable, Bool) {
        var print = IndexPrint()
        var heads = StreamTable()
        var outOfOrder = false
        let (keys, end) = (MixKeys(salt: salt), self.end)
        try log.scanIndex(log.databases.streamIndex, chunkSize: chunkSize) { key, value in
            guard key.count >= 9, key[key.count - 9] == 0, value.count == 8 else { print.add(0); return }
            let position = RecordCoding.readBE64(value)
            if position <= end {
                let stream = UnsafeRawBufferPointer(rebasing: key[0..<(key.count - 9)])
                let streamHash = keys.stream(stream)
                let version = RecordCoding.readBE64(key, at: key.count - 8)
                print.add(keys.streamIndex(position, stream: streamHash, version: version))
                // Entries come grouped by stream, in version order: the table is hit in place.
                if !heads.follow(hash: streamHash, name: stream, version: version, position: position) { outOfOrder = true }
            }
        }
        return (print, heads, outOfOrder)
    }

    /// Verifies the events of `range`: every link of the chain (starting from the stored hash
    /// of the record before the range), record structure, positions, per-stream versions
    /// within the range, and the digest if it falls in the range; fingerprints the (position,
    /// id) and (position, stream, version) pairs. A gap is reported by the segment holding
    /// its first missing position.
    func verifySegment(_ range: ClosedRange<UInt64>) throws -> SegmentResult {
        var out = SegmentResult()
        let events = log.databases.events
        let (keys, end, chunkSize, digest) = (MixKeys(salt: salt), self.end, self.chunkSize, self.digest)
        let streamsOnly = mode == .streams
        var previous = [UInt8](repeating: 0, count: 32)
        var expected = range.lowerBound
        // Whether a gap at the range's first position began here (and not in an earlier segment).
        var ownsStartGap = true
        if range.lowerBound > 1 {
            try log.environment.read { txn in
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.get(.setRange, key: RecordCoding.be64(range.lowerBound))
                    entry = try entry == nil ? cursor.get(.last) : cursor.get(.previous)
                    let predecessor = entry.flatMap { $0.key.count == 8 ? RecordCoding.readBE64($0.key) : nil }
                    ownsStartGap = predecessor == range.lowerBound - 1
                    // The chain continues from the last record long enough to hold a hash.
                    while let e = entry {
                        if e.value.count > 32 {
                            previous.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: e.value[0..<32])) }
                            break
                        }
                        entry = try cursor.get(.previous)
                    }
                }
            }
        }
        var resume: [UInt8]?
        var finished = false
        var after: UInt64?  // the first key beyond the range, once seen
        while !finished {
            let visited = try log.environment.read { txn -> UInt64 in
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.get(.setRange, key: resume ?? RecordCoding.be64(expected))
                    if let resume, let e = entry, e.key.elementsEqual(resume) { entry = try cursor.get(.next) }
                    var count: UInt64 = 0
                    while let e = entry {
                        let value = e.value
                        guard e.key.count == 8 else {
                            if !streamsOnly { out.problems.add(expected, "gap", "expected position \(expected) next, found a key of \(e.key.count) bytes") }
                            count += 1
                            if count >= chunkSize { resume = Array(e.key); return count }
                            entry = try cursor.get(.next)
                            continue
                        }
                        let key = RecordCoding.readBE64(e.key)
                        if key > range.upperBound {
                            after = key
                            finished = true
                            return count
                        }
                        if streamsOnly {
                            // Everything but the versions was reported by the chain pass.
                            if let record = try? RecordCoding.parse(value) {
                                let streamBytes = record.streamBytes
                                if let want = out.streams.track(hash: keys.stream(streamBytes), name: streamBytes, version: record.version, position: key) {
                                    out.problems.add(key, "stream-version", "stream \(String(decoding: streamBytes, as: UTF8.self)) has version \(record.version) here, expected \(want)")
                                }
                            }
                            expected = key + 1
                            count += 1
                            if count >= chunkSize { resume = Array(e.key); return count }
                            entry = try cursor.get(.next)
                            continue
                        }
                        if key != expected && (expected > range.lowerBound || ownsStartGap) {
                            out.problems.add(expected, "gap", "expected position \(expected) next, found key \(key)")
                        }
                        // The chain covers the canonical bytes as stored, decodable or not.
                        if value.count > 32 {
                            var hasher = SHA256()
                            previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: value[32...]))
                            let recomputed = hasher.finalize()
                            let matches = recomputed.withUnsafeBytes { r in
                                guard let a = r.baseAddress, let b = value.baseAddress, r.count == 32 else { return false }
                                return memcmp(a, b, 32) == 0
                            }
                            if !matches {
                                let stored = ChainHash(bytes: Array(value.prefix(32)))
                                out.problems.add(key, "hash-mismatch", "stored hash \(stored.hex) but SHA-256(previous hash ‖ record) is \(ChainHash(bytes: Array(recomputed)).hex): the record or an earlier one was altered")
                            }
                            previous.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: value[0..<32])) }
                            out.lastHash = previous
                        } else {
                            out.problems.add(key, "undecodable", "record is \(value.count) bytes, shorter than a hash and a header")
                        }
                        if let digest, digest.position == key {
                            out.digestSeen = true
                            if digest.hash.bytes != previous {
                                out.problems.add(key, "digest", "the kept digest \(key):\(digest.hash.hex) does not match the log's hash \(ChainHash(bytes: previous).hex) at that position: the log does not extend it")
                            }
                        }
                        do throws(EventLogError) {
                            // The one record parser; without the key, its messages are the record's own.
                            let record = try RecordCoding.parse(value)
                            if record.position != key {
                                out.problems.add(key, "position-mismatch", "record under key \(key) says position \(record.position)")
                            }
                            out.streamIndex.add(keys.streamIndex(key, stream: keys.stream(record.streamBytes), version: record.version))
                            out.ids.add(keys.id(key, record.idBytes))
                        } catch {
                            out.problems.add(key, "undecodable", "record does not decode: \(error.message)")
                        }
                        expected = key + 1
                        count += 1
                        if count >= chunkSize { resume = Array(e.key); return count }
                        entry = try cursor.get(.next)
                    }
                    finished = true
                    return count
                }
            }
            done.wrappingAdd(visited, ordering: .relaxed)
        }
        // The end of the range is missing: report it here if the gap began in this segment.
        if !streamsOnly && expected <= range.upperBound && (expected > range.lowerBound || ownsStartGap) {
            if let after {
                out.problems.add(expected, "gap", "expected position \(expected) next, found key \(after)")
            } else {
                out.problems.add(expected, "gap", "the log ends at \(expected - 1), before its head \(end)")
            }
        }
        return out
    }
}

/// What one segment of the log was found to hold.
struct SegmentResult: Sendable {
    var problems = ProblemLog()
    /// Fingerprints of the (position, id) and (position, stream, version) pairs.
    var ids = IndexPrint()
    var streamIndex = IndexPrint()
    /// Each stream's first and last version (and their positions) in the segment.
    var streams = StreamTable()
    var digestSeen = false
    /// The stored hash of the segment's last record holding one.
    var lastHash: [UInt8]?
}

/// The segments' results folded in log order.
struct SegmentMerge {
    let digest: LogHead?
    /// How many segments were folded.
    var merged = 0
    var problems: [VerificationProblem] = []
    var problemCount = 0
    var ids = IndexPrint()
    var streamIndex = IndexPrint()
    /// Every stream's last version and position in the segments folded so far.
    var streams = StreamTable()
    var digestSeen: Bool
    var lastHash = ChainHash.genesis.bytes

    init(digest: LogHead?) {
        self.digest = digest
        digestSeen = digest.map { $0.position == 0 } ?? true
    }

    /// Folds the next segment's result.
    mutating func add(_ segment: SegmentResult) {
        merged += 1
        var found = segment.problems
        for handle in segment.streams.handles {
            let s = segment.streams.entry(handle)
            let want = segment.streams.withName(handle) { streams.append(s, name: $0) }
            if s.firstVersion != want {
                found.add(s.firstPosition, "stream-version", "stream \(segment.streams.name(handle)) has version \(s.firstVersion) here, expected \(want)")
            }
        }
        problems.append(contentsOf: found.problems)
        problemCount += found.count
        ids.add(segment.ids)
        streamIndex.add(segment.streamIndex)
        if segment.digestSeen { digestSeen = true }
        if let last = segment.lastHash { lastHash = last }
    }
}

extension [VerificationProblem] {
    /// In position order (problems without a position last), keeping the order of equals.
    func sorted() -> [VerificationProblem] {
        enumerated().sorted { a, b in
            let (pa, pb) = (a.element.position ?? .max, b.element.position ?? .max)
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
    }
}

/// Streams met in the log, keyed by their name's bytes (no `String` per event): each with
/// its first and last version and position. Open addressing on a keyed hash of the name,
/// names checked byte for byte on a hash match. Each stream is one record in a byte arena
/// (its numbers, then its name), so finding and updating a stream touches one place in
/// memory; a stream's handle is its record's offset in 8-byte words.
struct StreamTable: Sendable {
    /// A stream's numbers.
    struct Entry {
        var hash: UInt64
        var firstVersion: UInt64
        var firstPosition: UInt64
        var lastVersion: UInt64
        var lastPosition: UInt64
    }

    // Record layout (byte offsets): 0 hash, 8 first version, 16 first position, 24 last
    // version, 32 last position, 40 name length (UInt32), 44 mark (UInt32), 48 name,
    // padded to a multiple of 8.
    private static let header = 48
    private var arena: [UInt8] = []
    /// Open-addressing slots: a record's handle plus one, 0 when free. Kept at most half full.
    private var slots = [UInt32](repeating: 0, count: 1024)
    /// How many streams.
    private(set) var count = 0

    /// The handles of every stream, in the order they were first met.
    var handles: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        var offset = 0
        arena.withUnsafeBytes { a in
            while offset < a.count {
                out.append(offset / 8)
                offset += Self.size(Int(a.loadUnaligned(fromByteOffset: offset + 40, as: UInt32.self)))
            }
        }
        return out
    }

    private static func size(_ nameCount: Int) -> Int { header + (nameCount + 7) / 8 * 8 }

    /// Stream `handle`'s numbers.
    func entry(_ handle: Int) -> Entry {
        arena.withUnsafeBytes { a in
            let o = handle * 8
            return Entry(hash: a.loadUnaligned(fromByteOffset: o, as: UInt64.self),
                         firstVersion: a.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self),
                         firstPosition: a.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self),
                         lastVersion: a.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self),
                         lastPosition: a.loadUnaligned(fromByteOffset: o + 32, as: UInt64.self))
        }
    }

    /// Calls `body` with the bytes of stream `handle`'s name.
    func withName<R>(_ handle: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        arena.withUnsafeBytes { a in
            let o = handle * 8
            let n = Int(a.loadUnaligned(fromByteOffset: o + 40, as: UInt32.self))
            return body(UnsafeRawBufferPointer(rebasing: a[(o + Self.header)..<(o + Self.header + n)]))
        }
    }

    /// Stream `handle`'s name.
    func name(_ handle: Int) -> String {
        withName(handle) { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether ``mark(_:)`` was called for `handle`.
    func isMarked(_ handle: Int) -> Bool {
        arena.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: handle * 8 + 44, as: UInt32.self) != 0 }
    }

    /// Marks stream `handle` (e.g. as having a head).
    mutating func mark(_ handle: Int) {
        arena.withUnsafeMutableBytes { $0.storeBytes(of: 1 as UInt32, toByteOffset: handle * 8 + 44, as: UInt32.self) }
    }

    /// Records that stream `name` (whose hash is `hash`) has `version` at `position`; returns
    /// the version expected there when it differs (the last one seen plus one). A stream met
    /// for the first time expects nothing here: its first version and position are kept.
    @inline(__always)
    mutating func track(hash: UInt64, name: UnsafeRawBufferPointer, version: UInt64, position: UInt64) -> UInt64? {
        let (handle, inserted) = findOrInsert(hash: hash, name: name)
        return arena.withUnsafeMutableBytes { a -> UInt64? in
            let o = handle * 8
            var want: UInt64?
            if inserted {
                a.storeBytes(of: version, toByteOffset: o + 8, as: UInt64.self)
                a.storeBytes(of: position, toByteOffset: o + 16, as: UInt64.self)
            } else {
                let expected = a.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self) &+ 1
                if version != expected { want = expected }
            }
            a.storeBytes(of: version, toByteOffset: o + 24, as: UInt64.self)
            a.storeBytes(of: position, toByteOffset: o + 32, as: UInt64.self)
            return want
        }
    }

    /// Records the stream-index entry `name`@`version` → `position`, entries coming in key
    /// order; false when it breaks "versions 0, 1, 2, ... with increasing positions" (a stream's
    /// first entry is not version 0, or an entry does not follow the stream's last one).
    mutating func follow(hash: UInt64, name: UnsafeRawBufferPointer, version: UInt64, position: UInt64) -> Bool {
        let (handle, inserted) = findOrInsert(hash: hash, name: name)
        return arena.withUnsafeMutableBytes { a -> Bool in
            let o = handle * 8
            let ok: Bool
            if inserted {
                a.storeBytes(of: version, toByteOffset: o + 8, as: UInt64.self)
                a.storeBytes(of: position, toByteOffset: o + 16, as: UInt64.self)
                ok = version == 0
            } else {
                ok = version == a.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self) &+ 1
                    && position > a.loadUnaligned(fromByteOffset: o + 32, as: UInt64.self)
            }
            a.storeBytes(of: version, toByteOffset: o + 24, as: UInt64.self)
            a.storeBytes(of: position, toByteOffset: o + 32, as: UInt64.self)
            return ok
        }
    }

    /// Folds another table's stream (its numbers `e`) into this one as coming after every
    /// stream recorded here; returns the version its first event should have had.
    mutating func append(_ e: Entry, name: UnsafeRawBufferPointer) -> UInt64 {
        let (handle, inserted) = findOrInsert(hash: e.hash, name: name)
        return arena.withUnsafeMutableBytes { a -> UInt64 in
            let o = handle * 8
            var want: UInt64 = 0
            if inserted {
                a.storeBytes(of: e.firstVersion, toByteOffset: o + 8, as: UInt64.self)
                a.storeBytes(of: e.firstPosition, toByteOffset: o + 16, as: UInt64.self)
            } else {
                want = a.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self) &+ 1
            }
            a.storeBytes(of: e.lastVersion, toByteOffset: o + 24, as: UInt64.self)
            a.storeBytes(of: e.lastPosition, toByteOffset: o + 32, as: UInt64.self)
            return want
        }
    }

    /// The handle of stream `name` (whose hash is `hash`), if it was met.
    func find(hash: UInt64, name: UnsafeRawBufferPointer) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let handle = Int(slots[slot]) - 1
            if handle < 0 { return nil }
            if matches(handle, hash: hash, name: name) { return handle }
            slot = (slot + 1) & mask
        }
    }

    private mutating func findOrInsert(hash: UInt64, name: UnsafeRawBufferPointer) -> (handle: Int, inserted: Bool) {
        var mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let handle = Int(slots[slot]) - 1
            if handle < 0 { break }
            if matches(handle, hash: hash, name: name) { return (handle, false) }
            slot = (slot + 1) & mask
        }
        if (count + 1) * 2 > slots.count {
            grow()
            mask = slots.count - 1
            slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
        }
        let offset = arena.count
        arena.append(contentsOf: repeatElement(0, count: Self.size(name.count)))
        arena.withUnsafeMutableBytes { a in
            a.storeBytes(of: hash, toByteOffset: offset, as: UInt64.self)
            a.storeBytes(of: UInt32(truncatingIfNeeded: name.count), toByteOffset: offset + 40, as: UInt32.self)
            if let base = a.baseAddress, let source = name.baseAddress {
                (base + offset + Self.header).copyMemory(from: source, byteCount: name.count)
            }
        }
        count += 1
        slots[slot] = UInt32(truncatingIfNeeded: offset / 8 + 1)
        return (offset / 8, true)
    }

    private func matches(_ handle: Int, hash: UInt64, name: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { a in
            let o = handle * 8
            guard a.loadUnaligned(fromByteOffset: o, as: UInt64.self) == hash,
                  Int(a.loadUnaligned(fromByteOffset: o + 40, as: UInt32.self)) == name.count else { return false }
            guard let b = name.baseAddress, let base = a.baseAddress else { return true }
            return memcmp(base + o + Self.header, b, name.count) == 0
        }
    }

    private mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        arena.withUnsafeBytes { a in
            var offset = 0
            while offset < a.count {
                var slot = Int(truncatingIfNeeded: a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) & mask
                while bigger[slot] != 0 { slot = (slot + 1) & mask }
                bigger[slot] = UInt32(truncatingIfNeeded: offset / 8 + 1)
                offset += Self.size(Int(a.loadUnaligned(fromByteOffset: offset + 40, as: UInt32.self)))
            }
        }
        slots = bigger
    }
}

/// The keyed hashes verification mixes: `Hasher`s (SipHash, randomly seeded per process)
/// started from a random salt per verification, copied per use rather than re-seeded.
struct MixKeys {
    private let idBase: Hasher
    private let streamIndexBase: Hasher
    private let streamBase: Hasher

    init(salt: UInt64) {
        var h = Hasher()
        h.combine(salt)
        idBase = h
        h = Hasher()
        h.combine(salt &+ 1)
        streamIndexBase = h
        h = Hasher()
        h.combine(salt &+ 2)
        streamBase = h
    }

    /// Keyed hash of a stream name (what the stream table and the stream-index mix use).
    @inline(__always)
    func stream(_ name: UnsafeRawBufferPointer) -> UInt64 {
        var h = streamBase
        h.combine(bytes: name)
        return UInt64(UInt(bitPattern: h.finalize()))
    }

    /// Keyed hash of an event-id entry (position, the id's 16 bytes).
    @inline(__always)
    func id(_ position: UInt64, _ id: UnsafeRawBufferPointer) -> UInt64 {
        var h = idBase
        h.combine(position)
        if id.count == 16 {
            h.combine(id.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            h.combine(id.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        } else {
            h.combine(bytes: id)
        }
        return UInt64(UInt(bitPattern: h.finalize()))
    }

    /// Keyed hash of a stream-index entry (position, the stream's keyed hash
    /// ``stream(_:)``, version).
    @inline(__always)
    func streamIndex(_ position: UInt64, stream: UInt64, version: UInt64) -> UInt64 {
        var h = streamIndexBase
        h.combine(position)
        h.combine(version)
        h.combine(stream)
        return UInt64(UInt(bitPattern: h.finalize()))
    }
}

/// A multiset fingerprint of index entries: how many, and the sum of their keyed hashes
/// (``MixKeys``).
struct IndexPrint: Equatable, Sendable {
    var count: UInt64 = 0
    var sum: UInt64 = 0

    mutating func add(_ mixed: UInt64) {
        count &+= 1
        sum &+= mixed
    }

    /// Adds another fingerprint's entries (the union of the two multisets).
    mutating func add(_ other: IndexPrint) {
        count &+= other.count
        sum &+= other.sum
    }
}
