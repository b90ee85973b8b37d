import Foundation

/// A parsed JSON text as a flat "tape" of tokens over the original bytes (the layout simdjson
/// and Foundation's own `JSONMap` use): no value is copied out of the input until a decoder
/// asks for it, and skipping a value is one jump.
///
/// An object is its token followed, per member, by the key's string token and the value's
/// tokens; an array is its token followed by its elements' tokens. Every token records the
/// index just past its whole value (`next`), so siblings are reached without descending.
struct JSONTape {
    enum Kind: UInt8 {
        case object, array, string, escapedString, number, `true`, `false`, null
    }

    struct Token {
        /// What the value is.
        var kind: Kind
        /// Strings (the bytes between the quotes) and numbers: byte offset; containers: member count.
        var start: Int32
        /// Strings and numbers: byte length. Numbers: 1 in the high bit when they are not plain integers.
        var length: Int32
        /// Index of the first token after this value (and, for containers, all they hold).
        var next: Int32
    }

    var tokens: [Token] = []

    /// Parses `bytes` (the whole text: one value, whitespace around it allowed).
    ///
    /// With `rejectingDuplicateKeys`, an object that names a member twice (compared after
    /// unescaping) is an error whose ``JSONSyntaxError/duplicatePath`` is the JSON path of
    /// the second occurrence; without, both are kept on the tape (lookups find the first),
    /// as stored events have always been read. Small objects compare each name with the
    /// earlier ones in place (no allocation); objects of more than 16 members use a set.
    static func parse(_ bytes: UnsafeRawBufferPointer, rejectingDuplicateKeys: Bool = false) throws(JSONSyntaxError) -> JSONTape {
        var parser = Parser(bytes: bytes, rejectDuplicates: rejectingDuplicateKeys)
        try parser.parseDocument()
        return JSONTape(tokens: parser.tokens)
    }
}

/// Where and why a text is not JSON.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    /// For a duplicate member name: the steps of its JSON path, innermost first while the
    /// error unwinds (see ``path``).
    var duplicateSteps: [String]?
    var description: String {
        if let path = duplicatePath { return "\(path) is given twice" }
        return "\(reason) at byte \(offset)"
    }
    /// The JSON path of a duplicated member (`$.a[0].b`), or `nil` for a syntax error.
    var duplicatePath: String? { duplicateSteps.map { "$" + $0.reversed().joined() } }
}

/// How a member name appears in a JSON path: `.name`, `["a b"]`, or, for a name longer than
/// 64 bytes or holding control characters, `[<a key of N bytes>]` (never echoed).
func jsonPathComponent(_ name: String) -> String {
    let utf8 = name.utf8
    if utf8.count > 64 || name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
        return "[<a key of \(utf8.count) bytes>]"
    }
    let plain = !name.isEmpty && utf8.allSatisfy { b in
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }
    if plain { return "." + name }
    return "[\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"]"
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var tokens: [JSONTape.Token] = []
    var depth = 0
    var sawNonASCII = false
    let rejectDuplicates: Bool
    /// Token indices of the member names of the objects being parsed (one buffer per parse).
    var keyStack: [Int32] = []

    init(bytes: UnsafeRawBufferPointer, rejectDuplicates: Bool) {
        self.bytes = bytes
        self.rejectDuplicates = rejectDuplicates
        tokens.reserveCapacity(max(8, bytes.count / 8))
    }

    /// The unescaped text of a string token.
    func text(_ t: JSONTape.Token) -> String {
        let body = UnsafeRawBufferPointer(rebasing: bytes[Int(t.start)..<(Int(t.start) + Int(t.length))])
        if t.kind == .string { return String(decoding: body, as: UTF8.self) }
        return jsonUnescape(body) ?? ""
    }

    /// Whether a string token is ASCII without escapes (then equal bytes mean equal names).
    func isPlain(_ t: JSONTape.Token) -> Bool {
        guard t.kind == .string else { return false }
        for k in Int(t.start)..<(Int(t.start) + Int(t.length)) where bytes[k] >= 0x80 { return false }
        return true
    }

    /// Whether the name token `key` repeats one of the names `keyStack[base...]`.
    func isDuplicate(_ key: Int32, base: Int, seen: inout Set<String>?) -> Bool {
        let t = tokens[Int(key)]
        let earlier = keyStack[base...]
        if earlier.count >= 16 {
            if seen == nil { seen = Set(earlier.map { text(tokens[Int($0)]) }) }
            return seen?.insert(text(t)).inserted == false
        }
        let plain = isPlain(t)
        for other in earlier {
            let o = tokens[Int(other)]
            if plain && isPlain(o) {
                guard o.length == t.length else { continue }
                guard let base = bytes.baseAddress else { return true }
                if memcmp(base + Int(o.start), base + Int(t.start), Int(t.length)) == 0 { return true }
            } else if text(o) == text(t) {
                return true
            }
        }
        return false
    }

    mutating func parseDocument() throws(JSONSyntaxError) {
        skipSpace()
        try parseValue()
        skipSpace()
        guard i == bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected text after the JSON value") }
        if sawNonASCII, String(validating: bytes.bindMemoryAsUInt8, as: UTF8.self) == nil {
            throw JSONSyntaxError(offset: 0, reason: "the text is not valid UTF-8")
        }
    }

    @inline(__always)
    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) {
        guard i < bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected end of the text") }
        switch bytes[i] {
        case UInt8(ascii: "{"): try parseObject()
        case UInt8(ascii: "["): try parseArray()
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw JSONSyntaxError(offset: i, reason: "unexpected character '\(Unicode.Scalar(bytes[i]))'")
        }
    }

    mutating func literal(_ word: StaticString, _ kind: JSONTape.Kind) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected end of the text") }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] {
            throw JSONSyntaxError(offset: i, reason: "invalid literal (expected \(word))")
        }
        tokens.append(.init(kind: kind, start: Int32(i), length: Int32(n), next: Int32(tokens.count + 1)))
        i += n
    }

    mutating func parseObject() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= 512 else { throw JSONSyntaxError(offset: i, reason: "nested too deeply") }
        let at = tokens.count
        tokens.append(.init(kind: .object, start: 0, length: 0, next: 0))
        i += 1
        skipSpace()
        var count: Int32 = 0
        let base = keyStack.count
        var seen: Set<String>?
        var duplicate: Int32?
        defer { if rejectDuplicates { keyStack.removeSubrange(base...) } }
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                    throw JSONSyntaxError(offset: i, reason: "expected a member name in quotes")
                }
                let key = Int32(tokens.count)
                try parseString()
                if rejectDuplicates {
                    if duplicate == nil, isDuplicate(key, base: base, seen: &seen) { duplicate = key }
                    keyStack.append(key)
                }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                    throw JSONSyntaxError(offset: i, reason: "expected ':' after a member name")
                }
                i += 1
                skipSpace()
                if rejectDuplicates {
                    do {
                        try parseValue()
                    } catch {
                        var error = error
                        error.duplicateSteps?.append(jsonPathComponent(text(tokens[Int(key)])))
                        throw error
                    }
                } else {
                    try parseValue()
                }
                count += 1
                skipSpace()
                guard i < bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected end of the text in an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; break }
                throw JSONSyntaxError(offset: i, reason: "expected ',' or '}' in an object")
            }
        }
        if let duplicate {
            // Reported once this object's own syntax is known to be good; a syntax error
            // after it, elsewhere in the text, is missed (the text is still refused).
            throw JSONSyntaxError(offset: Int(tokens[Int(duplicate)].start) - 1, reason: "duplicate member name",
                                  duplicateSteps: [jsonPathComponent(text(tokens[Int(duplicate)]))])
        }
        tokens[at].start = count
        tokens[at].next = Int32(tokens.count)
        depth -= 1
    }

    mutating func parseArray() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= 512 else { throw JSONSyntaxError(offset: i, reason: "nested too deeply") }
        let at = tokens.count
        tokens.append(.init(kind: .array, start: 0, length: 0, next: 0))
        i += 1
        skipSpace()
        var count: Int32 = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpace()
                if rejectDuplicates {
                    do {
                        try parseValue()
                    } catch {
                        var error = error
                        error.duplicateSteps?.append("[\(count)]")
                        throw error
                    }
                } else {
                    try parseValue()
                }
                count += 1
                skipSpace()
                guard i < bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected end of the text in an array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; break }
                throw JSONSyntaxError(offset: i, reason: "expected ',' or ']' in an array")
            }
        }
        tokens[at].start = count
        tokens[at].next = Int32(tokens.count)
        depth -= 1
    }

    mutating func parseString() throws(JSONSyntaxError) {
        let open = i
        i += 1
        let start = i
        var escaped = false
        let count = bytes.count
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw JSONSyntaxError(offset: open, reason: "unterminated string")
        }
        var nonASCII: UInt8 = 0
        // The common case: plain ASCII up to the closing quote, scanned without bounds checks.
        while true {
            guard i < count else { throw JSONSyntaxError(offset: open, reason: "unterminated string") }
            let c = base[i]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 2
                continue
            }
            if c < 0x20 { throw JSONSyntaxError(offset: i, reason: "unescaped control character in a string") }
            nonASCII |= c
            i += 1
        }
        if nonASCII >= 0x80 { sawNonASCII = true }
        if escaped, jsonUnescape(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) == nil {
            throw JSONSyntaxError(offset: open, reason: "invalid escape sequence in a string")
        }
        tokens.append(.init(kind: escaped ? .escapedString : .string, start: Int32(start), length: Int32(i - start),
                            next: Int32(tokens.count + 1)))
        i += 1
    }

    mutating func parseNumber() throws(JSONSyntaxError) {
        let start = i
        var plain = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw JSONSyntaxError(offset: start, reason: "invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw JSONSyntaxError(offset: start, reason: "a number must not start with 0") }
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            plain = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw JSONSyntaxError(offset: start, reason: "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            plain = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw JSONSyntaxError(offset: start, reason: "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        let length = Int32(i - start) | (plain ? 0 : Int32.min)
        tokens.append(.init(kind: .number, start: Int32(start), length: length, next: Int32(tokens.count + 1)))
    }

    @inline(__always)
    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a typed `UInt8` buffer (raw memory is always valid as `UInt8`).
    var bindMemoryAsUInt8: UnsafeBufferPointer<UInt8> {
        guard let base = baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }
}

/// Unescapes the body of a JSON string (between the quotes); `nil` when an escape is invalid.
func jsonUnescape(_ body: UnsafeRawBufferPointer) -> String? {
    var out: [UInt8] = []
    out.reserveCapacity(body.count)
    var i = 0
    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= body.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = body[at + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
    while i < body.count {
        let c = body[i]
        guard c == UInt8(ascii: "\\") else {
            out.append(c)
            i += 1
            continue
        }
        guard i + 1 < body.count else { return nil }
        let e = body[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard var scalar = hex4(i) else { return nil }
            i += 4
            if (0xD800...0xDBFF).contains(scalar) {
                guard i + 1 < body.count, body[i] == UInt8(ascii: "\\"), body[i + 1] == UInt8(ascii: "u"),
                      let low = hex4(i + 2), (0xDC00...0xDFFF).contains(low) else { return nil }
                i += 6
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                return nil
            }
            guard let u = Unicode.Scalar(scalar) else { return nil }
            out.append(contentsOf: String(Character(u)).utf8)
        default:
            return nil
        }
    }
    return String(validating: out, as: UTF8.self)
}
