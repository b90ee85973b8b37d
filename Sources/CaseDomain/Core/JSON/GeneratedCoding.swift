import Foundation

/// A message whose JSON coding `tools/gen_messages.py` generates as straight-line code:
/// no `Codable` containers, no generic metadata lookups, keys written in sorted order
/// known at generation time. The bytes and the errors are exactly those of the `Codable`
/// path (``DocketJSONTests`` checks both against Foundation on every type).
protocol GeneratedJSONMessage: DomainMessage {
    /// Reads the payload from an object's members.
    init(fields: MessageFields) throws(MessageCodingError)
    /// Writes the payload as a JSON object with sorted keys.
    func writeJSON(to writer: inout JSONWriter) throws(MessageCodingError)
}

extension GeneratedJSONMessage {
    /// Decodes a payload of this type from a complete JSON text.
    static func decodeGenerated(_ bytes: UnsafeRawBufferPointer) throws(MessageCodingError) -> Self {
        let tape: JSONTape
        do {
            tape = try JSONTape.parse(bytes)
        } catch {
            throw MessageCodingError("invalid \(type) payload: $: the text is not valid JSON (\(error))", path: "$")
        }
        let storage = TapeStorage(bytes: bytes, tokens: tape.tokens)
        guard storage.token(0).kind == .object else {
            throw MessageCodingError("invalid \(type) payload: $ must be a valid \(Self.self)", path: "$")
        }
        return try Self(fields: MessageFields(storage: storage, object: 0, type: type))
    }

    /// The payload's JSON text.
    func encodeGenerated() throws(MessageCodingError) -> Data {
        var writer = JSONWriter()
        try writeJSON(to: &writer)
        return Data(writer.out)
    }
}

/// The members of one payload object, read by name (generated code).
struct MessageFields {
    let storage: TapeStorage
    let table: MemberTable
    let object: Int
    let type: String

    init(storage: TapeStorage, object: Int, type: String) {
        self.storage = storage
        self.object = object
        self.table = MemberTable(storage: storage, object: object)
        self.type = type
    }

    // MARK: Errors, worded as MessageCodingError.describing words DecodingErrors

    private func required(_ name: String) -> MessageCodingError {
        MessageCodingError("invalid \(type) payload: $.\(name) is required", path: "$.\(name)")
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
            throw corrupted(path(), "Parsed JSON number <\(String(decoding: storage.body(t), as: UTF8.self))> does not fit in \(I.self).")
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
            throw corrupted(path(), "expected a UTC date like 2026-01-31T09:00:00.000Z, got \(storage.string(t) ?? "")")
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
            throw corrupted(path(), "Cannot initialize \(E.self) from invalid String value \(text)")
        }
        return value
    }

    // MARK: Members (generated code calls these)

    func string(_ name: String) throws(MessageCodingError) -> String { try string(at: try value(name), path: "$.\(name)") }
    func optionalString(_ name: String) throws(MessageCodingError) -> String? {
        guard let i = present(name) else { return nil }
        return try string(at: i, path: "$.\(name)")
    }

    func int(_ name: String) throws(MessageCodingError) -> Int { try integer(at: try value(name), path: "$.\(name)", Int.self) }
    func optionalInt(_ name: String) throws(MessageCodingError) -> Int? {
        guard let i = present(name) else { return nil }
        return try integer(at: i, path: "$.\(name)", Int.self)
    }

    func int64(_ name: String) throws(MessageCodingError) -> Int64 { try integer(at: try value(name), path: "$.\(name)", Int64.self) }
    func optionalInt64(_ name: String) throws(MessageCodingError) -> Int64? {
        guard let i = present(name) else { return nil }
        return try integer(at: i, path: "$.\(name)", Int64.self)
    }

    func bool(_ name: String) throws(MessageCodingError) -> Bool { try bool(at: try value(name), path: "$.\(name)") }
    func optionalBool(_ name: String) throws(MessageCodingError) -> Bool? {
        guard let i = present(name) else { return nil }
        return try bool(at: i, path: "$.\(name)")
    }

    func date(_ name: String) throws(MessageCodingError) -> Date { try date(at: try value(name), path: "$.\(name)") }
    func optionalDate(_ name: String) throws(MessageCodingError) -> Date? {
        guard let i = present(name) else { return nil }
        return try date(at: i, path: "$.\(name)")
    }

    func enumeration<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(MessageCodingError) -> E where E.RawValue == String {
        try enumeration(at: try value(name), path: "$.\(name)", E.self)
    }
    func optionalEnumeration<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(MessageCodingError) -> E? where E.RawValue == String {
        guard let i = present(name) else { return nil }
        return try enumeration(at: i, path: "$.\(name)", E.self)
    }

    func strings(_ name: String) throws(MessageCodingError) -> [String] {
        let i = try value(name)
        return try strings(at: i, name: name)
    }
    func optionalStrings(_ name: String) throws(MessageCodingError) -> [String]? {
        guard let i = present(name) else { return nil }
        return try strings(at: i, name: name)
    }

    private func strings(at i: Int, name: String) throws(MessageCodingError) -> [String] {
        let t = storage.token(i)
        guard t.kind == .array else { throw mismatch("$.\(name)", "an array of strings", t) }
        var out: [String] = []
        out.reserveCapacity(Int(t.start))
        var e = i + 1
        for k in 0..<Int(t.start) {
            out.append(try string(at: e, path: "$.\(name)[\(k)]"))
            e = Int(storage.token(e).next)
        }
        return out
    }

    /// Any other `Decodable` member, through ``DocketJSONDecoder``'s containers.
    func decodable<T: Decodable>(_ name: String, _ type: T.Type) throws(MessageCodingError) -> T {
        try decodable(at: try value(name), name: name, T.self)
    }
    func optionalDecodable<T: Decodable>(_ name: String, _ type: T.Type) throws(MessageCodingError) -> T? {
        guard let i = present(name) else { return nil }
        return try decodable(at: i, name: name, T.self)
    }

    private func decodable<T: Decodable>(at i: Int, name: String, _: T.Type) throws(MessageCodingError) -> T {
        let root = TapeDecoder(storage: storage, index: object, parent: nil, key: nil)
        do {
            return try root.child(i, key: IndexKey(stringValue: name)).unbox(T.self)
        } catch {
            throw MessageCodingError.describing(error, type: type)
        }
    }
}

extension JSONWriter {
    /// Writes `,"name":` (no comma before the first member).
    @inline(__always) mutating func key(_ name: StaticString, first: inout Bool) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    @inline(__always) mutating func writeBool(_ b: Bool) { append(b ? "true" : "false") }

    mutating func writeStrings(_ values: [String]) {
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
