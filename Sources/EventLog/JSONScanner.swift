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
