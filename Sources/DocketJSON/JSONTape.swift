#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed JSON text as a flat "tape" of tokens over the original bytes (the layout simdjson
/// and Foundation's own `JSONMap` use): no value is copied out of the input until a reader
/// asks for it, and skipping a value is one jump.
///
/// This is Docket's one JSON parser (DESIGN.md rule 8): the event log's input check, the
/// command envelope, the wire codec, the CLI and the HTTP layer all parse through it, so a
/// text one of them accepts none of the others refuses. It is strict (RFC 8259): exactly
/// one value with optional whitespace around it; strings of valid UTF-8 without raw control
/// characters, whose escapes are valid and whose `\u` escapes never name a lone surrogate;
/// numbers in JSON's grammar; nesting up to ``maxDepth`` levels; nothing after the value.
///
/// An object is its token followed, per member, by the key's string token and the value's
/// tokens; an array is its token followed by its elements' tokens. Every token records the
/// index just past its whole value (`next`), so siblings are reached without descending.
public struct JSONTape: Sendable {
    /// What a token holds.
    public enum Kind: UInt8, Sendable {
        /// An object (its members follow).
        case object
        /// An array (its elements follow).
        case array
        /// A string without escapes (its bytes are its text).
        case string
        /// A string with at least one escape (see ``JSONText/unescape(_:)``).
        case escapedString
        /// A number (its bytes are its literal).
        case number
        /// `true`.
        case `true`
        /// `false`.
        case `false`
        /// `null`.
        case null
    }

    /// One value on the tape.
    public struct Token: Sendable {
        /// What the value is.
        public var kind: Kind
        /// Strings (the bytes between the quotes) and numbers: byte offset; containers: member count.
        public var start: Int32
        /// Strings and numbers: byte length. Numbers: 1 in the high bit when they are not plain
        /// integers. Objects and arrays: the offset of their opening bracket.
        public var length: Int32
        /// Index of the first token after this value (and, for containers, all they hold).
        public var next: Int32

        /// Creates a token.
        public init(kind: Kind, start: Int32, length: Int32, next: Int32) {
            self.kind = kind
            self.start = start
            self.length = length
            self.next = next
        }

        /// Strings and numbers: where their bytes are in the text (strings: between the quotes).
        @inline(__always) public var byteRange: Range<Int> { Int(start)..<(Int(start) + Int(length & Int32.max)) }

        /// A number written without fraction or exponent.
        @inline(__always) public var isPlainInteger: Bool { kind == .number && length >= 0 }

        /// Objects and arrays: how many members or elements they hold.
        @inline(__always) public var count: Int { Int(start) }
    }

    /// The tokens, in document order.
    public var tokens: [Token] = []

    /// Deepest nesting accepted.
    public static let maxDepth = 512

    /// Creates a tape from tokens.
    public init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// Parses `bytes` (the whole text: one value, whitespace around it allowed).
    ///
    /// With `rejectingDuplicateKeys`, an object that names a member twice (compared after
    /// unescaping) is an error whose ``JSONSyntaxError/duplicatePath`` is the JSON path of
    /// the first such repetition in document order; it is reported only when the whole text
    /// is otherwise valid (a syntax error anywhere wins). Without, both members are kept on
    /// the tape (lookups find the first), as stored events have always been read. Small
    /// objects compare each name with the earlier ones in place (no allocation); objects of
    /// more than 16 members use a set.
    public static func parse(_ bytes: UnsafeRawBufferPointer, rejectingDuplicateKeys: Bool = false) throws(JSONSyntaxError) -> JSONTape {
        guard bytes.count < Int(Int32.max) else {
            throw JSONSyntaxError(offset: 0, reason: "the text is longer than 2 GiB")
        }
        var parser = JSONParser(bytes: bytes, rejectDuplicates: rejectingDuplicateKeys)
        try parser.parseDocument()
        return JSONTape(tokens: parser.tokens)
    }

    /// Parses `bytes` as ``parse(_:rejectingDuplicateKeys:)`` does.
    public static func parse(_ bytes: some Sequence<UInt8>, rejectingDuplicateKeys: Bool = false) throws(JSONSyntaxError) -> JSONTape {
        try withContiguousBytes(bytes) { raw throws(JSONSyntaxError) in try parse(raw, rejectingDuplicateKeys: rejectingDuplicateKeys) }
    }
}

/// Runs `body` on `bytes` as one contiguous buffer (copied only when they are not stored so).
func withContiguousBytes<R>(_ bytes: some Sequence<UInt8>,
                            _ body: (UnsafeRawBufferPointer) throws(JSONSyntaxError) -> R) throws(JSONSyntaxError) -> R {
    let result: Result<R, JSONSyntaxError>? = bytes.withContiguousStorageIfAvailable { buffer in
        do throws(JSONSyntaxError) {
            return .success(try body(UnsafeRawBufferPointer(buffer)))
        } catch {
            return .failure(error)
        }
    }
    if let result { return try result.get() }
    return try withContiguousBytes(Array(bytes), body)
}

extension JSONTape {
    /// Where the whole text of the value at token `index` is in `bytes` (the text this tape
    /// was parsed from): a string with its quotes, a container from its opening to its
    /// closing bracket.
    public func byteRange(ofValueAt index: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let t = tokens[index]
        switch t.kind {
        case .string, .escapedString: return (Int(t.start) - 1)..<(Int(t.start) + Int(t.length) + 1)
        case .number, .true, .false, .null: return t.byteRange
        case .object, .array:
            // The text is valid: match brackets, skipping strings.
            let open = Int(t.length)
            var depth = 0
            var i = open
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return open..<(i + 1) }
                case UInt8(ascii: "\""):
                    i += 1
                    while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                default: break
                }
                i += 1
            }
            return open..<bytes.count
        }
    }

    /// Whether `bytes` is one JSON value (with `objectOnly`, one object) by the one strict
    /// parser's rules; member names given twice are allowed (see ``parse(_:rejectingDuplicateKeys:)``).
    public static func isValid(_ bytes: some Sequence<UInt8>, objectOnly: Bool = false) -> Bool {
        guard let tape = try? parse(bytes) else { return false }
        return !objectOnly || tape.tokens.first?.kind == .object
    }
}

/// Where and why a text is not JSON, or (strict parsing) which member it names twice.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    /// The byte offset where the problem was found.
    public var offset: Int
    /// What was wrong there.
    public var reason: String
    /// For a duplicate member name: its JSON path (`$.a[0].b`); `nil` for a syntax error.
    public var duplicatePath: String?

    /// Creates an error.
    public init(offset: Int, reason: String, duplicatePath: String? = nil) {
        self.offset = offset
        self.reason = reason
        self.duplicatePath = duplicatePath
    }

    public var description: String {
        if let duplicatePath { return "\(duplicatePath) is given twice" }
        return "\(reason) at byte \(offset)"
    }
}

/// JSON paths (`$.payload.cc`, `$.items[2]`, `$["a b"]`) as every Docket error names them.
public enum JSONPath {
    /// Longest member name that errors repeat verbatim (longer ones are described by their length).
    public static let maxEchoedKeyBytes = 64

    /// How a member name appears in a JSON path: `.name`, `["a b"]`, or, for a name longer
    /// than ``maxEchoedKeyBytes`` or holding control characters, `[<a key of N bytes>]`, so a
    /// path never repeats an unbounded client string.
    public static func component(_ name: String) -> String {
        let utf8 = name.utf8
        if utf8.count > maxEchoedKeyBytes || name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "[<a key of \(utf8.count) bytes>]"
        }
        let plain = !name.isEmpty && utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        if plain { return "." + name }
        var quoted = "[\""
        for c in name.unicodeScalars {
            if c == "\\" || c == "\"" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(c)
        }
        return quoted + "\"]"
    }

    /// One step of a path: a member name or an array index.
    public enum Step: Sendable, Hashable {
        /// A member of an object.
        case key(String)
        /// An element of an array.
        case index(Int)
    }

    /// `prefix` (usually `$`) followed by `steps`.
    public static func string(_ prefix: String = "$", _ steps: [Step]) -> String {
        var out = prefix
        for step in steps {
            switch step {
            case .index(let i): out += "[\(i)]"
            case .key(let name): out += component(name)
            }
        }
        return out
    }
}

struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var tokens: [JSONTape.Token] = []
    var depth = 0
    var sawNonASCII = false
    let rejectDuplicates: Bool
    /// Token indices of the member names of the objects being parsed (one buffer per parse).
    var keyStack: [Int32] = []
    /// Strict parsing: where the parser is: a member name's token index (≥ 0), or an array
    /// element as `-(index + 1)`.
    var pathStack: [Int32] = []
    /// Strict parsing: the first repeated member name, reported once the text is known valid.
    var duplicate: JSONSyntaxError?

    init(bytes: UnsafeRawBufferPointer, rejectDuplicates: Bool) {
        self.bytes = bytes
        self.rejectDuplicates = rejectDuplicates
        tokens.reserveCapacity(max(8, bytes.count / 8))
    }

    /// The unescaped text of a string token.
    func text(_ t: JSONTape.Token) -> String {
        let body = UnsafeRawBufferPointer(rebasing: bytes[t.byteRange])
        if t.kind == .string { return String(decoding: body, as: UTF8.self) }
        return JSONText.unescape(body) ?? ""
    }

    /// Whether a string token is ASCII without escapes (then equal bytes mean equal names).
    func isPlain(_ t: JSONTape.Token) -> Bool {
        guard t.kind == .string else { return false }
        for k in t.byteRange where bytes[k] >= 0x80 { return false }
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

    /// The JSON path of where the parser is (strict parsing).
    func currentPath() -> String {
        var out = "$"
        for step in pathStack {
            if step >= 0 { out += JSONPath.component(text(tokens[Int(step)])) } else { out += "[\(-Int(step) - 1)]" }
        }
        return out
    }

    mutating func parseDocument() throws(JSONSyntaxError) {
        skipSpace()
        try parseValue()
        skipSpace()
        guard i == bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected text after the JSON value") }
        if sawNonASCII, String(validating: bytes.bindMemoryAsUInt8, as: UTF8.self) == nil {
            throw JSONSyntaxError(offset: 0, reason: "the text is not valid UTF-8")
        }
        if let duplicate { throw duplicate }
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
        default:
            let c = bytes[i]
            let shown = c >= 0x20 && c < 0x7F ? "'\(Unicode.Scalar(c))'" : "byte 0x" + String(c, radix: 16, uppercase: true)
            throw JSONSyntaxError(offset: i, reason: "unexpected character \(shown)")
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

    /// Opens an object or array at its bracket: one level deeper, its token, the bracket
    /// consumed. Returns the token's index (its count and end are set when it closes).
    mutating func openContainer(_ kind: JSONTape.Kind) throws(JSONSyntaxError) -> Int {
        depth += 1
        guard depth <= JSONTape.maxDepth else { throw JSONSyntaxError(offset: i, reason: "nested too deeply") }
        let at = tokens.count
        tokens.append(.init(kind: kind, start: 0, length: Int32(i), next: 0))
        i += 1
        skipSpace()
        return at
    }

    mutating func parseObject() throws(JSONSyntaxError) {
        let at = try openContainer(.object)
        var count: Int32 = 0
        let base = keyStack.count
        var seen: Set<String>?
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
                    if duplicate == nil, isDuplicate(key, base: base, seen: &seen) {
                        pathStack.append(key)
                        duplicate = JSONSyntaxError(offset: Int(tokens[Int(key)].start) - 1, reason: "duplicate member name",
                                                    duplicatePath: currentPath())
                        pathStack.removeLast()
                    }
                    keyStack.append(key)
                }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                    throw JSONSyntaxError(offset: i, reason: "expected ':' after a member name")
                }
                i += 1
                skipSpace()
                try parseValue(step: key)
                count += 1
                if try endOfMembers(close: UInt8(ascii: "}"), in: "an object") { break }
            }
        }
        tokens[at].start = count
        tokens[at].next = Int32(tokens.count)
        depth -= 1
    }

    /// Parses a member's or element's value; strict parsing keeps the path (`step`: see ``pathStack``).
    @inline(__always)
    mutating func parseValue(step: Int32) throws(JSONSyntaxError) {
        guard rejectDuplicates else { return try parseValue() }
        pathStack.append(step)
        try parseValue()
        pathStack.removeLast()
    }

    /// After a member or element: consumes `,` (false: another follows) or `close` (true).
    @inline(__always)
    mutating func endOfMembers(close: UInt8, in container: StaticString) throws(JSONSyntaxError) -> Bool {
        skipSpace()
        guard i < bytes.count else { throw JSONSyntaxError(offset: i, reason: "unexpected end of the text in \(container)") }
        if bytes[i] == UInt8(ascii: ",") { i += 1; return false }
        if bytes[i] == close { i += 1; return true }
        throw JSONSyntaxError(offset: i, reason: "expected ',' or '\(Unicode.Scalar(close))' in \(container)")
    }

    mutating func parseArray() throws(JSONSyntaxError) {
        let at = try openContainer(.array)
        var count: Int32 = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpace()
                try parseValue(step: -(count + 1))
                count += 1
                if try endOfMembers(close: UInt8(ascii: "]"), in: "an array") { break }
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
        if escaped, let problem = JSONText.escapeProblem(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) {
            throw JSONSyntaxError(offset: open, reason: problem)
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

extension JSONText {
    /// Unescapes the body of a JSON string (the bytes between the quotes); `nil` when an
    /// escape is invalid, names a lone surrogate, or the result is not valid UTF-8.
    public static func unescape(_ body: UnsafeRawBufferPointer) -> String? {
        var out: [UInt8]? = []
        out?.reserveCapacity(body.count)
        guard decodeEscapes(body, into: &out) == nil, let out else { return nil }
        return String(validating: out, as: UTF8.self)
    }

    /// Why the escapes of a string body are invalid, or `nil` when they are all valid.
    static func escapeProblem(_ body: UnsafeRawBufferPointer) -> String? {
        var sink: [UInt8]?
        return decodeEscapes(body, into: &sink)
    }

    private static func hex4(_ body: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
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

    /// Decodes escapes into `out` (when given); returns why they are invalid, or `nil`.
    private static func decodeEscapes(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]?) -> String? {
        var i = 0
        while i < body.count {
            let c = body[i]
            guard c == UInt8(ascii: "\\") else {
                out?.append(c)
                i += 1
                continue
            }
            guard i + 1 < body.count else { return "invalid escape sequence in a string" }
            let e = body[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out?.append(0x22)
            case UInt8(ascii: "\\"): out?.append(0x5C)
            case UInt8(ascii: "/"): out?.append(0x2F)
            case UInt8(ascii: "b"): out?.append(0x08)
            case UInt8(ascii: "f"): out?.append(0x0C)
            case UInt8(ascii: "n"): out?.append(0x0A)
            case UInt8(ascii: "r"): out?.append(0x0D)
            case UInt8(ascii: "t"): out?.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(body, i) else { return "invalid escape sequence in a string" }
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < body.count, body[i] == UInt8(ascii: "\\"), body[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(body, i + 2), (0xDC00...0xDFFF).contains(low) else {
                        return "invalid escape sequence in a string (a lone surrogate \\u\(String(scalar, radix: 16, uppercase: true)) names no character)"
                    }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    return "invalid escape sequence in a string (a lone surrogate \\u\(String(scalar, radix: 16, uppercase: true)) names no character)"
                }
                guard let u = Unicode.Scalar(scalar) else { return "invalid escape sequence in a string" }
                if out != nil { appendUTF8(u, to: &out) }
            default:
                return "invalid escape sequence in a string"
            }
        }
        return nil
    }

    private static func appendUTF8(_ u: Unicode.Scalar, to out: inout [UInt8]?) {
        let v = u.value
        switch v {
        case 0..<0x80: out?.append(UInt8(v))
        case 0x80..<0x800:
            out?.append(UInt8(0xC0 | (v >> 6)))
            out?.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            out?.append(UInt8(0xE0 | (v >> 12)))
            out?.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out?.append(UInt8(0x80 | (v & 0x3F)))
        default:
            out?.append(UInt8(0xF0 | (v >> 18)))
            out?.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out?.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out?.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
