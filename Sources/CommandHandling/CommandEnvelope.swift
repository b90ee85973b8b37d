import CaseDomain
import Crypto
import DocketJSON
import EventLog
import Foundation

/// A command as clients send it (HTTP `POST /v1/commands`, `docket import`):
/// `{"commandId": UUID, "type": "...", "streamId": "...", "expectedVersion": n, "payload": {...}}`.
public struct CommandEnvelope: Sendable, Hashable {
    /// Client-chosen id; retrying the same id returns the first result and appends nothing.
    public var commandId: UUID
    /// Command type, e.g. `open-case` (schemas/commands).
    public var type: String
    /// Target stream, e.g. `case-1042`.
    public var streamId: String
    /// When given, the stream must be at exactly this version (optimistic concurrency, 409 otherwise).
    public var expectedVersion: UInt64?
    /// The command's payload: a UTF-8 JSON object.
    public var payload: Data

    /// Creates an envelope.
    public init(commandId: UUID, type: String, streamId: String, expectedVersion: UInt64? = nil, payload: Data) {
        self.commandId = commandId
        self.type = type
        self.streamId = streamId
        self.expectedVersion = expectedVersion
        self.payload = payload
    }

    /// Parses the JSON form. Errors name the JSON path and what was expected.
    ///
    /// Reads the envelope with DocketJSON's one strict parser (``JSONTape``) and keeps the
    /// payload's bytes as sent (their syntax checked), instead of building objects and
    /// serializing the payload again. The input is hostile until proven otherwise:
    /// - a member name given twice, in the envelope or anywhere in the payload, is refused
    ///   with the path of the second occurrence (`$.payload.cc`), not "first or last wins";
    /// - `expectedVersion` is a JSON integer literal written with digits only (no sign,
    ///   fraction or exponent: `1e2`, `100.0`, `-0` are refused), at most `Int64.max`;
    ///   `null` or absent means "no expectation";
    /// - `streamId` follows ``Identifier``'s rule (1 to 200 bytes, no control characters),
    ///   `type` is at most ``maxTypeBytes`` bytes;
    /// - no error message repeats an unbounded client string (long values are described by
    ///   their length).
    public static func parse(json: Data) throws(CommandError) -> CommandEnvelope {
        try parse(json: json, extraKeys: []).envelope
    }

    /// Longest `type` accepted (command type names are short kebab-case words).
    public static let maxTypeBytes = 64

    /// Parses the JSON form as ``parse(json:)`` does, where the members named in `extraKeys`
    /// may appear besides the envelope's own (`docket import` lines carry `at` and `actor`);
    /// returns their JSON texts as sent, by name (duplicate names refused there too).
    public static func parse(json: Data, extraKeys: Set<String>) throws(CommandError) -> (envelope: CommandEnvelope, extras: [String: Data]) {
        let result: Result<(envelope: CommandEnvelope, extras: [String: Data]), CommandError> = json.withUnsafeBytes { bytes in
            do throws(CommandError) {
                return .success(try parse(bytes, extraKeys: extraKeys))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, extraKeys: Set<String>) throws(CommandError) -> (envelope: CommandEnvelope, extras: [String: Data]) {
        let invalid = CommandError(.malformed, "the body is not valid JSON; send a JSON object", path: "$")
        // One strict parse (DocketJSON): syntax, UTF-8, escapes and the uniqueness of member
        // names at any depth; a syntax error anywhere wins over a repeated name.
        let tape: JSONTape
        do {
            tape = try JSONTape.parse(bytes, rejectingDuplicateKeys: true)
        } catch {
            if let path = error.duplicatePath {
                throw CommandError(.malformed, "\(path) is given twice; send each member of an object once", path: path)
            }
            throw invalid
        }
        let root = tape.tokens[0]
        guard root.kind == .object else {
            if root.kind == .array {
                throw CommandError(.malformed, "expected a JSON object with commandId, type, streamId and payload", path: "$")
            }
            throw invalid
        }
        var fields: [String: Int] = [:]  // member name → its value's token
        var k = 1
        for _ in 0..<root.count {
            fields[tape.string(tape.tokens[k], in: bytes)] = k + 1
            k = Int(tape.tokens[k + 1].next)
        }
        if let unknown = fields.keys.sorted().first(where: { !isEnvelopeKey($0) && !extraKeys.contains($0) }) {
            let path = "$" + JSONPath.component(unknown)
            throw CommandError(.malformed, "unknown field \(path); expected commandId, type, streamId, expectedVersion, payload", path: path)
        }
        func string(_ name: String) -> String? {
            guard let v = fields[name] else { return nil }
            let t = tape.tokens[v]
            return t.kind == .string || t.kind == .escapedString ? tape.string(t, in: bytes) : nil
        }
        guard let idText = string("commandId"), let commandId = UUID(uuidString: idText) else {
            throw CommandError(.malformed, "commandId must be a UUID string such as 0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01", path: "$.commandId")
        }
        guard let type = string("type"), !type.isEmpty else {
            throw CommandError(.malformed, "type must be a command type such as open-case", path: "$.type")
        }
        guard type.utf8.count <= maxTypeBytes else {
            throw CommandError(.malformed, "type is \(type.utf8.count) bytes long; command types are short names such as open-case (at most \(maxTypeBytes) bytes)", path: "$.type")
        }
        guard let streamId = string("streamId") else {
            throw CommandError(.malformed, "streamId must be a non-empty string such as case-1042", path: "$.streamId")
        }
        if let problem = Identifier.problem(streamId) {
            throw CommandError(.malformed, "streamId \(problem); send a stream id such as case-1042", path: "$.streamId")
        }
        var expected: UInt64?
        if let v = fields["expectedVersion"] {
            let t = tape.tokens[v]
            switch t.kind {
            case .null:
                break
            case .number:
                let digits = UnsafeRawBufferPointer(rebasing: bytes[t.byteRange])
                let plain = digits.allSatisfy { (0x30...0x39).contains($0) } && (digits.count == 1 || digits.first != 0x30)
                guard plain, let whole = UInt64(String(decoding: digits, as: UTF8.self)), whole <= UInt64(Int64.max) else {
                    let shown = digits.count <= 32 ? String(decoding: digits, as: UTF8.self) : "a number of \(digits.count) characters"
                    throw CommandError(.malformed, "expectedVersion must be a whole number of 0 or more written with digits only "
                                       + "(no sign, fraction or exponent; at most \(Int64.max)), such as 3, or null; not \(shown)",
                                       path: "$.expectedVersion")
                }
                expected = whole
            case .string, .escapedString:
                throw CommandError(.malformed, "expectedVersion must be a JSON number such as 3 (or null), not a string", path: "$.expectedVersion")
            default:
                throw CommandError(.malformed, "expectedVersion must be a whole number of 0 or more such as 3, or null", path: "$.expectedVersion")
            }
        }
        guard let p = fields["payload"], tape.tokens[p].kind == .object else {
            throw CommandError(.malformed, "payload must be a JSON object (see schemas/commands/\(type).schema.json)", path: "$.payload")
        }
        var extras: [String: Data] = [:]
        for key in extraKeys {
            guard let v = fields[key] else { continue }
            extras[key] = Data(bytes[tape.byteRange(ofValueAt: v, in: bytes)])
        }
        let envelope = CommandEnvelope(commandId: commandId, type: type, streamId: streamId, expectedVersion: expected,
                                       payload: Data(bytes[tape.byteRange(ofValueAt: p, in: bytes)]))
        return (envelope, extras)
    }
}

/// One event a command appended.
public struct AppendedEvent: Sendable, Hashable, Codable {
    /// Event type, e.g. `case-opened`.
    public var type: String
    /// Global log position.
    public var position: UInt64
    /// Version within the stream.
    public var version: UInt64
    /// Event id (derived from the command id, see ``DerivedID``).
    public var id: UUID
}

/// What a command did.
public struct CommandOutcome: Sendable, Hashable {
    /// The command's id.
    public var commandId: UUID
    /// The stream it went to.
    public var streamId: String
    /// The events appended, in order (empty when the command changed nothing).
    public var events: [AppendedEvent]
    /// The stream's version after the command (`nil` when the stream still has no events).
    public var streamVersion: UInt64?
    /// The log position a client passes back (`Docket-Position`) to read its own writes:
    /// the last appended event, or the log head when nothing was appended.
    public var position: UInt64
    /// True when this commandId had been handled before: nothing was appended now.
    public var duplicate: Bool
}

/// Why a command was not applied. Nothing is appended for any of them.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    /// The kind, which the HTTP layer maps to a status code.
    public enum Code: String, Sendable, Hashable {
        /// Malformed envelope or payload, or a schema violation (HTTP 400).
        case malformed
        /// The principal may not do this (HTTP 403).
        case forbidden
        /// No such stream, or one of another organisation (HTTP 404, R1.9).
        case notFound = "not-found"
        /// Expected version conflict, or a commandId reused for another command (HTTP 409).
        case conflict
        /// Refused by a domain rule (HTTP 422), see ``CommandError/domain``; also a command that
        /// matches its schema but cannot be carried out as sent (an id that disagrees with its
        /// stream, a policy or calendar content that does not load), with the JSON ``path``.
        case refused
        /// Storage failed (HTTP 500/503).
        case storage
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong and what would be right.
    public var message: String
    /// JSON path of the offending value, for ``Code/malformed``.
    public var path: String?
    /// The stream's current version, for ``Code/conflict``.
    public var currentVersion: UInt64?
    /// The domain's refusal (rule, status, allowed commands), for ``Code/refused``, ``Code/forbidden``, ``Code/notFound``.
    public var domain: DomainError?

    /// Creates an error.
    public init(_ code: Code, _ message: String, path: String? = nil, currentVersion: UInt64? = nil, domain: DomainError? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.currentVersion = currentVersion
        self.domain = domain
    }

    public var description: String { message }
}

/// Whether `key` is one of the envelope's own keys.
private func isEnvelopeKey(_ key: String) -> Bool {
    switch key {
    case "commandId", "type", "streamId", "expectedVersion", "payload": true
    default: false
    }
}

/// Deterministic UUIDs (RFC 9562 version 8, "custom"): the first 16 bytes of
/// SHA-256(namespace ‖ 0x00 ‖ parts joined by 0x00), with version and variant bits set.
///
/// A command's events get ids derived from its commandId and their index, so a retried
/// command is recognised by the log's idempotency index, even across restarts; the deadline
/// scheduler derives its commandIds from the stream, command type and due instant.
public enum DerivedID {
    /// The id of event `index` of command `commandId`.
    public static func event(commandId: UUID, index: Int) -> UUID {
        make(namespace: "docket/command-event", [commandId.lowercasedString, String(index)])
    }

    /// A UUID derived from a namespace and parts: the first 16 bytes of
    /// SHA-256(namespace ‖ 0 ‖ part₁ ‖ 0 ‖ part₂ …), with the version (8) and variant bits set.
    /// The input is hashed in one piece (one buffer, no `Data` per part).
    public static func make(namespace: String, _ parts: [String]) -> UUID {
        var input: [UInt8] = []
        input.reserveCapacity(namespace.utf8.count + parts.reduce(0) { $0 + 1 + $1.utf8.count })
        input.append(contentsOf: namespace.utf8)
        for part in parts {
            input.append(0)
            input.append(contentsOf: part.utf8)
        }
        let digest = SHA256.hash(data: input)
        return digest.withUnsafeBytes { d in
            UUID(uuid: (d[0], d[1], d[2], d[3], d[4], d[5], (d[6] & 0x0F) | 0x80, d[7], (d[8] & 0x3F) | 0x80, d[9], d[10], d[11],
                        d[12], d[13], d[14], d[15]))
        }
    }
}
