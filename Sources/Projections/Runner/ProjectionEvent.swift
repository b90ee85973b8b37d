import EventLog
import Foundation

/// One event as a projection handler sees it: the envelope fields projections use and the
/// raw JSON payload. Built straight from the stored record (schemas/storage.md "Record")
/// without decoding fields no projection needs.
public struct ProjectionEvent: Sendable {
    /// Global log position.
    public var position: UInt64
    /// Version within its stream.
    public var version: UInt64
    /// Stream name, e.g. `case-1042`.
    public var stream: String
    /// Event type, e.g. `case-opened`.
    public var type: String
    /// Schema version of the payload.
    public var schemaVersion: Int
    /// When the log recorded it, microseconds since the epoch (UTC).
    public var recordedAtMicros: Int64
    /// Who caused it (principal id), possibly empty.
    public var actor: String
    /// JSON payload bytes.
    public var payload: Data
    /// The payload as the projection's ``Projection/predecode(_:)`` decoded it ahead of the
    /// handler (rebuilds decode on another thread), or `nil`: then the handler decodes.
    public var decoded: (any Sendable)?

    /// Creates an event (tests; the runner builds them from stored records).
    public init(position: UInt64, version: UInt64, stream: String, type: String, schemaVersion: Int,
                recordedAtMicros: Int64, actor: String, payload: Data) {
        self.position = position
        self.version = version
        self.stream = stream
        self.type = type
        self.schemaVersion = schemaVersion
        self.recordedAtMicros = recordedAtMicros
        self.actor = actor
        self.payload = payload
    }
}

/// Reads the fixed layout of a stored record (schemas/storage.md): 32-byte hash, format
/// byte, position, version, id, recordedAt, schema version, then seven length-prefixed
/// fields (stream, type, actor, correlation, causation, metadata, payload).
enum RawRecord {
    /// Offset of the first length-prefixed field.
    static let fieldsOffset = 32 + 1 + 8 + 8 + 16 + 8 + 4

    @inline(__always)
    static func be64(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[o + i]) }
        return v
    }

    @inline(__always)
    static func be32(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int {
        Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }

    /// The byte range of the `index`-th length-prefixed field, or `nil` when truncated.
    @inline(__always)
    static func field(_ b: UnsafeRawBufferPointer, _ index: Int) -> Range<Int>? {
        var o = fieldsOffset
        var i = 0
        while true {
            guard o + 4 <= b.count else { return nil }
            let n = be32(b, o)
            guard o + 4 + n <= b.count else { return nil }
            if i == index { return (o + 4)..<(o + 4 + n) }
            o += 4 + n
            i += 1
        }
    }

    /// The error for a record that cannot be read.
    static func malformed(_ projection: String, _ position: UInt64) -> ProjectionError {
        ProjectionError(.corruptRecord, projection: projection, position: position,
                        "the record at log position \(position) is malformed; run `docket log verify`")
    }

    /// The type field's bytes, for the cheap "does any handler want this" check.
    static func typeBytes(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let r = field(b, 1) else { return nil }
        return UnsafeRawBufferPointer(rebasing: b[r])
    }

    /// The whole event, or `nil` when the record is malformed.
    static func event(_ b: UnsafeRawBufferPointer, type: String) -> ProjectionEvent? {
        guard b.count >= fieldsOffset, b[32] == 1 else { return nil }
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(7)
        var o = fieldsOffset
        for _ in 0..<7 {
            guard o + 4 <= b.count else { return nil }
            let n = be32(b, o)
            guard o + 4 + n <= b.count else { return nil }
            ranges.append((o + 4)..<(o + 4 + n))
            o += 4 + n
        }
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self) }
        return ProjectionEvent(
            position: be64(b, 33), version: be64(b, 41), stream: string(ranges[0]), type: type,
            schemaVersion: be32(b, 73), recordedAtMicros: Int64(bitPattern: be64(b, 65)), actor: string(ranges[2]),
            payload: Data(UnsafeRawBufferPointer(rebasing: b[ranges[6]])))
    }
}
