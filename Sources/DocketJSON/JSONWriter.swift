import Foundation

/// Docket's one JSON writer (DESIGN.md rule 8): compact JSON into a byte buffer, in exactly
/// the bytes `JSONEncoder`/`JSONSerialization` write with `[.sortedKeys,
/// .withoutEscapingSlashes]` (strings escaped as ``JSONText/appendString(_:to:)`` does,
/// doubles in their shortest round-trip form without a trailing `.0`). The wire codec, the
/// generated message coding, the HTTP responses and the CLI's output all write through it.
///
/// Callers that write an object member by member write its keys in sorted order themselves
/// (``JSONKeyOrder`` gives the order); ``JSONValue/write(to:)`` sorts for them.
public struct JSONWriter: Sendable {
    /// The text so far.
    public var out: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 512) { out.reserveCapacity(capacity) }

    /// Appends raw, already valid JSON punctuation or text.
    @inline(__always) public mutating func append(_ s: StaticString) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends bytes that are already valid JSON (e.g. a stored payload or projection row).
    @inline(__always) public mutating func appendRaw(_ json: some Sequence<UInt8>) {
        out.append(contentsOf: json)
    }

    /// Appends `"name":` (the name must need no escaping).
    @inline(__always) public mutating func key(_ name: StaticString) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// Appends `,"name":`, without the comma before the first member.
    @inline(__always) public mutating func key(_ name: StaticString, first: inout Bool) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        key(name)
    }

    /// Appends `null`.
    @inline(__always) public mutating func writeNull() { append("null") }

    /// Appends `true` or `false`.
    @inline(__always) public mutating func writeBool(_ b: Bool) { append(b ? "true" : "false") }

    /// Appends an unsigned integer in decimal.
    public mutating func writeUnsigned(_ v: UInt64) {
        if v < 10 {
            out.append(UInt8(ascii: "0") + UInt8(v))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var count = 0
            var rest = v
            while rest > 0 {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Appends `v` (0 or more, fewer than `width` digits otherwise cut to its last `width`)
    /// zero-padded to `width` decimal digits, e.g. the parts of a timestamp.
    public mutating func writeZeroPadded(_ v: Int, width: Int) {
        let end = out.count + width
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var rest = v.magnitude
        var k = end - 1
        while rest > 0, k >= end - width {
            out[k] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            k -= 1
        }
    }

    /// Appends a signed integer in decimal.
    public mutating func writeInteger(_ v: Int64) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            writeUnsigned(v.magnitude)
        } else {
            writeUnsigned(UInt64(v))
        }
    }

    /// Appends a finite `Double` as Foundation writes it: its shortest round-trip form, without
    /// a trailing `.0`, exponents as Swift writes them (`1e-07`, `1e+20`).
    public mutating func writeDouble(_ v: Double) {
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        out.append(contentsOf: s.utf8)
    }

    /// Appends a JSON string (see ``JSONText/appendString(_:to:)``).
    @inline(__always) public mutating func writeString(_ s: String) {
        JSONText.appendString(s, to: &out)
    }

    /// Appends a UUID as a lowercase string.
    public mutating func writeUUID(_ id: UUID) {
        out.append(UInt8(ascii: "\""))
        let hex: StaticString = "0123456789abcdef"
        withUnsafeBytes(of: id.uuid) { u in
            hex.withUTF8Buffer { digits in
                for k in 0..<16 {
                    if k == 4 || k == 6 || k == 8 || k == 10 { out.append(UInt8(ascii: "-")) }
                    out.append(digits[Int(u[k] >> 4)])
                    out.append(digits[Int(u[k] & 0xF)])
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Pieces of JSON text as the wire format writes them.
public enum JSONText {
    /// Appends `s` as a JSON string: `"` and `\` escaped, control characters as `\n`-style
    /// or `\u00XX` escapes, `/` and non-ASCII as they are (Foundation's bytes).
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends the valid UTF-8 text `u` as a JSON string, escaped as ``appendString(_:to:)`` escapes.
    public static func appendString(utf8 u: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<u.count {
            let c = u[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: u[runStart..<i]))
            runStart = i + 1
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                hex.withUTF8Buffer { digits in
                    out.append(digits[Int(c >> 4)])
                    out.append(digits[Int(c & 0xF)])
                }
            }
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: u[runStart..<u.count]))
        out.append(UInt8(ascii: "\""))
    }

    /// Appends already valid JSON text (`json`), with line feeds and carriage returns (only
    /// possible as whitespace between tokens: JSON strings cannot hold them raw) dropped,
    /// so the value stays on one NDJSON line. Copies runs, not bytes.
    public static func appendOnOneLine(_ json: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        guard let base = json.baseAddress else { return }
        var runStart = 0
        var i = 0
        let n = json.count
        while true {
            // memchr-like scan for the next CR or LF.
            while i < n, json[i] != 0x0A, json[i] != 0x0D { i += 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: i - runStart))
            if i == n { return }
            i += 1
            runStart = i
        }
    }
}

/// The order in which `JSONEncoder` with `.sortedKeys` writes an object's members on this
/// platform: `String`'s `<`, which for ASCII names (every Docket key) is byte order, so
/// ASCII names are compared with `memcmp`.
public enum JSONKeyOrder {
    /// The indices of `keys` in sorted order.
    public static func sortedIndices(_ keys: [String]) -> [Int] {
        var indices = Array(keys.indices)
        if keys.count < 2 { return indices }
        var sorted = true
        for i in 1..<keys.count where !less(keys[i - 1], keys[i]) {
            sorted = false
            break
        }
        if sorted { return indices }
        indices.sort { less(keys[$0], keys[$1]) || (!less(keys[$1], keys[$0]) && $0 < $1) }  // stable
        return indices
    }

    /// Whether `a` is written before `b`.
    @inline(__always) public static func less(_ a: String, _ b: String) -> Bool {
        var result: Int8 = 2  // 0: not less, 1: less, 2: undecided (non-ASCII difference)
        _ = a.utf8.withContiguousStorageIfAvailable { x in
            _ = b.utf8.withContiguousStorageIfAvailable { y in result = asciiLess(x, y) }
        }
        if result < 2 { return result == 1 }
        return a < b
    }

    /// Byte order equals `String` order when the first differing bytes are ASCII.
    private static func asciiLess(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int8 {
        let n = min(x.count, y.count)
        var i = 0
        while i < n, x[i] == y[i] { i += 1 }
        if i == n { return x.count < y.count ? 1 : 0 }
        guard x[i] < 0x80, y[i] < 0x80 else { return 2 }
        return x[i] < y[i] ? 1 : 0
    }
}
