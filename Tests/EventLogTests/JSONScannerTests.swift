import EventLog
import Foundation
import Testing

@Suite("Event log: the JSON syntax check of payloads and metadata")
struct JSONScannerTests {
    static let valid: [String] = [
        "{}", "[]", "0", "-0", "1.5e-3", "12E+4", "\"\"", "true", "false", "null", " \n\t{ } ",
        #"{"a":[1,2,{"b":null}],"c":"x\"y\\z\/\u00e9\ud83d\ude00","d":-12.5}"#,
        #"{"ö":"ünïcode ✓"}"#, "[[[[[]]]]]", #"{"a":{"b":{"c":[true,false]}}}"#,
    ]
    static let invalid: [String] = [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "+1", "1e", "--1",
        "tru", "nul", "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12G4""#, "{} {}", "[1 2]", "'a'", "NaN",
    ]

    @Test("accepts what JSONSerialization accepts and refuses what it refuses")
    func agreesWithJSONSerialization() {
        for text in Self.valid {
            #expect(JSONScanner.isValid(Data(text.utf8)), "\(text)")
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil, "\(text)")
        }
        for text in Self.invalid {
            #expect(!JSONScanner.isValid(Data(text.utf8)), "\(text)")
        }
    }

    @Test("objectOnly wants an object; invalid UTF-8 and deep nesting are refused")
    func objectsUTF8Depth() {
        #expect(JSONScanner.isValid(Data(#" {"a":1} "#.utf8), objectOnly: true))
        #expect(!JSONScanner.isValid(Data("[1]".utf8), objectOnly: true))
        #expect(!JSONScanner.isValid(Data("1".utf8), objectOnly: true))
        #expect(!JSONScanner.isValid(Data([0x22, 0xC3, 0x28, 0x22])))  // "\xC3(" is not UTF-8
        #expect(!JSONScanner.isValid(Data([0x22, 0xFF, 0x22])))
        #expect(JSONScanner.isValid(Data((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)))
        #expect(!JSONScanner.isValid(Data((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)))
    }

    @Test("readString decodes escapes and surrogate pairs")
    func strings() {
        var scanner = JSONScanner(Data(#" "a\"b\\c\/d\n\u00e9\ud83d\ude00" "#.utf8))
        #expect(scanner.readString() == "a\"b\\c/d\né😀")
        var plain = JSONScanner(Data(#""plain ✓""#.utf8))
        #expect(plain.readString() == "plain ✓")
        #expect(plain.atEnd)
        // Long plain runs before and after escapes, non-ASCII and the closing quote.
        let run = String(repeating: "abc xyz ", count: 40)
        var long = JSONScanner(Data(("\"" + run + #"\n"# + run + "é" + run + "\"").utf8))
        #expect(long.readString() == run + "\n" + run + "é" + run)
        #expect(long.atEnd)
        #expect(!JSONScanner.isValid(Data(("\"" + run).utf8)))
        #expect(!JSONScanner.isValid(Data(("\"" + run + "\u{1F}" + run + "\"").utf8)))
        #expect(JSONScanner.isValid(Data(("[\"" + run + "\",\"" + run + "\"]").utf8)))
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
}
