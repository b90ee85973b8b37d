import DocketJSON
import Foundation

/// A message whose JSON coding `tools/gen_messages.py` generates as straight-line code:
/// no `Codable` containers, no generic metadata lookups, keys written in sorted order
/// known at generation time. The bytes and the errors are exactly those of the `Codable`
/// path (``DocketJSONTests`` checks both against Foundation on every type).
protocol GeneratedJSONMessage: DomainMessage {
    /// The payload's member names (its schema's `properties`), for the strict decoding of commands.
    static var jsonFieldNames: [String] { get }
    /// Reads the payload from an object's members.
    init(fields: MessageFields) throws(MessageCodingError)
    /// Writes the payload as a JSON object with sorted keys.
    func writeJSON(to writer: inout JSONWriter) throws(MessageCodingError)
}

extension GeneratedJSONMessage {
    /// Decodes a payload of this type from a complete JSON text.
    ///
    /// `strict` is for what clients send (commands): a member name given twice, a member the
    /// schema does not define (`additionalProperties: false`) or an id member breaking
    /// ``Identifier``'s rule is an error naming its path. Without it (events as stored),
    /// unknown members are ignored and the first of two equal names is read, as always, so
    /// every event already in a log keeps decoding.
    static func decodeGenerated(_ bytes: UnsafeRawBufferPointer, strict: Bool = false) throws(MessageCodingError) -> Self {
        let storage = try parseTape(bytes, strict: strict, what: "\(type) payload", shape: "a valid \(Self.self)")
        let fields = MessageFields(storage: storage, object: 0, type: type, strict: strict)
        if strict { try fields.rejectUnknownMembers(Self.jsonFieldNames) }
        return try Self(fields: fields)
    }

    /// The payload's JSON text.
    func encodeGenerated() throws(MessageCodingError) -> Data {
        var writer = JSONWriter()
        try writeJSON(to: &writer)
        return Data(writer.out)
    }
}

/// Parses a complete JSON text whose top level must be an object, for the generated decoders.
func parseTape(_ bytes: UnsafeRawBufferPointer, strict: Bool, what: String, shape: String) throws(MessageCodingError) -> TapeStorage {
    let tape: JSONTape
    do {
        tape = try JSONTape.parse(bytes, rejectingDuplicateKeys: strict)
    } catch {
        if let path = error.duplicatePath {
            throw MessageCodingError("invalid \(what): \(path) is given twice; send each member of an object once", path: path)
        }
        throw MessageCodingError("invalid \(what): $: the text is not valid JSON (\(error))", path: "$")
    }
    let storage = TapeStorage(bytes: bytes, tokens: tape.tokens)
    guard storage.token(0).kind == .object else {
        throw MessageCodingError("invalid \(what): $ must be \(shape)", path: "$")
    }
    return storage
}

/// The members of one JSON object, read by name (generated code): a message payload, or a
/// value nested in one (then ``path`` is where it sits, e.g. `$.state.clocks[0]`).
package struct MessageFields {
    let storage: TapeStorage
    let table: MemberTable
    let object: Int
    let type: String
    /// The JSON path of this object, for errors.
    let path: String
    /// Client input (commands): unknown members and bad ids are errors (see ``GeneratedJSONMessage/decodeGenerated(_:strict:)``).
    let strict: Bool

    init(storage: TapeStorage, object: Int, type: String, path: String = "$", strict: Bool = false) {
        self.storage = storage
        self.object = object
        self.table = MemberTable(storage: storage, object: object)
        self.type = type
        self.path = path
        self.strict = strict
    }

    /// Refuses a member whose name is not one of `known`, naming its path (a long name is
    /// described by its length, not repeated).
    func rejectUnknownMembers(_ known: [String]) throws(MessageCodingError) {
        for nameIndex in table.names {
            let t = storage.token(Int(nameIndex))
            if known.contains(where: { storage.equals(t, $0) }) { continue }
            let at = path + JSONPath.component(storage.string(t) ?? "")
            let expected = known.isEmpty ? "no members" : known.joined(separator: ", ")
            throw MessageCodingError("invalid \(type) payload: \(at) is not a member of \(type) (\(expected)); "
                                     + "see schemas/commands/\(type).schema.json", path: at)
        }
    }

    /// An id member (``Identifier``'s rule, checked when ``strict``).
    package func id(_ name: String) throws(MessageCodingError) -> String {
        let value = try string(name)
        if strict, let problem = Identifier.problem(value) {
            throw MessageCodingError("invalid \(type) payload: \(path).\(name) \(problem)", path: "\(path).\(name)")
        }
        return value
    }

    /// An optional id member (``Identifier``'s rule, checked when ``strict``).
    package func optionalID(_ name: String) throws(MessageCodingError) -> String? {
        guard let value = try optionalString(name) else { return nil }
        if strict, let problem = Identifier.problem(value) {
            throw MessageCodingError("invalid \(type) payload: \(path).\(name) \(problem)", path: "\(path).\(name)")
        }
        return value
    }

    // MARK: Errors, worded as MessageCodingError.describing words DecodingErrors

    private func required(_ name: String) -> MessageCodingError {
        MessageCodingError("invalid \(type) payload: $.\(name) is required", path: "\(path).\(name)")
    }

    private func mismatch(_ path: String, _ expected: String, _ t: JSONTape.Token) -> MessageCodingError {
        if t.kind == .null { return MessageCodingError("invalid \(type) payload: \(path) must be \(expected), not null", path: path) }
        return MessageCodingError("invalid \(type) payload: \(path) must be \(expected)", path: path)
    }

    private func corrupted(_ path: String, _ reason: String) -> MessageCodingError {
        MessageCodingError("invalid \(type) payload: \(path): \(reason)", path: path)
    }

    // MARK: Lookup

    @inline(__always) private func find(_ name: String) -> Int? { table.find(name, in: storage) }

    @inline(__always) private func value(_ name: String) throws(MessageCodingError) -> Int {
        guard let i = find(name) else { throw required(name) }
        return i
    }

    /// The token of an optional member, `nil` when absent or null.
    @inline(__always) private func present(_ name: String) -> Int? {
        guard let i = find(name), storage.token(i).kind != .null else { return nil }
        return i
    }

    // MARK: Values at a token

    private func string(at i: Int, path: @autoclosure () -> String) throws(MessageCodingError) -> String {
        let t = storage.token(i)
        guard t.kind == .string || t.kind == .escapedString else { throw mismatch(path(), "a string", t) }
        guard let s = storage.string(t) else { throw corrupted(path(), "invalid escape sequence in a string") }
        return s
    }

    private func integer<I: FixedWidthInteger>(at i: Int, path: @autoclosure () -> String, _: I.Type) throws(MessageCodingError) -> I {
        let t = storage.token(i)
        guard t.kind == .number else { throw mismatch(path(), "an integer", t) }
        do {
            return try TapeDecoder(storage: storage, index: i, parent: nil, key: nil).integer(I.self)
        } catch {
            throw corrupted(path(), "Parsed JSON number <\(Identifier.echo(String(decoding: storage.body(t), as: UTF8.self), limit: 40))> does not fit in \(I.self).")
        }
    }

    private func bool(at i: Int, path: @autoclosure () -> String) throws(MessageCodingError) -> Bool {
        let t = storage.token(i)
        switch t.kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(path(), "true or false", t)
        }
    }

    private func date(at i: Int, path: @autoclosure () -> String) throws(MessageCodingError) -> Date {
        let t = storage.token(i)
        guard t.kind == .string || t.kind == .escapedString else {
            throw mismatch(path(), "a date-time like 2026-11-22T09:30:00.000Z", t)
        }
        guard let date = t.kind == .string ? DomainTime.parse(utf8: storage.body(t)) : storage.string(t).flatMap(DomainTime.parse) else {
            throw corrupted(path(), "expected a UTC date like 2026-01-31T09:00:00.000Z, got \(Identifier.echo(storage.string(t) ?? ""))")
        }
        return date
    }

    private func enumeration<E: RawRepresentable>(at i: Int, path: @autoclosure () -> String, _: E.Type) throws(MessageCodingError) -> E
    where E.RawValue == String {
        let t = storage.token(i)
        guard t.kind == .string || t.kind == .escapedString, let text = storage.string(t) else {
            throw mismatch(path(), "a valid \(E.self)", t)
        }
        guard let value = E(rawValue: text) else {
            throw corrupted(path(), "Cannot initialize \(E.self) from invalid String value \(Identifier.echo(text))")
        }
        return value
    }

    // MARK: Members (generated code calls these)

    package func string(_ name: String) throws(MessageCodingError) -> String { try string(at: try value(name), path: "\(path).\(name)") }
    package func optionalString(_ name: String) throws(MessageCodingError) -> String? {
        guard let i = present(name) else { return nil }
        return try string(at: i, path: "\(path).\(name)")
    }

    package func int(_ name: String) throws(MessageCodingError) -> Int { try integer(at: try value(name), path: "\(path).\(name)", Int.self) }
    package func optionalInt(_ name: String) throws(MessageCodingError) -> Int? {
        guard let i = present(name) else { return nil }
        return try integer(at: i, path: "\(path).\(name)", Int.self)
    }

    package func int64(_ name: String) throws(MessageCodingError) -> Int64 { try integer(at: try value(name), path: "\(path).\(name)", Int64.self) }
    package func optionalInt64(_ name: String) throws(MessageCodingError) -> Int64? {
        guard let i = present(name) else { return nil }
        return try integer(at: i, path: "\(path).\(name)", Int64.self)
    }

    package func bool(_ name: String) throws(MessageCodingError) -> Bool { try bool(at: try value(name), path: "\(path).\(name)") }
    package func optionalBool(_ name: String) throws(MessageCodingError) -> Bool? {
        guard let i = present(name) else { return nil }
        return try bool(at: i, path: "\(path).\(name)")
    }

    package func date(_ name: String) throws(MessageCodingError) -> Date { try date(at: try value(name), path: "\(path).\(name)") }
    package func optionalDate(_ name: String) throws(MessageCodingError) -> Date? {
        guard let i = present(name) else { return nil }
        return try date(at: i, path: "\(path).\(name)")
    }

    package func enumeration<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(MessageCodingError) -> E where E.RawValue == String {
        try enumeration(at: try value(name), path: "\(path).\(name)", E.self)
    }
    package func optionalEnumeration<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(MessageCodingError) -> E? where E.RawValue == String {
        guard let i = present(name) else { return nil }
        return try enumeration(at: i, path: "\(path).\(name)", E.self)
    }

    package func strings(_ name: String) throws(MessageCodingError) -> [String] {
        let i = try value(name)
        return try strings(at: i, name: name)
    }
    package func optionalStrings(_ name: String) throws(MessageCodingError) -> [String]? {
        guard let i = present(name) else { return nil }
        return try strings(at: i, name: name)
    }

    private func strings(at i: Int, name: String) throws(MessageCodingError) -> [String] {
        let t = storage.token(i)
        guard t.kind == .array else { throw mismatch("\(path).\(name)", "an array of strings", t) }
        var out: [String] = []
        out.reserveCapacity(Int(t.start))
        var e = i + 1
        for k in 0..<Int(t.start) {
            out.append(try string(at: e, path: "\(path).\(name)[\(k)]"))
            e = Int(storage.token(e).next)
        }
        return out
    }

    /// Any other `Decodable` member, through ``DocketJSONDecoder``'s containers.
    package func decodable<T: Decodable>(_ name: String, _ type: T.Type) throws(MessageCodingError) -> T {
        try decodable(at: try value(name), name: name, T.self)
    }
    package func optionalDecodable<T: Decodable>(_ name: String, _ type: T.Type) throws(MessageCodingError) -> T? {
        guard let i = present(name) else { return nil }
        return try decodable(at: i, name: name, T.self)
    }

    private func decodable<T: Decodable>(at i: Int, name: String, _: T.Type) throws(MessageCodingError) -> T {
        let root = TapeDecoder(storage: storage, index: object, parent: nil, key: nil)
        do {
            return try root.child(i, key: IndexKey(stringValue: name)).unbox(T.self)
        } catch {
            var e = MessageCodingError.describing(error, type: type)
            // The containers report paths from this object; a nested object sits at `path`.
            if path != "$", let at = e.path, at.hasPrefix("$") {
                let full = path + at.dropFirst()
                e = MessageCodingError(e.message.replacingOccurrences(of: at, with: full), path: full)
            }
            throw e
        }
    }

    // MARK: Nested values (generated value types)

    /// A target duration (`{"wallClockSeconds": N}`, `{"businessSeconds": N}` or
    /// `{"businessDays": N}`). The well-formed shape is read in place; anything else goes
    /// through the `Codable` path, so errors are exactly those of ``TargetDuration``'s decoder.
    package func targetDuration(_ name: String) throws(MessageCodingError) -> TargetDuration {
        let i = try value(name)
        let t = storage.token(i)
        if t.kind == .object, t.start == 1, storage.token(i + 2).kind == .number {
            let key = storage.token(i + 1)
            let number = TapeDecoder(storage: storage, index: i + 2, parent: nil, key: nil)
            if storage.equals(key, "businessSeconds"), let v = try? number.integer(Int64.self) { return .businessTime(seconds: v) }
            if storage.equals(key, "wallClockSeconds"), let v = try? number.integer(Int64.self) { return .wallClock(seconds: v) }
            if storage.equals(key, "businessDays"), let v = try? number.integer(Int.self) { return .businessDays(v) }
        }
        return try decodable(at: i, name: name, TargetDuration.self)
    }

    /// A nested object of a generated value type.
    package func value<T: GeneratedJSONValue>(_ name: String, _: T.Type) throws(MessageCodingError) -> T {
        try value(at: try value(name), path: "\(path).\(name)", T.self)
    }
    package func optionalValue<T: GeneratedJSONValue>(_ name: String, _: T.Type) throws(MessageCodingError) -> T? {
        guard let i = present(name) else { return nil }
        return try value(at: i, path: "\(path).\(name)", T.self)
    }

    private func value<T: GeneratedJSONValue>(at i: Int, path: String, _: T.Type) throws(MessageCodingError) -> T {
        let t = storage.token(i)
        guard t.kind == .object else { throw mismatch(path, "an object (\(T.self))", t) }
        let fields = MessageFields(storage: storage, object: i, type: type, path: path, strict: strict)
        if strict { try fields.rejectUnknownMembers(T.jsonFieldNames) }
        return try T(fields: fields)
    }

    /// An array of a generated value type.
    package func values<T: GeneratedJSONValue>(_ name: String, _: T.Type) throws(MessageCodingError) -> [T] {
        let i = try value(name)
        let t = storage.token(i)
        guard t.kind == .array else { throw mismatch("\(path).\(name)", "an array of \(T.self)", t) }
        var out: [T] = []
        out.reserveCapacity(Int(t.start))
        var e = i + 1
        for k in 0..<Int(t.start) {
            out.append(try value(at: e, path: "\(path).\(name)[\(k)]", T.self))
            e = Int(storage.token(e).next)
        }
        return out
    }

    /// An array of integers, or `nil` when the member is absent.
    package func optionalInts(_ name: String) throws(MessageCodingError) -> [Int]? {
        guard present(name) != nil else { return nil }
        return try ints(name)
    }

    /// An array of integers.
    package func ints(_ name: String) throws(MessageCodingError) -> [Int] {
        let i = try value(name)
        let t = storage.token(i)
        guard t.kind == .array else { throw mismatch("\(path).\(name)", "an array of integers", t) }
        var out: [Int] = []
        out.reserveCapacity(Int(t.start))
        var e = i + 1
        for k in 0..<Int(t.start) {
            out.append(try integer(at: e, path: "\(path).\(name)[\(k)]", Int.self))
            e = Int(storage.token(e).next)
        }
        return out
    }

    /// An object keyed by the raw values of `K` (how `Codable` writes a dictionary whose keys
    /// are `CodingKeyRepresentable` string enums).
    package func keyedValues<K: RawRepresentable & Hashable, V: GeneratedJSONValue>(_ name: String, _: K.Type, _: V.Type)
    throws(MessageCodingError) -> [K: V] where K.RawValue == String {
        let i = try value(name)
        let t = storage.token(i)
        guard t.kind == .object else { throw mismatch("\(path).\(name)", "an object keyed by \(K.self)", t) }
        var out: [K: V] = [:]
        var e = i + 1
        for _ in 0..<Int(t.start) {
            let text = storage.string(storage.token(e)) ?? ""
            guard let key = K(rawValue: text) else {
                throw corrupted("\(path).\(name)", "\(Identifier.echo(text)) is not a valid \(K.self)")
            }
            out[key] = try value(at: e + 1, path: "\(path).\(name).\(text)", V.self)
            e = Int(storage.token(e + 1).next)
        }
        return out
    }
}

/// A value type (not a message) whose JSON coding `tools/gen_messages.py` generates as
/// straight-line code: the projections' stored states and rows. Same bytes as its `Codable`
/// conformance (tests check both against Foundation); ``DocketJSONEncoder`` and
/// ``DocketJSONDecoder`` use it whenever the top-level type conforms.
package protocol GeneratedJSONValue: Codable {
    /// The value's member names, for strict decoding.
    static var jsonFieldNames: [String] { get }
    /// Reads the value from an object's members.
    init(fields: MessageFields) throws(MessageCodingError)
    /// Writes the value as a JSON object with sorted keys.
    func writeJSON(to writer: inout JSONWriter)
}

extension GeneratedJSONValue {
    /// Decodes a value from a complete JSON text; `strict` refuses duplicate and unknown
    /// members at every depth (see ``GeneratedJSONMessage/decodeGenerated(_:strict:)``).
    package static func decodeGenerated(_ bytes: UnsafeRawBufferPointer, strict: Bool = false) throws(MessageCodingError) -> Self {
        let storage = try parseTape(bytes, strict: strict, what: "\(Self.self)", shape: "an object")
        let fields = MessageFields(storage: storage, object: 0, type: "\(Self.self)", strict: strict)
        if strict { try fields.rejectUnknownMembers(Self.jsonFieldNames) }
        return try Self(fields: fields)
    }

    /// The value's JSON text.
    package func encodeGenerated() -> [UInt8] {
        var writer = JSONWriter()
        writeJSON(to: &writer)
        return writer.out
    }
}

extension JSONWriter {
    /// `{"wallClockSeconds":N}`, `{"businessSeconds":N}` or `{"businessDays":N}`.
    package mutating func writeTargetDuration(_ d: TargetDuration) {
        switch d {
        case .wallClock(let s): append("{\"wallClockSeconds\":"); writeInteger(s)
        case .businessTime(let s): append("{\"businessSeconds\":"); writeInteger(s)
        case .businessDays(let n): append("{\"businessDays\":"); writeInteger(Int64(n))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// An array of generated values.
    package mutating func writeValues<T: GeneratedJSONValue>(_ values: [T]) {
        out.append(UInt8(ascii: "["))
        for i in values.indices {  // in place: no copy of each element
            if i > 0 { out.append(UInt8(ascii: ",")) }
            values[i].writeJSON(to: &self)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// An array of integers.
    package mutating func writeInts(_ values: [Int]) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeInteger(Int64(v))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A dictionary keyed by a string enum, as an object with keys in byte order (as
    /// `Codable` with sorted keys writes it).
    package mutating func writeKeyedValues<K: RawRepresentable & Hashable, V: GeneratedJSONValue>(_ values: [K: V])
    where K.RawValue == String {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in values.sorted(by: { $0.key.rawValue.utf8.lexicographicallyPrecedes($1.key.rawValue.utf8) }) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(key.rawValue)
            out.append(UInt8(ascii: ":"))
            value.writeJSON(to: &self)
        }
        out.append(UInt8(ascii: "}"))
    }

    package mutating func writeStrings(_ values: [String]) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeString(v)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Any other `Encodable` member, through ``DocketJSONEncoder``'s containers.
    mutating func writeEncodable<T: Encodable>(_ value: T, type: String) throws(MessageCodingError) {
        do {
            write(try TreeEncoder.node(for: value, path: []))
        } catch {
            throw MessageCodingError("cannot encode \(type): \(error)")
        }
    }
}
