import Foundation

/// A strict JSON (RFC 8259) reader over UTF-8 bytes that checks syntax without building
/// objects: the log's input check (payload and metadata must be JSON) and the command
/// envelope's parser use it instead of `JSONSerialization`, which allocates a Foundation
/// object for every value.
///
/// Accepted: exactly one value (any type) surrounded by optional whitespace; strings must
/// be valid UTF-8 without raw control characters, with valid escapes (a `\u` escape may
/// name a lone surrogate, as `JSONSerialization` allows); nesting up to 512 levels.
public struct JSONScanner {
    /// The document.
    public let bytes: [UInt8]
    /// The reading position (an index into ``bytes``).
    public var index: Int = 0
    /// Deepest nesting accepted.
    public static let maxDepth = 512

    /// A scanner at the start of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A scanner at the start of `data`.
    public init(_ data: Data) {
        self.bytes = Array(data)
    }

    /// Whether `data` is one JSON value; with `objectOnly`, one JSON object.
    public static func isValid(_ data: Data, objectOnly: Bool = false) -> Bool {
        var scanner = JSONScanner(data)
        scanner.skipWhitespace()
        if objectOnly && scanner.peek != UInt8(ascii: "{") { return false }
        guard scanner.skipValue() else { return false }
        scanner.skipWhitespace()
        return scanner.atEnd
    }

    /// Whether the whole document has been read.
    public var atEnd: Bool { index >= bytes.count }

    /// The byte at the reading position, or `nil` at the end.
    public var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Skips spaces, tabs, line feeds and carriage returns.
    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) when it is next; returns whether it was.
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Skips one value (after whitespace), checking its syntax; false when it is not valid.
    public mutating func skipValue() -> Bool {
        skipValue(depth: 0)
    }

    private mutating func skipValue(depth: Int) -> Bool {
        skipWhitespace()
        guard let first = peek else { return false }
        switch first {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { return false }
            index += 1
            if consume(UInt8(ascii: "}")) { return true }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\""), skipString(), consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { return false }
            index += 1
            if consume(UInt8(ascii: "]")) { return true }
            while true {
                guard skipValue(depth: depth + 1) else { return false }
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "\""):
            return skipString()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            return skipNumber() != nil
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { w in
            (0..<count).allSatisfy { bytes[index + $0] == w[$0] }
        }
        if matches { index += count }
        return matches
    }

    /// Skips a number at the reading position; returns its text's range, or `nil` when
    /// no valid number is there.
    public mutating func skipNumber() -> Range<Int>? {
        let start = index
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { index = start; return nil }
        if bytes[index] == 0x30 {
            index += 1
        } else {
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { index = start; return nil }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { index = start; return nil }
            while digit(index) { index += 1 }
        }
        return start..<index
    }

    /// Skips a string at the reading position (which must be its opening quote), checking
    /// escapes and UTF-8; false when it is not valid.
    public mutating func skipString() -> Bool {
        readString(decode: false).valid
    }

    /// Reads a string at the reading position (after whitespace), decoding escapes;
    /// `nil` when there is no valid string there.
    public mutating func readString() -> String? {
        skipWhitespace()
        let result = readString(decode: true)
        return result.valid ? result.text : nil
    }

    private mutating func readString(decode: Bool) -> (valid: Bool, text: String?) {
        guard peek == UInt8(ascii: "\"") else { return (false, nil) }
        index += 1
        let start = index
        var decoded: [UInt8]?  // only once an escape was seen
        var asciiOnly = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let end = index
                index += 1
                if !asciiOnly {
                    // Check UTF-8 of the raw bytes (escapes are ASCII and checked below).
                    guard String(validating: bytes[start..<end], as: UTF8.self) != nil else { return (false, nil) }
                }
                guard decode else { return (true, nil) }
                if let decoded { return (true, String(decoding: decoded, as: UTF8.self)) }
                return (true, String(decoding: bytes[start..<end], as: UTF8.self))
            }
            if byte < 0x20 { return (false, nil) }
            if byte >= 0x80 { asciiOnly = false }
            if byte == UInt8(ascii: "\\") {
                if decode && decoded == nil { decoded = Array(bytes[start..<index]) }
                index += 1
                guard index < bytes.count else { return (false, nil) }
                let escaped: UInt8
                switch bytes[index] {
                case UInt8(ascii: "\""): escaped = UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "/"): escaped = UInt8(ascii: "/")
                case UInt8(ascii: "b"): escaped = 0x08
                case UInt8(ascii: "f"): escaped = 0x0C
                case UInt8(ascii: "n"): escaped = 0x0A
                case UInt8(ascii: "r"): escaped = 0x0D
                case UInt8(ascii: "t"): escaped = 0x09
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: index + 1) else { return (false, nil) }
                    index += 5
                    if decode {
                        var scalar = Unicode.Scalar(unit)
                        if (0xD800..<0xDC00).contains(unit), index + 1 < bytes.count,
                           bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                           let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low) {
                            scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                            index += 6
                        }
                        decoded?.append(contentsOf: Array(String(scalar ?? "\u{FFFD}").utf8))
                    }
                    continue
                default:
                    return (false, nil)
                }
                decoded?.append(escaped)
                index += 1
                continue
            }
            decoded?.append(byte)
            index += 1
        }
        return (false, nil)
    }

    private func hex4(at i: Int) -> UInt16? {
        guard i + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for b in bytes[i..<(i + 4)] {
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x41...0x46: digit = b - 0x41 + 10
            case 0x61...0x66: digit = b - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}

// MARK: - Strict scan: duplicate member names

/// One step of a JSON path: a member name or an array index.
public enum JSONPathStep: Sendable, Hashable {
    /// A member of an object.
    case key(String)
    /// An element of an array.
    case index(Int)

    /// Writes `steps` after `prefix` (e.g. `$`) as a JSONPath: `.name` for plain names,
    /// `["name"]` for others, `[3]` for indices. A name longer than
    /// ``JSONScanner/maxEchoedKeyBytes`` or holding control characters is not echoed: it is
    /// written as `[<a key of N bytes>]`, so a path never repeats an unbounded client string.
    public static func path(_ prefix: String, _ steps: [JSONPathStep]) -> String {
        var out = prefix
        for step in steps {
            switch step {
            case .index(let i): out += "[\(i)]"
            case .key(let name): out += JSONScanner.pathComponent(name)
            }
        }
        return out
    }
}

extension JSONScanner {
    /// Longest member name that errors repeat verbatim (longer ones are described by their length).
    public static let maxEchoedKeyBytes = 64

    /// How a member name appears in a JSON path (`.name`, `["a b"]`, or `[<a key of N bytes>]`).
    public static func pathComponent(_ name: String) -> String {
        let utf8 = name.utf8
        if utf8.count > maxEchoedKeyBytes || name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "[<a key of \(utf8.count) bytes>]"
        }
        let plain = !name.isEmpty && utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        if plain { return "." + name }
        return "[\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"]"
    }

    /// What a strict scan found.
    public enum StrictOutcome: Sendable, Equatable {
        /// One valid value without duplicate member names.
        case valid
        /// Not valid JSON.
        case invalid
        /// Valid JSON, but an object names a member twice: the steps from the scanned value
        /// to the second occurrence (e.g. `[.key("cc")]`).
        case duplicateKey([JSONPathStep])
    }

    /// Objects with more members than this check for duplicates with a hash set; smaller ones
    /// compare each new name with the earlier ones by their bytes (no allocation).
    static let linearKeyLimit = 16

    /// Skips one value (after whitespace) like ``skipValue()``, and also refuses an object
    /// that names a member twice, at any depth. Names are compared after unescaping, as
    /// Swift strings (so `"a"` and `"\u0061"` are the same name); plain ASCII names are
    /// compared in place by their bytes.
    public mutating func skipValueRejectingDuplicates() -> StrictOutcome {
        var keys: [Range<Int>] = []
        let outcome = strictValue(depth: 0, keys: &keys)
        if case .duplicateKey(let reversed) = outcome { return .duplicateKey(reversed.reversed()) }
        return outcome
    }

    /// Whether `data` is one JSON value (with `objectOnly`, one object) without duplicate member names.
    public static func strictCheck(_ data: Data, objectOnly: Bool = false) -> StrictOutcome {
        var scanner = JSONScanner(data)
        scanner.skipWhitespace()
        if objectOnly && scanner.peek != UInt8(ascii: "{") { return .invalid }
        let outcome = scanner.skipValueRejectingDuplicates()
        guard outcome == .valid else { return outcome }
        scanner.skipWhitespace()
        return scanner.atEnd ? .valid : .invalid
    }

    /// `keys` is one buffer for the whole scan: each object pushes its member names' byte
    /// ranges (between the quotes) and pops them when it ends. A duplicate's steps are
    /// collected innermost first (reversed by the caller).
    private mutating func strictValue(depth: Int, keys: inout [Range<Int>]) -> StrictOutcome {
        skipWhitespace()
        guard let first = peek else { return .invalid }
        switch first {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { return .invalid }
            index += 1
            if consume(UInt8(ascii: "}")) { return .valid }
            let base = keys.count
            defer { keys.removeSubrange(base...) }
            var seen: Set<String>?
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { return .invalid }
                let start = index + 1
                guard skipString() else { return .invalid }
                let name = start..<(index - 1)
                if let duplicate = duplicate(name, among: keys[base...], seen: &seen) {
                    // Still check the rest's syntax: a syntax error wins over a duplicate.
                    guard consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return .invalid }
                    return .duplicateKey([.key(duplicate)])
                }
                keys.append(name)
                guard consume(UInt8(ascii: ":")) else { return .invalid }
                switch strictValue(depth: depth + 1, keys: &keys) {
                case .valid: break
                case .invalid: return .invalid
                case .duplicateKey(var steps):
                    steps.append(.key(decodedKey(name)))
                    return .duplicateKey(steps)
                }
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}")) ? .valid : .invalid
            }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { return .invalid }
            index += 1
            if consume(UInt8(ascii: "]")) { return .valid }
            var element = 0
            while true {
                switch strictValue(depth: depth + 1, keys: &keys) {
                case .valid: break
                case .invalid: return .invalid
                case .duplicateKey(var steps):
                    steps.append(.index(element))
                    return .duplicateKey(steps)
                }
                element += 1
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]")) ? .valid : .invalid
            }
        default:
            return skipValue(depth: depth) ? .valid : .invalid
        }
    }

    /// The decoded name of `range` when it equals one of `earlier` (or, for a large object, a name in `seen`).
    private func duplicate(_ range: Range<Int>, among earlier: ArraySlice<Range<Int>>, seen: inout Set<String>?) -> String? {
        if earlier.count >= Self.linearKeyLimit {
            if seen == nil { seen = Set(earlier.map(decodedKey)) }
            let name = decodedKey(range)
            return seen?.insert(name).inserted == false ? name : nil
        }
        let plain = isPlainASCII(range)
        for other in earlier {
            if plain && isPlainASCII(other) {
                if other.count == range.count && bytes[other].elementsEqual(bytes[range]) { return decodedKey(range) }
            } else if decodedKey(other) == decodedKey(range) {
                return decodedKey(range)
            }
        }
        return nil
    }

    /// Whether a string's raw bytes are ASCII without escapes (then bytes equal means names equal).
    private func isPlainASCII(_ range: Range<Int>) -> Bool {
        for i in range where bytes[i] >= 0x80 || bytes[i] == UInt8(ascii: "\\") { return false }
        return true
    }

    /// The unescaped text of a string whose body (between the quotes) is `range`.
    private func decodedKey(_ range: Range<Int>) -> String {
        var scanner = self
        scanner.index = range.lowerBound - 1
        return scanner.readString() ?? ""
    }
}
