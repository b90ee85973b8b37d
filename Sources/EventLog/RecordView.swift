import Foundation

/// A zero-copy view of one stored record (schemas/storage.md "Record"), handed to the body
/// of ``EventLog/scan(positions:chunk:budget:_:)``.
///
/// The view points into LMDB's memory map and is valid only inside the closure it is given
/// to: it is non-copyable and passed `borrowing`, so it cannot be stored or returned. The
/// byte views it hands out (``streamBytes``, ``payload`` ...) are valid just as long; copy
/// what you keep (the `String` properties and ``decoded()`` are owned copies).
///
/// The integer fields are read when the view is made; the strings are decoded only when
/// asked for. Every view was checked by the one record parser (``RecordCoding``): the
/// format byte, every length prefix, and that the record ends exactly after its payload.
public struct RecordView: ~Copyable {
    /// The whole stored value: chain hash ‖ canonical bytes.
    let value: UnsafeRawBufferPointer
    /// Where the seven length-prefixed fields' bytes lie in ``value``.
    let streamRange: Range<Int>
    let typeRange: Range<Int>
    let actorRange: Range<Int>
    let correlationRange: Range<Int>
    let causationRange: Range<Int>
    let metadataRange: Range<Int>
    let payloadRange: Range<Int>
    /// The scan's table of event types (a scan meets a few dozen types millions of times),
    /// which lives as long as the scan's closure, so as long as the view; `nil` outside a scan.
    var typeNames: UnsafeMutablePointer<TypeNames>?

    /// Global log position.
    public let position: UInt64
    /// Version within its stream (0 for a stream's first event).
    public let version: UInt64
    /// When the log recorded it: microseconds since 1970-01-01T00:00:00Z (UTC).
    public let recordedAtMicros: Int64
    /// Version of the payload's schema.
    public let schemaVersion: UInt32

    init(value: UnsafeRawBufferPointer, fields: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>),
         position: UInt64, version: UInt64, recordedAtMicros: Int64, schemaVersion: UInt32) {
        self.value = value
        (streamRange, typeRange, actorRange, correlationRange, causationRange, metadataRange, payloadRange) = fields
        self.position = position
        self.version = version
        self.recordedAtMicros = recordedAtMicros
        self.schemaVersion = schemaVersion
    }

    @inline(__always)
    private func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: value[range])
    }

    /// The event id (16 bytes, RFC 4122 order).
    public var id: UUID { RecordCoding.uuid(value, at: RecordCoding.idOffset) }
    /// The event id's 16 bytes (RFC 4122 order), valid inside the scan's closure.
    public var idBytes: UnsafeRawBufferPointer { bytes(RecordCoding.idOffset..<(RecordCoding.idOffset + 16)) }
    /// The chain hash stored with the record.
    public var hash: ChainHash { ChainHash(bytes: Array(value.prefix(32))) }
    /// The chain hash's 32 bytes, valid inside the scan's closure.
    public var hashBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: value[0..<32]) }
    /// The canonical bytes (what the chain hash covers), valid inside the scan's closure.
    public var canonicalBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: value[32...]) }

    /// The stream name's UTF-8 bytes, valid inside the scan's closure.
    public var streamBytes: UnsafeRawBufferPointer { bytes(streamRange) }
    /// The event type's UTF-8 bytes, valid inside the scan's closure.
    public var typeBytes: UnsafeRawBufferPointer { bytes(typeRange) }
    /// The actor's UTF-8 bytes (empty when unknown), valid inside the scan's closure.
    public var actorBytes: UnsafeRawBufferPointer { bytes(actorRange) }
    /// The correlation id's UTF-8 bytes (empty: none), valid inside the scan's closure.
    public var correlationIdBytes: UnsafeRawBufferPointer { bytes(correlationRange) }
    /// The causation id's UTF-8 bytes (empty: none), valid inside the scan's closure.
    public var causationIdBytes: UnsafeRawBufferPointer { bytes(causationRange) }
    /// The metadata JSON object's bytes, valid inside the scan's closure.
    public var metadata: UnsafeRawBufferPointer { bytes(metadataRange) }
    /// The payload JSON's bytes, valid inside the scan's closure.
    public var payload: UnsafeRawBufferPointer { bytes(payloadRange) }

    /// The stream name, decoded.
    public var stream: String { String(decoding: bytes(streamRange), as: UTF8.self) }
    /// The event type, decoded (once per type in a scan).
    public var type: String {
        if let typeNames { return typeNames.pointee.name(bytes(typeRange)) }
        return String(decoding: bytes(typeRange), as: UTF8.self)
    }
    /// The actor (principal id), possibly empty.
    public var actor: String { String(decoding: bytes(actorRange), as: UTF8.self) }
    /// The correlation id, `nil` when none.
    public var correlationId: String? { correlationRange.isEmpty ? nil : String(decoding: bytes(correlationRange), as: UTF8.self) }
    /// The causation id, `nil` when none.
    public var causationId: String? { causationRange.isEmpty ? nil : String(decoding: bytes(causationRange), as: UTF8.self) }

    /// Whether the stream name starts with `prefix` (compared byte for byte, nothing decoded).
    public func streamHasPrefix(_ prefix: StaticString) -> Bool {
        let s = bytes(streamRange)
        guard s.count >= prefix.utf8CodeUnitCount else { return false }
        let p = UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return s.prefix(p.count).elementsEqual(p)
    }

    /// An owned copy of the whole event.
    public func decoded() -> RecordedEvent {
        RecordedEvent(
            id: id, stream: stream, version: version, position: position, type: type,
            schemaVersion: schemaVersion, recordedAtMicros: recordedAtMicros, actor: actor,
            correlationId: correlationId, causationId: causationId,
            metadata: Data(metadata), payload: Data(payload), hash: hash)
    }
}

extension RecordCoding {
    /// Offset of the event id in a stored record (after hash, format, position and version).
    static let idOffset = 32 + 1 + 8 + 8
    /// Offset of the first length-prefixed field in a stored record.
    static let fieldsOffset = idOffset + 16 + 8 + 4

    /// The one parser of stored records: checks `value` (hash ‖ canonical bytes) and returns
    /// the view of it. `key` is the position it is stored under, when known: errors then
    /// name it.
    ///
    /// - Throws: ``EventLogError`` `.corrupt`: "record is truncated or malformed", "record
    ///   has format F, expected 1", "record at position P has N trailing bytes".
    @inline(__always)
    static func parse(_ value: UnsafeRawBufferPointer, key: UInt64? = nil) throws(EventLogError) -> RecordView {
        let count = value.count
        guard count > 32 else { throw truncated(key) }
        let format = value[32]
        guard format == recordFormat else {
            throw EventLogError(.corrupt, "record has format \(format), expected \(recordFormat)", position: key)
        }
        guard count >= fieldsOffset else { throw truncated(key) }
        @inline(__always) func field(_ o: inout Int) throws(EventLogError) -> Range<Int> {
            guard count - o >= 4 else { throw truncated(key) }
            let n = Int(UInt32(bigEndian: value.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            let start = o + 4
            guard n <= count - start else { throw truncated(key) }
            o = start + n
            return start..<o
        }
        var o = fieldsOffset
        let fields = (try field(&o), try field(&o), try field(&o), try field(&o), try field(&o), try field(&o), try field(&o))
        let position = UInt64(bigEndian: value.loadUnaligned(fromByteOffset: 33, as: UInt64.self))
        guard o == count else {
            throw EventLogError(.corrupt, "record at position \(position) has \(count - o) trailing bytes", position: key ?? position)
        }
        return RecordView(
            value: value, fields: fields, position: position,
            version: UInt64(bigEndian: value.loadUnaligned(fromByteOffset: 41, as: UInt64.self)),
            recordedAtMicros: Int64(bitPattern: UInt64(bigEndian: value.loadUnaligned(fromByteOffset: idOffset + 16, as: UInt64.self))),
            schemaVersion: UInt32(bigEndian: value.loadUnaligned(fromByteOffset: idOffset + 24, as: UInt32.self)))
    }

    /// Decodes a stored record (hash ‖ canonical bytes) into an owned event.
    static func decode(_ value: UnsafeRawBufferPointer, key: UInt64? = nil) throws(EventLogError) -> RecordedEvent {
        try parse(value, key: key).decoded()
    }

    static func truncated(_ position: UInt64?) -> EventLogError {
        EventLogError(.corrupt, position.map { "record at position \($0) is truncated or malformed" } ?? "record is truncated or malformed",
                      position: position)
    }
}

/// Event types met by a scan, interned: a scan meets a few dozen types millions of times.
struct TypeNames {
    private var names: [UInt64: String] = [:]

    /// The string of `bytes`, decoded once per type (a hash collision decodes again).
    @inline(__always)
    mutating func name(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= UInt64(bytes.count) << 56
        if let s = names[h], s.utf8.elementsEqual(bytes) { return s }
        let s = String(decoding: bytes, as: UTF8.self)
        if names.count < 4_096 { names[h] = s }
        return s
    }
}
