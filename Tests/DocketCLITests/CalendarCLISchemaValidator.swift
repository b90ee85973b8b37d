import Foundation

/// A JSON value for the test-side schema checks.
enum TestJSON: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([TestJSON]), object([String: TestJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) } else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([TestJSON].self) { self = .array(a) } else { self = .object(try c.decode([String: TestJSON].self)) }
    }

    static func parse(_ data: Data) throws -> TestJSON { try JSONDecoder().decode(TestJSON.self, from: data) }

    subscript(key: String) -> TestJSON? { if case .object(let o) = self { return o[key] } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var number: Double? { if case .number(let n) = self { return n } else { return nil } }
    var array: [TestJSON]? { if case .array(let a) = self { return a } else { return nil } }
}

/// The subset of JSON Schema 2020-12 that Docket's schemas use. Unknown keywords are
/// reported as errors, so a schema cannot silently use something this does not check.
struct SchemaSubsetValidator {
    let root: TestJSON
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$defs"]

    /// Every violation of `schema` by `value`, as `path: message`.
    func errors(_ value: TestJSON, _ schema: TestJSON? = nil, path: String = "$") -> [String] {
        guard case .object(let s) = schema ?? root else { return ["\(path): schema is not an object"] }
        var out: [String] = []
        for (key, rule) in s {
            switch key {
            case _ where Self.annotations.contains(key): continue
            case "$ref":
                guard let ref = rule.string, ref.hasPrefix("#/$defs/"), let target = root["$defs"]?[String(ref.dropFirst(8))] else {
                    out.append("\(path): unresolvable $ref \(rule)"); continue
                }
                out += errors(value, target, path: path)
            case "type":
                let types = rule.array?.compactMap(\.string) ?? [rule.string ?? ""]
                if !types.contains(where: { matches(value, type: $0) }) { out.append("\(path): expected type \(types)") }
            case "enum":
                if !(rule.array ?? []).contains(value) { out.append("\(path): \(value) not in enum") }
            case "const":
                if rule != value { out.append("\(path): expected const \(rule)") }
            case "required":
                if case .object(let o) = value {
                    for k in (rule.array ?? []).compactMap(\.string) where o[k] == nil { out.append("\(path): missing \(k)") }
                }
            case "properties":
                if case .object(let o) = value, case .object(let props) = rule {
                    for (k, v) in o { if let p = props[k] { out += errors(v, p, path: "\(path).\(k)") } }
                }
            case "additionalProperties":
                if case .object(let o) = value {
                    var declared: Set<String> = []
                    if case .object(let props)? = s["properties"] { declared = Set(props.keys) }
                    for (k, v) in o where !declared.contains(k) {
                        if rule == .bool(false) { out.append("\(path): unexpected key \(k)") } else if case .object = rule { out += errors(v, rule, path: "\(path).\(k)") }
                    }
                }
            case "items":
                for (i, v) in (value.array ?? []).enumerated() { out += errors(v, rule, path: "\(path)[\(i)]") }
            case "minItems", "maxItems":
                if let a = value.array, let n = rule.number, key == "minItems" ? Double(a.count) < n : Double(a.count) > n {
                    out.append("\(path): \(key) \(n) violated by \(a.count) items")
                }
            case "minProperties":
                if case .object(let o) = value, Double(o.count) < (rule.number ?? 0) { out.append("\(path): too few properties") }
            case "minLength":
                if let str = value.string, Double(str.count) < (rule.number ?? 0) { out.append("\(path): shorter than \(rule)") }
            case "pattern":
                if let str = value.string, let p = rule.string, str.range(of: p, options: .regularExpression) == nil {
                    out.append("\(path): \"\(str)\" does not match \(p)")
                }
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                if let n = value.number, let limit = rule.number {
                    let ok = key == "minimum" ? n >= limit : key == "maximum" ? n <= limit : key == "exclusiveMinimum" ? n > limit : n < limit
                    if !ok { out.append("\(path): \(n) violates \(key) \(limit)") }
                }
            case "oneOf", "anyOf":
                let passing = (rule.array ?? []).filter { errors(value, $0, path: path).isEmpty }.count
                if key == "oneOf" ? passing != 1 : passing == 0 { out.append("\(path): \(passing) of \(key) branches match") }
            default:
                out.append("\(path): unsupported keyword \(key)")
            }
        }
        return out
    }

    private func matches(_ v: TestJSON, type: String) -> Bool {
        switch (type, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): return true
        case ("integer", .number(let n)): return n.rounded() == n
        default: return false
        }
    }
}
