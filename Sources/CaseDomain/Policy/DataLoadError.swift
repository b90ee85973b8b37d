import Foundation

/// Why a calendar or policy file was refused at load: the file, the JSON path inside it
/// (e.g. `$.targets.P1.response`) and what was expected there.
public struct DataLoadError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The file (or in-memory source) name, e.g. `policies/concur-standard.json`.
    public var file: String
    /// JSONPath of the offending value, `$` for the whole document.
    public var path: String
    /// What was wrong and what would be right.
    public var message: String

    /// Creates an error.
    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    /// `file: path: message`, one line.
    public var description: String { "\(file): \(path): \(message)" }
}

/// A parsed JSON value; decoding goes through it so that every error can name its JSON path.
public enum JSONValue: Hashable, Sendable, Decodable {
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
    /// An object (key order is not kept).
    case object([String: JSONValue])

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

    /// Parses `data` as one JSON document, or throws a ``DataLoadError`` naming `file`.
    public static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw DataLoadError(file: file, path: "$", message: "not valid JSON (\(Self.describe(error)))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let ctx) = error {
            let underlying = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? ctx.debugDescription
        }
        return String(describing: error)
    }

    /// A short name of the value's JSON type, for messages.
    var typeName: String {
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

/// A JSON value together with where it is, so that every accessor can throw a
/// ``DataLoadError`` that names the file and the JSON path.
struct JSONNode {
    let value: JSONValue
    let path: String
    let file: String

    init(_ value: JSONValue, path: String = "$", file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    func error(_ message: String) -> DataLoadError { DataLoadError(file: file, path: path, message: message) }

    func expected(_ what: String) -> DataLoadError { error("expected \(what), found \(value.typeName)") }

    func child(_ key: String, _ value: JSONValue) -> JSONNode {
        JSONNode(value, path: JSONNode.path(path, key), file: file)
    }

    /// `parent.key`, or `parent["key"]` when the key is not a plain name.
    static func path(_ parent: String, _ key: String) -> String {
        let simple = key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } && !key.isEmpty
        return simple ? "\(parent).\(key)" : "\(parent)[\"\(key)\"]"
    }

    /// The members of an object, refusing keys not in `allowed` (when given).
    func object(allowed: Set<String>? = nil) throws -> [String: JSONNode] {
        guard case .object(let dict) = value else { throw expected("an object") }
        var out: [String: JSONNode] = [:]
        for (k, v) in dict {
            if let allowed, !allowed.contains(k) {
                throw child(k, v).error("unknown key \"\(k)\"; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            out[k] = child(k, v)
        }
        return out
    }

    func array() throws -> [JSONNode] {
        guard case .array(let items) = value else { throw expected("an array") }
        return items.enumerated().map { JSONNode($1, path: "\(path)[\($0)]", file: file) }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw expected("a string") }
        return s
    }

    func nonEmptyString() throws -> String {
        let s = try string()
        guard !s.isEmpty else { throw error("expected a non-empty string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw expected("true or false") }
        return b
    }

    func int(in range: ClosedRange<Int>? = nil) throws -> Int {
        guard case .int(let i) = value else { throw expected("an integer") }
        if let range, !range.contains(Int(i)) {
            throw error("expected an integer from \(range.lowerBound) to \(range.upperBound), found \(i)")
        }
        return Int(i)
    }

    func number() throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw expected("a number")
        }
    }
}

extension Dictionary where Key == String, Value == JSONNode {
    /// The member `key`, or an error on `parent` saying it is missing.
    func required(_ key: String, in parent: JSONNode, _ what: String) throws -> JSONNode {
        guard let node = self[key] else { throw parent.error("missing \"\(key)\": expected \(what)") }
        return node
    }
}
