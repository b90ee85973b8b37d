import Crypto
import Foundation

/// The byte-level format of the log (schemas/storage.md is the normative description;
/// keep the two in step).
enum RecordCoding {
    /// Version byte at the start of every record's canonical bytes.
    static let recordFormat: UInt8 = 1
    /// Value of the `format` key in the `meta` database.
    static let formatTag = "docket-eventlog/1"
    /// Largest stream name in UTF-8 bytes (LMDB keys are limited to 511 bytes).
    static let maxStreamBytes = 256
    /// Largest event type in UTF-8 bytes.
    static let maxTypeBytes = 256

    // MARK: keys

    /// 8-byte big-endian encoding.
    @inline(__always)
    static func be64(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Reads an 8-byte big-endian integer at `offset`.
    @inline(__always)
    static func readBE64(_ buffer: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(buffer[offset + i]) }
        return v
    }

    /// Key of the `stream_index` database: stream UTF-8 ‖ 0x00 ‖ version (BE).
    static func streamIndexKey(_ stream: String, version: UInt64) -> [UInt8] {
        var key = [UInt8]()
        key.reserveCapacity(stream.utf8.count + 9)
        key.append(contentsOf: stream.utf8)
        key.append(0)
        appendBE64(version, to: &key)
        return key
    }

    /// Appends the 8-byte big-endian encoding of `value`.
    @inline(__always)
    static func appendBE64(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    /// 16 bytes of a UUID in RFC 4122 order.
    static func uuidBytes(_ id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    /// UUID from 16 bytes.
    static func uuid(_ b: UnsafeRawBufferPointer, at o: Int) -> UUID {
        UUID(uuid: (b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7],
                    b[o + 8], b[o + 9], b[o + 10], b[o + 11], b[o + 12], b[o + 13], b[o + 14], b[o + 15]))
    }

    // MARK: records

    /// The canonical bytes of an event: what the chain hash covers and what is stored after it.
    static func canonicalBytes(position: UInt64, version: UInt64, event: NewEvent, stream: String,
                               recordedAtMicros: Int64) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(canonicalCapacity(event, stream: stream))
        appendCanonical(to: &out, position: position, version: version, event: event, stream: stream,
                        recordedAtMicros: recordedAtMicros)
        return out
    }

    /// The stored record of an event (its chain hash ‖ its canonical bytes) and that hash,
    /// built in one buffer: the writer thread makes one per appended event.
    static func record(previous: ChainHash, position: UInt64, version: UInt64, event: NewEvent, stream: String,
                       recordedAtMicros: Int64) -> (value: [UInt8], hash: ChainHash) {
        var out = [UInt8](repeating: 0, count: 32)
        out.reserveCapacity(32 + canonicalCapacity(event, stream: stream))
        appendCanonical(to: &out, position: position, version: version, event: event, stream: stream,
                        recordedAtMicros: recordedAtMicros)
        let hash = out.withUnsafeBytes { chainHash(previous: previous, canonical: UnsafeRawBufferPointer(rebasing: $0[32...])) }
        out.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<32 { buffer[i] = hash.bytes[i] }
        }
        return (out, hash)
    }

    private static func canonicalCapacity(_ event: NewEvent, stream: String) -> Int {
        1 + 8 + 8 + 16 + 8 + 4 + 7 * 4 + stream.utf8.count + event.type.utf8.count + event.actor.utf8.count
            + (event.correlationId?.utf8.count ?? 0) + (event.causationId?.utf8.count ?? 0)
            + event.metadata.count + event.payload.count
    }

    /// Appends the canonical bytes (schemas/storage.md): format, position, version, id,
    /// recordedAt, schema version, then seven length-prefixed fields.
    private static func appendCanonical(to out: inout [UInt8], position: UInt64, version: UInt64, event: NewEvent,
                                        stream: String, recordedAtMicros: Int64) {
        out.append(recordFormat)
        appendBE64(position, to: &out)
        appendBE64(version, to: &out)
        withUnsafeBytes(of: event.id.uuid) { out.append(contentsOf: $0) }
        appendBE64(UInt64(bitPattern: recordedAtMicros), to: &out)
        withUnsafeBytes(of: event.schemaVersion.bigEndian) { out.append(contentsOf: $0) }
        func field<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        field(stream.utf8)
        field(event.type.utf8)
        field(event.actor.utf8)
        field((event.correlationId ?? "").utf8)
        field((event.causationId ?? "").utf8)
        field(event.metadata)
        field(event.payload)
    }

    /// SHA-256(previous ‖ canonical).
    static func chainHash(previous: ChainHash, canonical: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        previous.bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: canonical)
        return ChainHash(bytes: Array(hasher.finalize()))
    }

    /// Decodes a stored record (hash ‖ canonical bytes).
    static func decode(_ value: UnsafeRawBufferPointer) throws(EventLogError) -> RecordedEvent {
        var reader = ByteReader(buffer: value)
        guard let hashBytes = reader.bytes(32), let format = reader.u8() else { throw truncated(nil) }
        guard format == recordFormat else {
            throw EventLogError(.corrupt, "record has format \(format), expected \(recordFormat)")
        }
        guard let position = reader.u64(), let version = reader.u64(), let idOffset = reader.skip(16),
              let micros = reader.u64(), let schema = reader.u32(),
              let stream = reader.string(), let type = reader.string(), let actor = reader.string(),
              let correlation = reader.string(), let causation = reader.string(),
              let metadata = reader.field(), let payload = reader.field()
        else { throw truncated(nil) }
        guard reader.atEnd else {
            throw EventLogError(.corrupt, "record at position \(position) has \(reader.remaining) trailing bytes", position: position)
        }
        return RecordedEvent(
            id: uuid(value, at: idOffset), stream: stream, version: version, position: position, type: type,
            schemaVersion: schema, recordedAtMicros: Int64(bitPattern: micros), actor: actor,
            correlationId: correlation.isEmpty ? nil : correlation,
            causationId: causation.isEmpty ? nil : causation,
            metadata: Data(metadata), payload: Data(payload), hash: ChainHash(bytes: Array(hashBytes)))
    }

    /// The stream and stream version of a stored record, without decoding the rest; `nil`
    /// when malformed.
    static func streamAndVersion(_ value: UnsafeRawBufferPointer) -> (stream: String, version: UInt64)? {
        var reader = ByteReader(buffer: value)
        guard reader.skip(32) != nil, reader.u8() == recordFormat, reader.skip(8) != nil, let version = reader.u64(),
              reader.skip(16 + 8 + 4) != nil, let stream = reader.string()
        else { return nil }
        return (stream, version)
    }

    private static func truncated(_ position: UInt64?) -> EventLogError {
        EventLogError(.corrupt, "record is truncated or malformed", position: position)
    }
}

/// A bounds-checked reader over a byte buffer.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    var atEnd: Bool { offset == buffer.count }
    var remaining: Int { buffer.count - offset }

    mutating func skip(_ n: Int) -> Int? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return offset
    }

    mutating func bytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard let start = skip(n) else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<start + n])
    }

    mutating func u8() -> UInt8? {
        guard let start = skip(1) else { return nil }
        return buffer[start]
    }

    mutating func u32() -> UInt32? {
        guard let start = skip(4) else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(buffer[start + i]) }
        return v
    }

    mutating func u64() -> UInt64? {
        guard let start = skip(8) else { return nil }
        return RecordCoding.readBE64(buffer, at: start)
    }

    mutating func field() -> UnsafeRawBufferPointer? {
        guard let n = u32() else { return nil }
        return bytes(Int(n))
    }

    mutating func string() -> String? {
        guard let b = field() else { return nil }
        return String(decoding: b, as: UTF8.self)
    }
}
