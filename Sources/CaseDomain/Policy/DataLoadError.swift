import DocketJSON
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

extension JSONValue {
    /// Parses `data` as one JSON document with DocketJSON's strict parser (a member name
    /// given twice is refused with its path), or throws a ``DataLoadError`` naming `file`.
    public static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(data, rejectingDuplicateKeys: true)
        } catch {
            if let path = error.duplicatePath {
                throw DataLoadError(file: file, path: path, message: "not valid JSON: \(path) is given twice; give each member of an object once")
            }
            throw DataLoadError(file: file, path: "$", message: "not valid JSON (\(error))")
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

    /// `parent.key`, or `parent["key"]` when the key is not a plain name (DocketJSON's one path formatter).
    static func path(_ parent: String, _ key: String) -> String {
        parent + JSONPath.component(key)
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
