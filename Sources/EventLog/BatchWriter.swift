import DocketJSON
import Foundation
import LMDB

/// Checks of an append that need no storage: done on the caller's thread, before queueing.
enum Validation {
    static func check(_ appends: [StreamAppend]) throws(EventLogError) {
        guard !appends.isEmpty else { throw EventLogError(.invalidInput, "nothing to append: give at least one event") }
        var ids = Set<UUID>()
        for append in appends {
            try checkStream(append.stream)
            guard !append.events.isEmpty else {
                throw EventLogError(.invalidInput, "nothing to append to stream \(append.stream): give at least one event", stream: append.stream)
            }
            for event in append.events {
                guard ids.insert(event.id).inserted else {
                    throw EventLogError(.invalidInput, "event id \(event.id.uuidString.lowercased()) appears twice in one append; every event needs its own id")
                }
                try checkEvent(event)
            }
        }
    }

    static func checkStream(_ stream: String) throws(EventLogError) {
        let bytes = stream.utf8.count
        guard bytes >= 1, bytes <= RecordCoding.maxStreamBytes else {
            throw EventLogError(.invalidInput, "stream name must be 1 to \(RecordCoding.maxStreamBytes) bytes of UTF-8, got \(bytes)")
        }
        guard printableASCII(stream) || !stream.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw EventLogError(.invalidInput, "stream name \(stream.debugDescription) contains a control character; use printable characters only")
        }
    }

    static func checkEvent(_ event: NewEvent) throws(EventLogError) {
        let typeBytes = event.type.utf8.count
        guard typeBytes >= 1, typeBytes <= RecordCoding.maxTypeBytes,
              printableASCII(event.type, spaceAllowed: false)
                || !event.type.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " })
        else {
            throw EventLogError(.invalidInput, "event type \(event.type.debugDescription) must be 1 to \(RecordCoding.maxTypeBytes) bytes without spaces or control characters, e.g. case-opened")
        }
        do {
            _ = try JSONTape.parse(event.payload)
        } catch {
            throw EventLogError(.invalidInput, "payload of event \(event.id.uuidString.lowercased()) (\(event.type)) is not valid UTF-8 JSON (\(error)); "
                                + "send one JSON value in UTF-8, e.g. {\"subject\":\"Printer offline\"}")
        }
        guard JSONTape.isValid(event.metadata, objectOnly: true) else {
            throw EventLogError(.invalidInput, "metadata of event \(event.id.uuidString.lowercased()) (\(event.type)) must be a JSON object, e.g. {\"channel\":\"portal\"}")
        }
    }
}

/// Whether `text` is printable ASCII only (no control character; a space only when
/// `spaceAllowed`): the common case, checked without Unicode properties.
private func printableASCII(_ text: String, spaceAllowed: Bool = true) -> Bool {
    text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F || (spaceAllowed && $0 == 0x20) }
}

/// Writes one group-commit batch inside a write transaction. Pure function of the
/// transaction's contents and its inputs, so it can run again after the map grows.
struct BatchWriter {
    let databases: EventLog.Databases
    let clock: @Sendable () -> Int64

    struct Outcome {
        var results: [Result<[AppendResult], EventLogError>]
        var head: UInt64
        var appended: Int
    }

    /// Stream version and last position as the batch has left them.
    private var streamHeads: [String: (version: UInt64, last: UInt64)?] = [:]
    private var dirtyStreams: Set<String> = []

    init(databases: EventLog.Databases, clock: @escaping @Sendable () -> Int64) {
        self.databases = databases
        self.clock = clock
    }

    mutating func write(_ requests: [[StreamAppend]], in txn: borrowing WriteTransaction) throws -> Outcome {
        var (position, hash, lastMicros) = try lastRecord(txn)
        let micros = max(clock(), lastMicros)
        var results: [Result<[AppendResult], EventLogError>] = []
        results.reserveCapacity(requests.count)
        var appended = 0
        for request in requests {
            // Phase 1: check every part against the log as the batch has left it; write nothing.
            var plan: [(slot: Int, append: StreamAppend, current: UInt64?)] = []
            var planned: [String: UInt64?] = [:]
            var outcome: [AppendResult?] = []
            var failure: EventLogError?
            for part in request {
                do {
                    if let duplicate = try duplicateResult(part, txn) {
                        outcome.append(duplicate)
                        continue
                    }
                    let current: UInt64? = try planned[part.stream] ?? (try head(of: part.stream, txn))?.version
                    try checkExpected(part, current: current)
                    plan.append((outcome.count, part, current))
                    planned[part.stream] = .some((current.map { $0 + 1 } ?? 0) + UInt64(part.events.count) - 1)
                    outcome.append(nil)
                } catch let error as EventLogError {
                    failure = error
                    break
                }
            }
            if let failure {
                results.append(.failure(failure))
                continue
            }
            // Phase 2: write.
            for (slot, part, current) in plan {
                var version = current.map { $0 + 1 } ?? 0
                var positions: [UInt64] = []
                positions.reserveCapacity(part.events.count)
                for event in part.events {
                    position += 1
                    let record = RecordCoding.record(previous: hash, position: position, version: version, event: event,
                                                     stream: part.stream, recordedAtMicros: micros)
                    hash = record.hash
                    let key = RecordCoding.be64(position)
                    try txn.put(databases.events, key: key, value: record.value, flags: .append)
                    try txn.put(databases.streamIndex, key: RecordCoding.streamIndexKey(part.stream, version: version), value: key)
                    try txn.put(databases.eventIds, key: RecordCoding.uuidBytes(event.id), value: key, flags: .noOverwrite)
                    positions.append(position)
                    version += 1
                }
                streamHeads[part.stream] = .some((version - 1, position))
                dirtyStreams.insert(part.stream)
                outcome[slot] = AppendResult(stream: part.stream, positions: positions, version: version - 1, duplicate: false)
                appended += part.events.count
            }
            results.append(.success(outcome.compactMap { $0 }))
        }
        for stream in dirtyStreams {
            if let head = streamHeads[stream] ?? nil {
                try txn.put(databases.streams, key: Array(stream.utf8),
                            value: RecordCoding.be64(head.version) + RecordCoding.be64(head.last))
            }
        }
        return Outcome(results: results, head: position, appended: appended)
    }

    private func lastRecord(_ txn: borrowing WriteTransaction) throws -> (UInt64, ChainHash, Int64) {
        try txn.withCursor(databases.events) { cursor in
            guard let last = try cursor.get(.last) else { return (0, .genesis, Int64.min) }
            let event = try RecordCoding.decode(last.value)
            return (event.position, event.hash, event.recordedAtMicros)
        }
    }

    private mutating func head(of stream: String, _ txn: borrowing WriteTransaction) throws -> (version: UInt64, last: UInt64)? {
        if let cached = streamHeads[stream] { return cached }
        let value = try txn.get(databases.streams, key: Array(stream.utf8))
        let head = value.map { (RecordCoding.readBE64($0, at: 0), RecordCoding.readBE64($0, at: 8)) }
        streamHeads[stream] = .some(head)
        return head
    }

    private func checkExpected(_ part: StreamAppend, current: UInt64?) throws(EventLogError) {
        let ok: Bool
        switch part.expectedVersion {
        case .any: ok = true
        case .noStream: ok = current == nil
        case .exact(let v): ok = current == v
        }
        guard ok else {
            let now = current.map { "is at version \($0)" } ?? "does not exist"
            throw EventLogError(.wrongExpectedVersion,
                                "stream \(part.stream) \(now), but the append expected \(part.expectedVersion == .noStream ? "no stream" : "version \(part.expectedVersion)"); read the stream and retry with expected version \(current.map(String.init) ?? "no-stream")",
                                stream: part.stream, currentVersion: current)
        }
    }

    /// `nil` when no event of `part` is stored; the original result when all are, with the
    /// same content; throws when some are, or one is stored with different content.
    private func duplicateResult(_ part: StreamAppend, _ txn: borrowing WriteTransaction) throws -> AppendResult? {
        var found: [(NewEvent, UInt64)] = []
        for event in part.events {
            if let value = try txn.get(databases.eventIds, key: RecordCoding.uuidBytes(event.id)) {
                found.append((event, RecordCoding.readBE64(value)))
            }
        }
        if found.isEmpty { return nil }
        guard found.count == part.events.count else {
            throw EventLogError(.partialDuplicate,
                                "\(found.count) of the \(part.events.count) events of this append are stored already (first: \(found[0].0.id.uuidString.lowercased()) at position \(found[0].1)); retry with exactly the original events, or use new ids",
                                stream: part.stream, position: found[0].1)
        }
        var version: UInt64 = 0
        for (event, position) in found {
            guard let value = try txn.get(databases.events, key: RecordCoding.be64(position)) else {
                throw EventLogError(.corrupt, "event id index points at missing position \(position)", position: position)
            }
            let stored = try RecordCoding.decode(value)
            guard stored.stream == part.stream, stored.type == event.type, stored.schemaVersion == event.schemaVersion,
                  jsonEqual(stored.payload, event.payload), jsonEqual(stored.metadata, event.metadata)
            else {
                throw EventLogError(.duplicateEventId,
                                    "event id \(event.id.uuidString.lowercased()) is stored already at position \(position) (\(stored.stream), \(stored.type)) with different content; use a new id for a new event",
                                    stream: part.stream, position: position)
            }
            version = stored.version
        }
        return AppendResult(stream: part.stream, positions: found.map(\.1), version: version, duplicate: true)
    }
}

/// Whether two JSON documents are equal as JSON (byte-equal, or equal after sorting keys).
func jsonEqual(_ a: Data, _ b: Data) -> Bool {
    if a == b { return true }
    func normal(_ d: Data) -> [UInt8]? {
        (try? JSONValue.parse(d, rejectingDuplicateKeys: false))?.jsonBytes
    }
    guard let na = normal(a), let nb = normal(b) else { return false }
    return na == nb
}

/// Public access to the log's input checks, so importers can report a bad line before
/// its batch is sent.
public enum EventLogInput {
    /// Throws the error an append of `event` to `stream` would be refused with, if any
    /// (stream name, type, payload and metadata JSON).
    public static func check(stream: String, event: NewEvent) throws(EventLogError) {
        try Validation.checkStream(stream)
        try Validation.checkEvent(event)
    }
}
