import Foundation
@testable import CaseDomain

/// Any JSON value, decoded strictly (a number is never a boolean).
enum SchemaJSON: Decodable, Equatable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([SchemaJSON]), object([String: SchemaJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([SchemaJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: SchemaJSON].self)) }
    }

    static func parse(_ data: Data) throws -> SchemaJSON { try JSONDecoder().decode(SchemaJSON.self, from: data) }

    var object: [String: SchemaJSON]? { if case .object(let o) = self { o } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var array: [SchemaJSON]? { if case .array(let a) = self { a } else { nil } }
    var double: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
}

/// A JSON Schema (draft 2020-12) subset validator: type, required, properties,
/// additionalProperties (boolean or schema), enum, const, items, minimum, maximum,
/// minProperties, maxProperties, format date-time, pattern.
enum SchemaValidator {
    /// Problems found, each with its JSON path; empty when `value` conforms.
    static func validate(_ value: SchemaJSON, against schema: SchemaJSON, path: String = "$") -> [String] {
        guard let s = schema.object else { return ["\(path): schema is not an object"] }
        var problems: [String] = []
        if let type = s["type"]?.string, !matches(value, type: type) {
            return ["\(path): expected \(type), got \(value)"]
        }
        if let options = s["enum"]?.array, !options.contains(value) { problems.append("\(path): \(value) not in enum") }
        if let constant = s["const"], constant != value { problems.append("\(path): \(value) is not \(constant)") }
        if let n = value.double {
            if let min = s["minimum"]?.double, n < min { problems.append("\(path): \(n) < minimum \(min)") }
            if let max = s["maximum"]?.double, n > max { problems.append("\(path): \(n) > maximum \(max)") }
        }
        if let text = value.string {
            if s["format"]?.string == "date-time", DomainTime.parse(text) == nil { problems.append("\(path): \(text) is not a date-time") }
            if let pattern = s["pattern"]?.string, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): \(text) does not match \(pattern)")
            }
        }
        if let items = s["items"], let elements = value.array {
            for (i, element) in elements.enumerated() { problems += validate(element, against: items, path: "\(path)[\(i)]") }
        }
        if let object = value.object {
            let properties = s["properties"]?.object ?? [:]
            for name in (s["required"]?.array ?? []).compactMap(\.string) where object[name] == nil {
                problems.append("\(path): missing required \(name)")
            }
            if let min = s["minProperties"]?.double, Double(object.count) < min { problems.append("\(path): fewer than \(min) properties") }
            if let max = s["maxProperties"]?.double, Double(object.count) > max { problems.append("\(path): more than \(max) properties") }
            for (name, member) in object.sorted(by: { $0.key < $1.key }) {
                if let p = properties[name] {
                    problems += validate(member, against: p, path: "\(path).\(name)")
                } else if case .bool(false)? = s["additionalProperties"] {
                    problems.append("\(path): unexpected property \(name)")
                } else if let extra = s["additionalProperties"], extra.object != nil {
                    problems += validate(member, against: extra, path: "\(path).\(name)")
                }
            }
        }
        return problems
    }

    private static func matches(_ value: SchemaJSON, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
             ("string", .string), ("array", .array), ("object", .object): true
        default: false
        }
    }
}
