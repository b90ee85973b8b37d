import DocketJSON
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// Reads a JSON request body: 415 unless the content type is JSON, 413 over 1 MB. A body
/// that does not arrive in full is no server failure: 499 `client-aborted` when the client
/// closed the connection, 408 when it paused past the read timeout, 400 when it was malformed
/// (``APIError/bodyReadFailed(_:)``).
func readJSONBody(_ request: Request) async throws -> Data {
    // One walk over the fields: `headers[name]` builds an index of every field name on first
    // use, more than this request needs. Repeated fields are joined as `headers[name]` does.
    var contentType: String?
    var contentLength: String?
    for field in request.headers {
        if field.name == .contentType {
            contentType = contentType.map { $0 + ", " + field.value } ?? field.value
        } else if field.name == .contentLength {
            contentLength = contentLength.map { $0 + ", " + field.value } ?? field.value
        }
    }
    guard let type = contentType, isJSONMediaType(type) else {
        throw APIError(.unsupportedMediaType, code: "unsupported-media-type",
                       "the body must be JSON: send Content-Type: application/json")
    }
    if let length = contentLength.flatMap(Int.init), length > maxBodyBytes {
        throw bodyTooLarge
    }
    var data = Data()
    do {
        for try await buffer in request.body {
            guard data.count + buffer.readableBytes <= maxBodyBytes else { throw bodyTooLarge }
            data.append(contentsOf: buffer.readableBytesView)
        }
    } catch {
        throw APIError.bodyReadFailed(error)
    }
    return data
}

/// Whether a `Content-Type` value names JSON: `application/json` or `application/…+json`, in
/// any case, with blanks around it and parameters after `;` ignored.
func isJSONMediaType(_ value: String) -> Bool {
    var type = value.utf8.prefix { $0 != UInt8(ascii: ";") }
    let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    while let first = type.first, blank(first) { type = type.dropFirst() }
    while let last = type.last, blank(last) { type = type.dropLast() }
    let lower = { (byte: UInt8) in (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte }
    let application = "application/".utf8
    guard type.count > application.count, type.prefix(application.count).lazy.map(lower).elementsEqual(application) else { return false }
    let subtype = type.dropFirst(application.count)
    return subtype.lazy.map(lower).elementsEqual("json".utf8) || (subtype.count > 5 && subtype.suffix(5).lazy.map(lower).elementsEqual("+json".utf8))
}

/// Decodes `T` from JSON; a failure is a 400 naming the JSON path (`$.a.b[2]`) and what was expected.
///
/// Foundation's `JSONDecoder` keeps one of two equal member names silently, so the body is
/// first checked with DocketJSON's strict parser: a member given twice, at any depth, is a
/// 400 naming its path (`$.principal.kind`).
func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> T {
    do {
        _ = try JSONTape.parse(data, rejectingDuplicateKeys: true)
    } catch {
        guard let path = error.duplicatePath else { throw APIError.badRequest("the body is not valid JSON", path: "$") }
        throw APIError.badRequest("\(path) is given twice; send each member of an object once", path: path)
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch let error as DecodingError {
        let (path, message) = describe(error)
        throw APIError.badRequest(message, path: path)
    } catch {
        throw APIError.badRequest("the body is not valid JSON: \(error)", path: "$")
    }
}

/// The JSON path and a message for a decoding error.
func describe(_ error: DecodingError) -> (path: String, message: String) {
    func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
        var out = "$"
        for key in keys + (last.map { [$0] } ?? []) {
            if let index = key.intValue { out += "[\(index)]" } else { out += ".\(key.stringValue)" }
        }
        return out
    }
    switch error {
    case .keyNotFound(let key, let context):
        let p = path(context.codingPath, key)
        return (p, "\(p) is required")
    case .typeMismatch(let type, let context):
        let p = path(context.codingPath)
        return (p, "\(p) must be \(jsonTypeName(type))")
    case .valueNotFound(let type, let context):
        let p = path(context.codingPath)
        return (p, "\(p) must be \(jsonTypeName(type)), not null")
    case .dataCorrupted(let context):
        let p = path(context.codingPath)
        if context.codingPath.isEmpty, context.underlyingError != nil {
            return (p, "the body is not valid JSON")
        }
        return (p, "\(p): \(context.debugDescription)")
    @unknown default:
        return ("$", "the body does not match the expected JSON")
    }
}

private func jsonTypeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type: "an integer"
    case is Double.Type: "a number"
    case is Bool.Type: "a boolean"
    default: "a JSON \(String(describing: type).hasPrefix("Array") ? "array" : "object") (\(type))"
    }
}
