import Foundation

/// Any JSON value, for the few places that handle JSON of no fixed shape: error details in
/// HTTP responses, support policies and calendars while they load, import lines, the CLI's
/// output. Docket's one such type (DESIGN.md rule 8); typed messages use the generated
/// coding or `DocketJSONDecoder` instead.
public enum JSONValue: Hashable, Sendable, Codable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number without fraction or exponent that fits in 64 bits.
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object (key order is not kept; it is written with sorted keys).
    case object([String: JSONValue])

    /// Parses one complete JSON text with the one strict parser (``JSONTape``).
    ///
    /// With `rejectingDuplicateKeys` (the default: input from outside), a member name given
    /// twice anywhere is an error naming its path; without, the first of them is kept.
    public static func parse(_ bytes: some Sequence<UInt8>, rejectingDuplicateKeys: Bool = true) throws(JSONSyntaxError) -> JSONValue {
        try withContiguousBytes(bytes) { raw throws(JSONSyntaxError) in try parse(raw, rejectingDuplicateKeys: rejectingDuplicateKeys) }
    }

    /// Parses one complete JSON text held in `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, rejectingDuplicateKeys: Bool = true) throws(JSONSyntaxError) -> JSONValue {
        let tape = try JSONTape.parse(bytes, rejectingDuplicateKeys: rejectingDuplicateKeys)
        return JSONValue(tape: tape, bytes: bytes, at: 0)
    }

    /// The value of token `index` of `tape` (parsed from `bytes`).
    public init(tape: JSONTape, bytes: UnsafeRawBufferPointer, at index: Int) {
        let t = tape.tokens[index]
        switch t.kind {
        case .null: self = .null
        case .true: self = .bool(true)
        case .false: self = .bool(false)
        case .string, .escapedString: self = .string(tape.string(t, in: bytes))
        case .number: self = tape.number(t, in: bytes)
        case .array:
            var items: [JSONValue] = []
            items.reserveCapacity(t.count)
            var e = index + 1
            for _ in 0..<t.count {
                items.append(JSONValue(tape: tape, bytes: bytes, at: e))
                e = Int(tape.tokens[e].next)
            }
            self = .array(items)
        case .object:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(t.count)
            var k = index + 1
            for _ in 0..<t.count {
                let name = tape.string(tape.tokens[k], in: bytes)
                if members[name] == nil { members[name] = JSONValue(tape: tape, bytes: bytes, at: k + 1) }
                k = Int(tape.tokens[k + 1].next)
            }
            self = .object(members)
        }
    }

    /// Writes the value as compact JSON with sorted keys (the bytes `JSONSerialization` writes
    /// of the same value with `[.sortedKeys, .withoutEscapingSlashes]`).
    public func write(to w: inout JSONWriter) {
        switch self {
        case .null: w.writeNull()
        case .bool(let b): w.writeBool(b)
        case .int(let i): w.writeInteger(i)
        case .double(let d): w.writeDouble(d)
        case .string(let s): w.writeString(s)
        case .array(let items):
            w.out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { w.out.append(UInt8(ascii: ",")) }
                item.write(to: &w)
            }
            w.out.append(UInt8(ascii: "]"))
        case .object(let members):
            w.out.append(UInt8(ascii: "{"))
            let keys = Array(members.keys)
            for (n, i) in JSONKeyOrder.sortedIndices(keys).enumerated() {
                if n > 0 { w.out.append(UInt8(ascii: ",")) }
                w.writeString(keys[i])
                w.out.append(UInt8(ascii: ":"))
                members[keys[i]]?.write(to: &w)
            }
            w.out.append(UInt8(ascii: "}"))
        }
    }

    /// The value's JSON text (compact, sorted keys).
    public var jsonBytes: [UInt8] {
        var w = JSONWriter(capacity: 64)
        write(to: &w)
        return w.out
    }

    /// The value's JSON text as a string.
    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// Encodes the value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// A short name of the value's JSON type, for messages ("a string", "an object").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

extension JSONTape {
    /// The text of string token `t` (escapes decoded).
    public func string(_ t: Token, in bytes: UnsafeRawBufferPointer) -> String {
        let body = UnsafeRawBufferPointer(rebasing: bytes[t.byteRange])
        if t.kind == .string { return String(decoding: body, as: UTF8.self) }
        return JSONText.unescape(body) ?? ""
    }

    /// The value of number token `t`: ``JSONValue/int(_:)`` for an integer literal that fits
    /// in 64 bits, ``JSONValue/double(_:)`` for any other.
    public func number(_ t: Token, in bytes: UnsafeRawBufferPointer) -> JSONValue {
        let body = UnsafeRawBufferPointer(rebasing: bytes[t.byteRange])
        if t.isPlainInteger, body.count <= 19 || (body.count == 20 && body[0] == UInt8(ascii: "-")) {
            var negative = false
            var k = 0
            if body[0] == UInt8(ascii: "-") { negative = true; k = 1 }
            var magnitude: UInt64 = 0
            var fits = true
            while k < body.count {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(body[k] &- 0x30))
                if o1 || o2 { fits = false; break }
                magnitude = s
                k += 1
            }
            if fits {
                if negative, magnitude <= UInt64(Int64.max) + 1 {
                    return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
                }
                if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
            }
        }
        return .double(Double(String(decoding: body, as: UTF8.self)) ?? .nan)
    }

    /// Writes the value at token `index` as ``JSONValue/write(to:)`` would write it, without
    /// building a ``JSONValue``: plain strings are copied as they are, members sorted per
    /// object (the first of two equal names kept, as ``JSONValue`` keeps it).
    public func writeCanonical(at index: Int, bytes: UnsafeRawBufferPointer, to w: inout JSONWriter) {
        let t = tokens[index]
        switch t.kind {
        case .null: w.writeNull()
        case .true: w.writeBool(true)
        case .false: w.writeBool(false)
        case .string: writeName(t, bytes: bytes, to: &w)
        case .escapedString: w.writeString(string(t, in: bytes))
        case .number:
            // Integer literals Foundation writes back as they are: no sign on zero, no leading zeros (JSON has none).
            if t.isPlainInteger, t.length <= 18, !(t.length == 2 && bytes[Int(t.start)] == UInt8(ascii: "-") && bytes[Int(t.start) + 1] == UInt8(ascii: "0")) {
                w.out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[t.byteRange]))
            } else {
                number(t, in: bytes).write(to: &w)
            }
        case .array:
            w.out.append(UInt8(ascii: "["))
            var e = index + 1
            for n in 0..<t.count {
                if n > 0 { w.out.append(UInt8(ascii: ",")) }
                writeCanonical(at: e, bytes: bytes, to: &w)
                e = Int(tokens[e].next)
            }
            w.out.append(UInt8(ascii: "]"))
        case .object:
            w.out.append(UInt8(ascii: "{"))
            var names: [Int] = []
            names.reserveCapacity(t.count)
            var k = index + 1
            for _ in 0..<t.count {
                names.append(k)
                k = Int(tokens[k + 1].next)
            }
            let keys = names.map { string(tokens[$0], in: bytes) }
            var previous: String?
            var first = true
            for i in JSONKeyOrder.sortedIndices(keys) {
                // Equal names are adjacent once sorted; the sort is stable, so the first is kept.
                if keys[i] == previous { continue }
                previous = keys[i]
                if !first { w.out.append(UInt8(ascii: ",")) }
                first = false
                writeName(tokens[names[i]], bytes: bytes, to: &w)
                w.out.append(UInt8(ascii: ":"))
                writeCanonical(at: names[i] + 1, bytes: bytes, to: &w)
            }
            w.out.append(UInt8(ascii: "}"))
        }
    }

    private func writeName(_ t: Token, bytes: UnsafeRawBufferPointer, to w: inout JSONWriter) {
        if t.kind == .string {
            // No escapes and no raw control characters: the bytes are what the writer writes.
            w.out.append(UInt8(ascii: "\""))
            w.out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[t.byteRange]))
            w.out.append(UInt8(ascii: "\""))
        } else {
            w.writeString(string(t, in: bytes))
        }
    }
}
