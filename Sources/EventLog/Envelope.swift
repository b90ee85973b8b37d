import Foundation

/// Expected version of a stream for an append (optimistic concurrency).
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Append whatever the stream's version.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's current version (the version of its last event) must be exactly this.
    case exact(UInt64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no-stream"
        case .exact(let v): String(v)
        }
    }
}

/// An event to append: everything of the envelope the caller decides. The log assigns
/// the stream version, global position, `recordedAt` and hash.
public struct NewEvent: Sendable, Hashable {
    /// Unique id; appending the same id twice with the same content is a no-op (idempotency).
    public var id: UUID
    /// Event type, e.g. `case-opened`.
    public var type: String
    /// Version of the payload's schema.
    public var schemaVersion: UInt32
    /// Who caused the event (principal id), or empty when unknown.
    public var actor: String
    /// Correlation id (e.g. the command id that started a conversation).
    public var correlationId: String?
    /// Causation id (e.g. the command or event that directly caused this one).
    public var causationId: String?
    /// A JSON object with extra facts (channel, role, request id ...), UTF-8 bytes.
    public var metadata: Data
    /// The event's data: UTF-8 JSON bytes.
    public var payload: Data

    /// Creates an event to append.
    public init(id: UUID = UUID(), type: String, schemaVersion: UInt32 = 1, actor: String = "",
                correlationId: String? = nil, causationId: String? = nil,
                metadata: Data = Data("{}".utf8), payload: Data) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.actor = actor
        self.correlationId = correlationId
        self.causationId = causationId
        self.metadata = metadata
        self.payload = payload
    }
}

/// A 32-byte SHA-256 chain hash.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]
    /// The hash that precedes position 1: 32 zero bytes.
    public static let genesis = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    /// Wraps 32 bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses 64 hex digits; `nil` when malformed.
    public init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count == 64 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        bytes = out
    }

    /// Lowercase hex.
    public var hex: String {
        // Built as UTF-8 bytes: appending `Character`s one by one cost a share of a log-head query.
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var i = 0
            for b in bytes {
                buffer[i] = hexDigits[Int(b >> 4)]
                buffer[i + 1] = hexDigits[Int(b & 0xF)]
                i += 2
            }
            return i
        }
    }

    public var description: String { hex }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// A stored event: the full envelope (DESIGN.md; schemas/storage.md).
public struct RecordedEvent: Sendable, Hashable {
    /// Unique event id.
    public var id: UUID
    /// The stream the event belongs to.
    public var stream: String
    /// Version within the stream: 0 for its first event, then +1 each.
    public var version: UInt64
    /// Global position in the log: 1, 2, 3 ... with no gap.
    public var position: UInt64
    /// Event type.
    public var type: String
    /// Version of the payload's schema.
    public var schemaVersion: UInt32
    /// When the log recorded it: microseconds since 1970-01-01T00:00:00Z (UTC).
    public var recordedAtMicros: Int64
    /// Who caused it.
    public var actor: String
    /// Correlation id.
    public var correlationId: String?
    /// Causation id.
    public var causationId: String?
    /// JSON object bytes.
    public var metadata: Data
    /// JSON bytes.
    public var payload: Data
    /// SHA-256 over (previous record's hash ‖ this record's canonical bytes).
    public var hash: ChainHash

    /// `recordedAt` as a `Date`.
    public var recordedAt: Date {
        Date(timeIntervalSince1970: Double(recordedAtMicros) / 1_000_000)
    }

    /// `recordedAt` as ISO 8601 UTC with microseconds, e.g. `2026-11-22T16:40:04.123456Z`.
    public var recordedAtISO8601: String { formatMicros(recordedAtMicros) }
}

/// Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
public func formatMicros(_ micros: Int64) -> String {
    let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    let fraction = micros - seconds * 1_000_000
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    let year = Int(parts.tm_year) + 1900
    guard (0...9999).contains(year) else {
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                      year, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }
    // Digits by hand: `String(format:)` costs microseconds on Linux, and replay, export and
    // `log read` format one instant per event.
    var text = Array("0000-00-00T00:00:00.000000Z".utf8)
    func put(_ value: Int, width: Int, at offset: Int) {
        var v = value
        for i in stride(from: offset + width - 1, through: offset, by: -1) {
            text[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
        }
    }
    put(year, width: 4, at: 0)
    put(Int(parts.tm_mon) + 1, width: 2, at: 5)
    put(Int(parts.tm_mday), width: 2, at: 8)
    put(Int(parts.tm_hour), width: 2, at: 11)
    put(Int(parts.tm_min), width: 2, at: 14)
    put(Int(parts.tm_sec), width: 2, at: 17)
    put(Int(fraction), width: 6, at: 20)
    return String(decoding: text, as: UTF8.self)
}

/// What an append did.
public struct AppendResult: Sendable, Hashable {
    /// The stream appended to.
    public var stream: String
    /// Global positions of the events, in order.
    public var positions: [UInt64]
    /// The stream's version after the append (the version of its last event).
    public var version: UInt64
    /// True when every event id was already stored with the same content: nothing was
    /// appended and `positions`/`version` are the original ones.
    public var duplicate: Bool
}

/// A stream's head.
public struct StreamHead: Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// Version of its last event.
    public var version: UInt64
    /// Global position of its last event.
    public var lastPosition: UInt64
}

/// The log's head: the last position and its chain hash (position 0 and the genesis hash
/// when the log is empty). An auditor keeps it as a digest of the whole log.
public struct LogHead: Sendable, Hashable {
    /// Last position (0 when empty).
    public var position: UInt64
    /// Chain hash at that position.
    public var hash: ChainHash

    /// Creates a digest.
    public init(position: UInt64, hash: ChainHash) {
        self.position = position
        self.hash = hash
    }
}

/// One stream's part of an atomic multi-stream append.
public struct StreamAppend: Sendable, Hashable {
    /// Target stream.
    public var stream: String
    /// Expected version.
    public var expectedVersion: ExpectedVersion
    /// Events, in order.
    public var events: [NewEvent]

    /// Creates a stream append.
    public init(stream: String, expectedVersion: ExpectedVersion = .any, events: [NewEvent]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

extension UUID {
    /// The UUID in lowercase hex with hyphens (`0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01`), as
    /// every Docket output writes it; without Foundation's `uuidString` and a `lowercased()`.
    public var lowercasedString: String {
        let hex: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { raw in
            hex.withUTF8Buffer { digits in
                String(unsafeUninitializedCapacity: 36) { out in
                    var i = 0
                    for (index, byte) in raw.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            out[i] = UInt8(ascii: "-")
                            i += 1
                        }
                        out[i] = digits[Int(byte >> 4)]
                        out[i + 1] = digits[Int(byte & 0x0F)]
                        i += 2
                    }
                    return i
                }
            }
        }
    }
}
