import Foundation

/// One command or event payload with a stable kebab-case type name and schema version.
/// Its JSON (``MessageCoding``) is what the event log stores and the HTTP layer accepts;
/// `schemas/{commands,events}/<type>.schema.json` describes it.
public protocol DomainMessage: Codable, Sendable, Hashable {
    /// Stable kebab-case type name, e.g. `case-opened`.
    static var type: String { get }
    /// Version of the payload's schema; 1 for every type so far.
    static var schemaVersion: Int { get }
}

extension DomainMessage {
    /// Every payload is at schema version 1 unless it says otherwise.
    public static var schemaVersion: Int { 1 }
}

/// A closed set of payloads: the commands or events of one aggregate, as an enum with
/// one case per payload type (or ``DomainEvent``/``DomainCommand`` for all of them).
///
/// `Codable` through an envelope `{"type": …, "schemaVersion": …, "payload": {…}}`; the
/// payload's dates follow the outer coder's strategy (use ``MessageCoding`` for the wire format).
public protocol MessageFamily: Sendable, Hashable, Codable {
    /// Every payload type of the family, in documentation order.
    static var messageTypes: [any DomainMessage.Type] { get }
    /// The payload of this value.
    var message: any DomainMessage { get }
    /// Wraps a payload of this family; `nil` for a payload of another family.
    init?(message: any DomainMessage)
}

/// A message as stored or sent: type name, schema version and JSON payload.
public struct EncodedMessage: Sendable, Hashable {
    /// Kebab-case type name.
    public var type: String
    /// Schema version of the payload.
    public var schemaVersion: Int
    /// JSON payload (sorted keys, dates per ``DomainTime``).
    public var payload: Data

    /// Creates an encoded message.
    public init(type: String, schemaVersion: Int, payload: Data) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
    }
}

/// Why a payload could not be encoded or decoded.
public struct MessageCodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong and what would be right.
    public var message: String
    /// JSON path of the offending value inside the payload (e.g. `$.channel`), when known.
    public var path: String?
    /// Creates an error.
    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }
    /// The message.
    public var description: String { message }

    /// Describes a `DecodingError` by JSON path and what was expected.
    static func describing(_ error: any Error, type: String) -> MessageCodingError {
        guard let decoding = error as? DecodingError else {
            return MessageCodingError("invalid \(type) payload: \(error)")
        }
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("$") { p, k in k.intValue.map { "\(p)[\($0)]" } ?? "\(p).\(k.stringValue)" }
        }
        switch decoding {
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath + [key])
            return MessageCodingError("invalid \(type) payload: \(at) is required", path: at)
        case .typeMismatch(let expected, let context):
            let at = path(context.codingPath)
            return MessageCodingError("invalid \(type) payload: \(at) must be \(describe(expected))", path: at)
        case .valueNotFound(let expected, let context):
            let at = path(context.codingPath)
            return MessageCodingError("invalid \(type) payload: \(at) must be \(describe(expected)), not null", path: at)
        case .dataCorrupted(let context):
            let at = path(context.codingPath)
            let reason = context.underlyingError.map { _ in "is not valid JSON" } ?? context.debugDescription
            return MessageCodingError("invalid \(type) payload: \(at): \(reason)", path: at)
        @unknown default:
            return MessageCodingError("invalid \(type) payload: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Date.Type: "a date-time like 2026-11-22T09:30:00.000Z"
        case is [String].Type: "an array of strings"
        default: "a valid \(type)"
        }
    }
}

/// The JSON coding of every payload: sorted keys, unescaped slashes, dates as
/// `YYYY-MM-DDTHH:MM:SS.sssZ` (``DomainTime``). Deterministic byte for byte.
///
/// ``encoder()`` and ``decoder()`` are Docket's own codec (``DocketJSONEncoder``,
/// ``DocketJSONDecoder``); ``foundationEncoder()`` and ``foundationDecoder()`` configure
/// Foundation's coders to the same format, which the tests use as the reference.
public enum MessageCoding {
    /// The encoder of the wire format.
    public static func encoder() -> DocketJSONEncoder { DocketJSONEncoder() }

    /// The decoder of the wire format.
    public static func decoder() -> DocketJSONDecoder { DocketJSONDecoder() }

    /// `JSONEncoder` configured to write the same bytes as ``encoder()`` (the reference).
    public static func foundationEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(DomainTime.format(date))
        }
        return encoder
    }

    /// `JSONDecoder` configured to accept what ``decoder()`` accepts (the reference).
    public static func foundationDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = DomainTime.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected a UTC date like 2026-01-31T09:00:00.000Z, got \(text)")
            }
            return date
        }
        return decoder
    }

    /// Encodes one payload (generated straight-line code for every Docket message type).
    public static func encode(_ message: any DomainMessage) throws(MessageCodingError) -> EncodedMessage {
        let type = Swift.type(of: message)
        if let generated = message as? any GeneratedJSONMessage {
            return EncodedMessage(type: type.type, schemaVersion: type.schemaVersion, payload: try generated.encodeGenerated())
        }
        do {
            return EncodedMessage(type: type.type, schemaVersion: type.schemaVersion, payload: try encoder().encode(message))
        } catch {
            throw MessageCodingError("cannot encode \(type.type): \(error)")
        }
    }

    private static let sharedDecoder = decoder()

    /// Runs `body` on `data`'s bytes, keeping its typed error.
    static func withBytes<R>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(MessageCodingError) -> R) throws(MessageCodingError) -> R {
        let result: Result<R, MessageCodingError> = data.withUnsafeBytes { bytes in
            Result { () throws(MessageCodingError) in try body(bytes) }
        }
        return try result.get()
    }

    /// Decodes a payload of type `T` (no type-name lookup; the caller knows the type).
    public static func decode<T: DomainMessage>(_ type: T.Type, payload: Data) throws(MessageCodingError) -> T {
        do {
            return try payload.withUnsafeBytes { bytes throws -> T in
                if let generated = T.self as? any GeneratedJSONMessage.Type {
                    func open<G: GeneratedJSONMessage>(_ g: G.Type) throws -> any DomainMessage { try G.decodeGenerated(bytes) }
                    guard let value = try open(generated) as? T else { throw MessageCodingError("\(T.type) decoded as another type") }
                    return value
                }
                return try sharedDecoder.decode(T.self, fromBytes: bytes)
            }
        } catch let error as MessageCodingError {
            throw error
        } catch {
            throw MessageCodingError.describing(error, type: T.type)
        }
    }

    /// One decoding function per message type name, made once: a lookup by name instead of
    /// a linear search and two dynamic casts per payload.
    private static let decoders: [String: (type: any DomainMessage.Type, decode: @Sendable (Data) throws(MessageCodingError) -> any DomainMessage)] = {
        func make<T: DomainMessage>(_ t: T.Type) -> @Sendable (Data) throws(MessageCodingError) -> any DomainMessage {
            { data throws(MessageCodingError) in try decode(T.self, payload: data) }
        }
        var out: [String: (type: any DomainMessage.Type, decode: @Sendable (Data) throws(MessageCodingError) -> any DomainMessage)] = [:]
        for t in DomainEvent.messageTypes + DomainCommand.messageTypes { out[t.type] = (t, make(t)) }
        return out
    }()

    /// Decodes a payload of one of `types` named `type` at `schemaVersion`.
    public static func decode(type: String, schemaVersion: Int, payload: Data,
                              among types: [any DomainMessage.Type]) throws(MessageCodingError) -> any DomainMessage {
        if let entry = decoders[type], types.contains(where: { $0 == entry.type }) {
            guard entry.type.schemaVersion == schemaVersion else {
                throw MessageCodingError("\(type) has schema version \(entry.type.schemaVersion), not \(schemaVersion)")
            }
            return try entry.decode(payload)
        }
        guard let metatype = types.first(where: { $0.type == type }) else {
            throw MessageCodingError("unknown message type \(type); known: \(types.map { $0.type }.joined(separator: ", "))")
        }
        guard metatype.schemaVersion == schemaVersion else {
            throw MessageCodingError("\(type) has schema version \(metatype.schemaVersion), not \(schemaVersion)")
        }
        func open<T: DomainMessage>(_ t: T.Type) throws(MessageCodingError) -> any DomainMessage {
            try decode(T.self, payload: payload)
        }
        return try open(metatype)
    }
}

/// Keys of the `Codable` envelope of a ``MessageFamily`` value.
private enum EnvelopeKey: String, CodingKey {
    case type, schemaVersion, payload
}

extension MessageFamily {
    /// Decodes the envelope `{"type", "schemaVersion", "payload"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKey.self)
        let type = try container.decode(String.self, forKey: .type)
        let version = try container.decode(Int.self, forKey: .schemaVersion)
        guard let metatype = Self.messageTypes.first(where: { $0.type == type }), metatype.schemaVersion == version else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription:
                "unknown \(Self.self) type \(type) at schema version \(version)")
        }
        func open<T: DomainMessage>(_ t: T.Type) throws -> any DomainMessage { try container.decode(T.self, forKey: .payload) }
        guard let value = Self(message: try open(metatype)) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "\(type) is not a member of \(Self.self)")
        }
        self = value
    }

    /// Encodes the envelope `{"type", "schemaVersion", "payload"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EnvelopeKey.self)
        try container.encode(type, forKey: .type)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(message, forKey: .payload)
    }

    /// The payload's type name.
    public var type: String { Swift.type(of: message).type }
    /// The payload's schema version.
    public var schemaVersion: Int { Swift.type(of: message).schemaVersion }
    /// Every type name of the family.
    public static var typeNames: [String] { messageTypes.map { $0.type } }

    /// Encodes the payload as type, schema version and JSON.
    public func encoded() throws(MessageCodingError) -> EncodedMessage {
        try MessageCoding.encode(message)
    }

    /// Decodes a payload of this family.
    public static func decode(type: String, schemaVersion: Int, payload: Data) throws(MessageCodingError) -> Self {
        let message = try MessageCoding.decode(type: type, schemaVersion: schemaVersion, payload: payload, among: messageTypes)
        guard let value = Self(message: message) else {
            throw MessageCodingError("\(type) is not a member of \(Self.self)")
        }
        return value
    }
}

/// Stream naming conventions shared by the event log, the HTTP layer and projections.
public enum StreamName {
    /// `case-<id>`.
    public static func `case`(_ id: String) -> String { "case-\(id)" }
    /// `org-<id>`.
    public static func organisation(_ id: String) -> String { "org-\(id)" }
    /// `OPI-<n>` (R6).
    public static func incident(_ number: Int) -> String { "OPI-\(number)" }
    /// `feature-<id>` (R7).
    public static func featureRequest(_ id: String) -> String { "feature-\(id)" }
    /// `policy-<name>` (R4.9).
    public static func policy(_ name: String) -> String { "policy-\(name)" }
    /// `calendar-<name>` (R4.9).
    public static func calendar(_ name: String) -> String { "calendar-\(name)" }
}
