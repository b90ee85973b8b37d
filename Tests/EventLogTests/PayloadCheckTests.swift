import DocketJSON
import EventLog
import Foundation
import Testing

@Suite("Event log: the JSON check of payloads and metadata (DocketJSON's one parser)")
struct PayloadCheckTests {
    static let valid: [String] = [
        "{}", "[]", "0", "-0", "1.5e-3", "12E+4", "\"\"", "true", "false", "null", " \n\t{ } ",
        #"{"a":[1,2,{"b":null}],"c":"x\"y\\z\/\u00e9\ud83d\ude00","d":-12.5}"#,
        #"{"ö":"ünïcode ✓"}"#, "[[[[[]]]]]", #"{"a":{"b":{"c":[true,false]}}}"#,
    ]
    static let invalid: [String] = [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "+1", "1e", "--1",
        "tru", "nul", "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12G4""#, "{} {}", "[1 2]", "'a'", "NaN",
        // Lone surrogates: no character, refused by the log exactly as by the projections' decoder.
        #""\ud800""#, #""\udc00""#, #"{"x":"a\ud800b"}"#, #""\ud800\u0041""#,
    ]

    @Test("accepts what JSONSerialization accepts and refuses what it refuses (and lone surrogates)")
    func agreesWithJSONSerialization() {
        for text in Self.valid {
            #expect(JSONTape.isValid(Data(text.utf8)), "\(text)")
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil, "\(text)")
        }
        for text in Self.invalid {
            #expect(!JSONTape.isValid(Data(text.utf8)), "\(text)")
        }
    }

    @Test("objectOnly wants an object; invalid UTF-8 and deep nesting are refused")
    func objectsUTF8Depth() {
        #expect(JSONTape.isValid(Data(#" {"a":1} "#.utf8), objectOnly: true))
        #expect(!JSONTape.isValid(Data("[1]".utf8), objectOnly: true))
        #expect(!JSONTape.isValid(Data("1".utf8), objectOnly: true))
        #expect(!JSONTape.isValid(Data([0x22, 0xC3, 0x28, 0x22])))  // "\xC3(" is not UTF-8
        #expect(!JSONTape.isValid(Data([0x22, 0xFF, 0x22])))
        #expect(JSONTape.isValid(Data((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)))
        #expect(!JSONTape.isValid(Data((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)))
    }

    @Test("an append with a payload that is not JSON, or metadata that is not an object, is refused")
    func appendChecks() {
        let id = UUID()
        #expect(throws: EventLogError.self) {
            try EventLogInput.check(stream: "s", event: NewEvent(id: id, type: "t", payload: Data("{oops".utf8)))
        }
        #expect(throws: EventLogError.self) {
            try EventLogInput.check(stream: "s", event: NewEvent(id: id, type: "t", metadata: Data("[]".utf8), payload: Data("{}".utf8)))
        }
        #expect(throws: Never.self) {
            try EventLogInput.check(stream: "s", event: NewEvent(id: id, type: "t", metadata: Data(#"{"a":1}"#.utf8), payload: Data("[1]".utf8)))
        }
    }

    @Test("a payload with a lone surrogate escape is refused by the log, with the reason")
    func loneSurrogateRefused() {
        let event = NewEvent(id: UUID(), type: "case-comment-added", payload: Data(#"{"body":"\ud800"}"#.utf8))
        do {
            try EventLogInput.check(stream: "case-1", event: event)
            Issue.record("a lone surrogate was accepted")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("not valid UTF-8 JSON"))
            #expect(error.message.contains("lone surrogate"))
        }
        // A proper pair is fine.
        #expect(throws: Never.self) {
            try EventLogInput.check(stream: "case-1", event: NewEvent(id: UUID(), type: "t", payload: Data(#"{"body":"\ud83d\ude00"}"#.utf8)))
        }
    }
}
