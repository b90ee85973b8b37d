import DocketJSON
import Foundation

/// A `Decodable` JSON decoder for Docket's wire format (``MessageCoding``): dates are
/// ``DomainTime`` strings, everything else as `JSONDecoder` decodes it.
///
/// It exists for speed: rebuilding projections, replaying and handling commands decode
/// millions of small payloads, and Foundation's `JSONDecoder` spends most of its time
/// building a `String`-keyed dictionary per object and a nested decoder per custom date.
/// This one parses into a flat token tape (``JSONTape``) and compares member names in
/// place. It reports errors as the same `DecodingError` cases with the same coding paths,
/// so ``MessageCodingError/describing(_:type:)`` names the offending JSON path either way.
public struct DocketJSONDecoder: Sendable {
    /// Whether an object naming a member twice is an error (at any depth, with the path of
    /// the second occurrence), and, for Docket's generated value types, a member they do not
    /// define. Off by default: stored data is read as it always was.
    public var strict: Bool

    /// Creates a decoder; `strict` for client input (see ``strict``).
    public init(strict: Bool = false) {
        self.strict = strict
    }

    /// Decodes a `T` from a complete JSON text.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, fromBytes: $0) }
    }

    /// Decodes a `T` from a complete JSON text.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, fromBytes: $0) }
    }

    /// Decodes a `T` from a complete JSON text held in `bytes` (not retained after the call).
    public func decode<T: Decodable>(_ type: T.Type, fromBytes bytes: UnsafeRawBufferPointer) throws -> T {
        if let generated = T.self as? any GeneratedJSONValue.Type, let value = try generated.decodeGenerated(bytes, strict: strict) as? T {
            return value
        }
        let tape: JSONTape
        do {
            tape = try JSONTape.parse(bytes, rejectingDuplicateKeys: strict)
        } catch {
            if let path = error.duplicatePath {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(path) is given twice; send each member of an object once"))
            }
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)",
                                                    underlyingError: error))
        }
        let storage = TapeStorage(bytes: bytes, tokens: tape.tokens)
        return try TapeDecoder(storage: storage, index: 0, parent: nil, key: nil).unbox(T.self)
    }
}

/// The input bytes and its tape, shared by every nested decoder of one `decode` call.
/// The bytes are only valid during that call: decoders never outlive it.
final class TapeStorage {
    let bytes: UnsafeRawBufferPointer
    let tokens: [JSONTape.Token]

    init(bytes: UnsafeRawBufferPointer, tokens: [JSONTape.Token]) {
        self.bytes = bytes
        self.tokens = tokens
    }

    @inline(__always) func token(_ i: Int) -> JSONTape.Token { tokens[i] }

    @inline(__always) func body(_ t: JSONTape.Token) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(t.start)..<(Int(t.start) + Int(t.length & Int32.max))])
    }

    /// The string a string token holds; `nil` for an invalid escape.
    func string(_ t: JSONTape.Token) -> String? {
        let b = body(t)
        if t.kind == .string { return String(decoding: b, as: UTF8.self) }
        return JSONText.unescape(b)
    }

    /// Whether a string token equals `key` (the common, unescaped case compares bytes in place).
    @inline(__always) func equals(_ t: JSONTape.Token, _ key: String) -> Bool {
        if t.kind == .escapedString { return string(t) == key }
        let b = body(t)
        var key = key
        return key.withUTF8 { k in
            guard k.count == b.count else { return false }
            guard let kb = k.baseAddress, let bb = b.baseAddress else { return true }
            return memcmp(kb, bb, k.count) == 0
        }
    }
}

/// One value being decoded; also its single-value container.
final class TapeDecoder: Decoder, SingleValueDecodingContainer {
    let storage: TapeStorage
    let index: Int
    let parent: TapeDecoder?
    let key: (any CodingKey)?

    init(storage: TapeStorage, index: Int, parent: TapeDecoder?, key: (any CodingKey)?) {
        self.storage = storage
        self.index = index
        self.parent = parent
        self.key = key
    }

    /// Computed on demand (errors only), from the chain of parents.
    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var d: TapeDecoder? = self
        while let current = d {
            if let key = current.key { path.append(key) }
            d = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var token: JSONTape.Token { storage.token(index) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let t = token
        guard t.kind == .object else { throw mismatch([String: Any].self, t) }
        return KeyedDecodingContainer(TapeKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let t = token
        guard t.kind == .array else { throw mismatch([Any].self, t) }
        return TapeUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Errors

    func mismatch(_ type: Any.Type, _ t: JSONTape.Token) -> DecodingError {
        if t.kind == .null {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Cannot get \(type) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(describe(t.kind)) instead."))
    }

    private func describe(_ kind: JSONTape.Kind) -> String {
        switch kind {
        case .object: "a dictionary"
        case .array: "an array"
        case .string, .escapedString: "a string"
        case .number: "a number"
        case .true, .false: "bool"
        case .null: "null"
        }
    }

    func corrupted(_ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
    }

    // MARK: Values

    /// Decodes this value as `T`, with Docket's date format and fast paths for primitives.
    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        // Type identity is one pointer comparison; `unsafeBitCast` is then the identity
        // (T is exactly that type), which avoids a dynamic cast per value.
        if T.self == String.self { return unsafeBitCast(try decode(String.self), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decode(Int.self), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decode(Bool.self), to: T.self) }
        if T.self == Date.self { return unsafeBitCast(try decodeDate(), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decode(Int64.self), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decode(Double.self), to: T.self) }
        return try T(from: self)
    }

    func decodeDate() throws -> Date {
        let t = token
        guard t.kind == .string || t.kind == .escapedString else { throw mismatch(Date.self, t) }
        guard let date = t.kind == .string ? DomainTime.parse(utf8: storage.body(t)) : storage.string(t).flatMap(DomainTime.parse) else {
            throw corrupted("expected a UTC date like 2026-01-31T09:00:00.000Z, got \(Identifier.echo(storage.string(t) ?? ""))")
        }
        return date
    }

    func decodeNil() -> Bool { token.kind == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        let t = token
        switch t.kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self, t)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        let t = token
        guard t.kind == .string || t.kind == .escapedString else { throw mismatch(String.self, t) }
        guard let s = storage.string(t) else { throw corrupted("invalid escape sequence in a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        let t = token
        guard t.kind == .number else { throw mismatch(Double.self, t) }
        let text = String(decoding: storage.body(t), as: UTF8.self)
        guard let v = Double(text), v.isFinite else {
            throw corrupted("Parsed JSON number <\(Identifier.echo(text, limit: 40))> does not fit in Double.")
        }
        return v
    }

    func decode(_ type: Float.Type) throws -> Float {
        let d = try decode(Double.self)
        guard let f = Float(exactly: d) ?? (abs(d) <= Double(Float.greatestFiniteMagnitude) ? Float(d) : nil) else {
            throw corrupted("Parsed JSON number <\(d)> does not fit in Float.")
        }
        return f
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let t = token
        guard t.kind == .number else { throw mismatch(I.self, t) }
        let b = storage.body(t)
        if t.length >= 0 {
            // Plain integer: accumulate with overflow checks.
            var i = 0
            let negative = b[0] == UInt8(ascii: "-")
            if negative { i = 1 }
            var v: I = 0
            while i < b.count {
                let digit = I(b[i] &- UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
                guard !o1, !o2 else {
                    throw corrupted("Parsed JSON number <\(Identifier.echo(String(decoding: b, as: UTF8.self), limit: 40))> does not fit in \(I.self).")
                }
                v = s
                i += 1
            }
            return v
        }
        let text = String(decoding: b, as: UTF8.self)
        guard let d = Double(text), let v = I(exactly: d) else {
            throw corrupted("Parsed JSON number <\(Identifier.echo(text, limit: 40))> does not fit in \(I.self).")
        }
        return v
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unbox(T.self) }

    /// A decoder for the value at `index`, reached through `key`.
    @inline(__always) func child(_ index: Int, key: any CodingKey) -> TapeDecoder {
        TapeDecoder(storage: storage, index: index, parent: self, key: key)
    }
}

/// Keyed access to an object's members. Member names are compared in place; the search
/// starts after the last member found, so decoding keys in the order they were written
/// costs one comparison each.
final class MemberTable {
    /// Token index of each member's name (its value follows it).
    var names: [Int32]
    var hint = 0

    init(storage: TapeStorage, object: Int) {
        let t = storage.token(object)
        var names: [Int32] = []
        names.reserveCapacity(Int(t.start))
        var i = object + 1
        for _ in 0..<Int(t.start) {
            names.append(Int32(i))
            i = Int(storage.token(i + 1).next)
        }
        self.names = names
    }

    /// The token index of the value named `key`, or `nil`.
    @inline(__always) func find(_ key: String, in storage: TapeStorage) -> Int? {
        let n = names.count
        guard n > 0 else { return nil }
        var k = hint < n ? hint : 0
        for _ in 0..<n {
            let nameIndex = Int(names[k])
            if storage.equals(storage.token(nameIndex), key) {
                hint = k + 1
                return nameIndex + 1
            }
            k += 1
            if k == n { k = 0 }
        }
        return nil
    }
}

struct TapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TapeDecoder
    let table: MemberTable

    init(decoder: TapeDecoder) {
        self.decoder = decoder
        self.table = MemberTable(storage: decoder.storage, object: decoder.index)
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        table.names.compactMap { i in decoder.storage.string(decoder.storage.token(Int(i))).flatMap { Key(stringValue: $0) } }
    }

    func contains(_ key: Key) -> Bool { table.find(key.stringValue, in: decoder.storage) != nil }

    @inline(__always) func value(_ key: Key) throws -> TapeDecoder {
        guard let i = table.find(key.stringValue, in: decoder.storage) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath,
                                                       debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return decoder.child(i, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(key).decode(Bool.self) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(key).decode(String.self) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(key).decode(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try value(key).decode(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(key).decode(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try value(key).decode(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try value(key).decode(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try value(key).decode(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(key).decode(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try value(key).decode(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try value(key).decode(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try value(key).decode(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try value(key).decode(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try value(key).decode(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(key).unbox(T.self) }

    /// The value for `key` unless it is absent or null: one lookup instead of three.
    @inline(__always) func present(_ key: Key) -> TapeDecoder? {
        guard let i = table.find(key.stringValue, in: decoder.storage), decoder.storage.token(i).kind != .null else { return nil }
        return decoder.child(i, key: key)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.decode(String.self) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.decode(Bool.self) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.decode(Int.self) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.decode(Int64.self) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.decode(Double.self) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(key)?.unbox(T.self) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try value(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try value(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = IndexKey(stringValue: "super")
        guard let i = table.find("super", in: decoder.storage) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key super."))
        }
        return decoder.child(i, key: key)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try value(key) }
}

/// A coding key for array elements and `super`.
struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = "Index \(intValue)"; self.intValue = intValue }
}

struct TapeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TapeDecoder
    let count: Int?
    private(set) var currentIndex = 0
    /// Token index of the current element.
    private var position: Int

    init(decoder: TapeDecoder) {
        self.decoder = decoder
        self.count = Int(decoder.token.start)
        self.position = decoder.index + 1
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= (count ?? 0) }

    private mutating func next() throws -> TapeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [IndexKey(intValue: currentIndex)],
                                                              debugDescription: "Unkeyed container is at end."))
        }
        let d = decoder.child(position, key: IndexKey(intValue: currentIndex))
        position = Int(decoder.storage.token(position).next)
        currentIndex += 1
        return d
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, decoder.storage.token(position).kind == .null else { return false }
        position = Int(decoder.storage.token(position).next)
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(Bool.self) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decode(String.self) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(Double.self) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(Float.self) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(Int8.self) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(Int16.self) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(Int32.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(Int64.self) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(UInt.self) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(UInt8.self) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(UInt16.self) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(UInt32.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(UInt64.self) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().unbox(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
