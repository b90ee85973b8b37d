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
}
