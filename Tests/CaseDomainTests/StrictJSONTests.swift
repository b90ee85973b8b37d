import Foundation
import Testing
@testable import CaseDomain
import DocketJSON

@Suite("Strict JSON: commands refuse duplicate and unknown members; stored events read as before")
struct StrictJSONTests {
    static let comment = #"{"body":"hi","commentID":"c1","visibility":"public"}"#

    func commandError(_ type: String, _ payload: String) -> MessageCodingError? {
        do {
            _ = try DomainCommand.decode(type: type, schemaVersion: 1, payload: Data(payload.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("a command payload naming a member twice, or one its schema does not define, is refused at its path")
    func strictCommands() throws {
        #expect(commandError("add-comment", Self.comment) == nil)
        let twice = commandError("add-comment", #"{"body":"hi","commentID":"c1","visibility":"public","body":"again"}"#)
        #expect(twice?.path == "$.body" && twice?.message.contains("twice") == true, "\(String(describing: twice))")
        let escaped = commandError("add-comment", #"{"body":"hi","commentID":"c1","visibility":"public","\u0062ody":"again"}"#)
        #expect(escaped?.path == "$.body")
        let unknown = commandError("add-comment", #"{"body":"hi","commentID":"c1","visibility":"public","foo":{"bar":1}}"#)
        #expect(unknown?.path == "$.foo" && unknown?.message.contains("commentID, body, visibility") == true, "\(String(describing: unknown))")
        let nested = commandError("add-comment", #"{"body":"hi","commentID":"c1","visibility":"public","x":[{"a":1,"a":2}]}"#)
        #expect(nested?.path == "$.x[0].a")
        let long = commandError("add-comment", #"{"body":"hi","commentID":""# + String(repeating: "i", count: 300) + #"","visibility":"public"}"#)
        #expect(long?.path == "$.commentID" && long?.message.contains("300 bytes") == true && long?.message.contains("iiiii") == false)
        let control = commandError("add-comment", #"{"body":"hi","commentID":"c\u00001","visibility":"public"}"#)
        #expect(control?.path == "$.commentID" && control?.message.contains("U+0000") == true)
        // Exactly 200 bytes (here 100 two-byte characters) is an id.
        #expect(commandError("add-comment", #"{"body":"hi","commentID":""# + String(repeating: "é", count: 100) + #"","visibility":"public"}"#) == nil)
        #expect(commandError("add-comment", #"{"body":"hi","commentID":""# + String(repeating: "é", count: 101) + #"","visibility":"public"}"#)?.path == "$.commentID")
    }

    @Test("an event already stored with an unknown member, a duplicate or a long id still decodes, as before")
    func lenientEvents() throws {
        let longAuthor = String(repeating: "a", count: 500)
        let stored = #"{"at":"2026-01-31T09:00:00.000Z","authorID":""# + longAuthor
            + #"","authorRole":"staff","body":"old","body":"older","commentID":"c1","legacy":{"x":[1,2]},"visibility":"internal"}"#
        let event = try DomainEvent.decode(type: "comment-added", schemaVersion: 1, payload: Data(stored.utf8))
        guard case .case(.commentAdded(let added)) = event else {
            Issue.record("decoded as \(event)")
            return
        }
        #expect(added.body == "old" && added.authorID == longAuthor && added.visibility == .internal)
    }

    @Test("the strict decoder refuses unknown members of generated value types; the default one ignores them")
    func strictValues() throws {
        let text = Data(#"{"start":"2026-01-31T09:00:00.000Z","reason":"r","extra":true}"#.utf8)
        #expect(try DocketJSONDecoder().decode(ClockInterval.self, from: text).reason == "r")
        do {
            _ = try DocketJSONDecoder(strict: true).decode(ClockInterval.self, from: text)
            Issue.record("accepted an unknown member")
        } catch let error as MessageCodingError {
            #expect(error.path == "$.extra", "\(error)")
        }
        do {
            _ = try DocketJSONDecoder(strict: true).decode([String: Int].self, from: Data(#"{"a":1,"b":[{"c":1}],"a":2}"#.utf8))
            Issue.record("accepted a duplicate")
        } catch let error as DecodingError {
            guard case .dataCorrupted(let context) = error else { Issue.record("\(error)"); return }
            #expect(context.debugDescription.contains("$.a is given twice"))
        }
        #expect(try DocketJSONDecoder().decode([String: Int].self, from: Data(#"{"a":1}"#.utf8)) == ["a": 1])
    }

    // MARK: Property: the strict tape accepts what JSONSerialization accepts, with the same values

    /// A small deterministic generator (SplitMix64), so a failure is reproducible from its seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let pieces: [String] = ["a", "b", "é", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "z", " ", "/", "\\/", "😀", "0"]

    func string(_ r: inout Random) -> String {
        (0..<r.int(6)).map { _ in Self.pieces[r.int(Self.pieces.count)] }.joined()
    }

    func number(_ r: inout Random) -> String {
        switch r.int(6) {
        case 0: return String(r.int(1000))
        case 1: return "-" + String(r.int(100_000))
        case 2: return "\(r.int(100)).\(r.int(1000))"
        case 3: return "\(r.int(10))e\(r.int(20))"
        case 4: return "-\(r.int(10)).5E-\(r.int(5))"
        default: return "0"
        }
    }

    func value(_ r: inout Random, depth: Int) -> String {
        let ws = [" ", "", "\n", "\t ", ""][r.int(5)]
        switch depth > 3 ? r.int(5) : r.int(7) {
        case 0: return "\"" + string(&r) + "\""
        case 1: return number(&r)
        case 2: return ["true", "false", "null"][r.int(3)]
        case 3, 4:
            return ws + "\"" + string(&r) + "\"" + ws
        case 5:
            let count = r.int(5)
            return "[" + (0..<count).map { _ in ws + value(&r, depth: depth + 1) + ws }.joined(separator: ",") + "]"
        default:
            // Distinct names (as decoded): a prefix that makes each unique, then random text.
            let count = r.int(depth == 0 ? 20 : 6)
            let members = (0..<count).map { i in "\"k\(i)_" + string(&r) + "\"" + ws + ":" + value(&r, depth: depth + 1) }
            return "{" + ws + members.joined(separator: "," + ws) + "}"
        }
    }

    /// The tape's value at token `i` as Foundation objects.
    func foundation(_ storage: TapeStorage, _ i: Int) -> Any {
        let t = storage.token(i)
        switch t.kind {
        case .object:
            var out: [String: Any] = [:]
            var e = i + 1
            for _ in 0..<Int(t.start) {
                out[storage.string(storage.token(e)) ?? "?"] = foundation(storage, e + 1)
                e = Int(storage.token(e + 1).next)
            }
            return out
        case .array:
            var out: [Any] = []
            var e = i + 1
            for _ in 0..<Int(t.start) {
                out.append(foundation(storage, e))
                e = Int(storage.token(e).next)
            }
            return out
        case .string, .escapedString: return storage.string(t) ?? "?"
        case .number: return Double(String(decoding: storage.body(t), as: UTF8.self)) ?? .nan
        case .true: return true
        case .false: return false
        case .null: return NSNull()
        }
    }

    func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            return x.count == y.count && x.allSatisfy { key, v in y[key].map { same(v, $0) } ?? false }
        case (let x as [Any], let y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (is NSNull, is NSNull): return true
        case (let x as String, let y as String): return x == y
        case (let x as Bool, let y as NSNumber): return x == y.boolValue
        case (let x as Double, let y as NSNumber): return x == y.doubleValue || abs(x - y.doubleValue) <= abs(x) * 1e-15
        default: return false
        }
    }

    @Test("random valid documents without duplicate names: the strict tape accepts exactly them, with JSONSerialization's values")
    func agreesWithJSONSerialization() throws {
        var r = Random(state: 0x5EED_D0C3)
        for round in 0..<2000 {
            let text = value(&r, depth: 0)
            let data = Data(text.utf8)
            let reference = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            let tape: JSONTape? = data.withUnsafeBytes { try? JSONTape.parse($0, rejectingDuplicateKeys: true) }
            #expect((reference != nil) == (tape != nil), "round \(round): \(text)")
            guard let reference, let tape else { continue }
            let mine = data.withUnsafeBytes { foundation(TapeStorage(bytes: $0, tokens: tape.tokens), 0) }
            #expect(same(mine, reference), "round \(round): \(text)\n\(mine)\n\(reference)")
        }
    }
}
