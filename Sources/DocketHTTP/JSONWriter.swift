import CaseDomain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// Writes the JSON of the hottest responses (log head, accepted commands) straight into a
/// byte buffer, in the bytes `jsonResponse` would produce (compact, keys in sorted order,
/// slashes unescaped), without a Foundation `JSONEncoder` per request. The caller writes the
/// keys of each object in sorted order.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends raw, already valid JSON punctuation or text.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends bytes that are already valid JSON (e.g. a stored projection row).
    mutating func rawBytes(_ json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    /// Appends `"key":`.
    mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends an unsigned integer.
    mutating func number(_ value: UInt64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Appends a JSON string, escaped as `JSONEncoder` escapes it (the wire codec's
    /// ``JSONText/appendString(_:to:)``).
    mutating func string(_ value: String) {
        JSONText.appendString(value, to: &bytes)
    }

    /// Appends a UUID as a lowercase string.
    mutating func uuid(_ id: UUID) {
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: id.lowercasedString.utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `true` or `false`.
    mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }
}

/// A JSON response whose body is `bytes`, already JSON.
func jsonResponse(status: HTTPResponse.Status = .ok, bytes: some Collection<UInt8>, headers: HTTPFields = [:]) -> Response {
    var fields = jsonContentType
    if !headers.isEmpty {
        fields = headers
        fields[.contentType] = "application/json"
    }
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// `Content-Type: application/json`, made once (setting a field validates its value).
private let jsonContentType: HTTPFields = [.contentType: "application/json"]
