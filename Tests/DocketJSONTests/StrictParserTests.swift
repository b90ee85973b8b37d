import DocketJSON
import Foundation
import Testing

@Suite("DocketJSON: the one strict parser refuses the same texts everywhere, naming paths")
struct StrictParserTests {
    func error(_ text: String, strict: Bool = true) -> JSONSyntaxError? {
        do {
            _ = try JSONTape.parse(Array(text.utf8), rejectingDuplicateKeys: strict)
            return nil
        } catch {
            return error
        }
    }

    @Test("lone surrogates are refused, a pair is a character")
    func surrogates() throws {
        for text in [#""\ud800""#, #""\uDBFF""#, #""\udc00""#, #""\ud800\u0041""#, #""\ude00\ud83d""#, #"{"a":["\ud800"]}"#] {
            let e = try #require(error(text), "\(text)")
            #expect(e.reason.contains("lone surrogate"), "\(text): \(e)")
        }
        #expect(try JSONValue.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
    }

    @Test("duplicate names: the first repetition in document order, with its path; a syntax error anywhere wins")
    func duplicates() throws {
        #expect(error(#"{"a":1,"a":2}"#)?.duplicatePath == "$.a")
        #expect(error(#"{"a":1,"b":{"c":[1,{"d":1,"d":2}]}}"#)?.duplicatePath == "$.b.c[1].d")
        #expect(error(#"{"a":1,"a":2,"b":{"c":1,"c":2}}"#)?.duplicatePath == "$.a")
        #expect(error(#"{"x y":{"\"q\"":1,"\u0022q\"":2}}"#)?.duplicatePath == #"$["x y"]["\"q\""]"#)
        #expect(error(#"{"a":1,"a":2} x"#)?.duplicatePath == nil)
        #expect(error(#"{"a":1,"a":2,"b":[1,]}"#)?.duplicatePath == nil)
        #expect(error(#"{"a":1,"a":2}"#, strict: false) == nil)
        let long = String(repeating: "k", count: 70)
        #expect(error(#"{"\#(long)":1,"\#(long)":2}"#)?.duplicatePath == "$[<a key of 70 bytes>]")
    }

    @Test("invalid UTF-8, trailing text, control characters and bad numbers are refused with where")
    func syntax() {
        #expect(error("\"\u{01}\"")?.reason == "unescaped control character in a string")
        #expect(error("{} {}")?.reason == "unexpected text after the JSON value")
        #expect(error("01")?.reason == "a number must not start with 0")
        #expect(JSONTape.isValid([0x22, 0xC3, 0x28, 0x22]) == false)
        #expect(JSONTape.isValid([0x22, 0xED, 0xA0, 0x80, 0x22]) == false)  // a surrogate encoded in UTF-8
        #expect(error("[1,2")?.offset == 4)
    }

    @Test("byteRange(ofValueAt:) spans each value's text")
    func ranges() throws {
        let text = Array(#" {"a" : { "b":[1,"]}"] } , "c":"x\"y", "d":-1.5e3} "#.utf8)
        let tape = try JSONTape.parse(text)
        try text.withUnsafeBytes { bytes in
            var spans: [String] = []
            var k = 1
            for _ in 0..<tape.tokens[0].count {
                spans.append(String(decoding: bytes[tape.byteRange(ofValueAt: k + 1, in: bytes)], as: UTF8.self))
                k = Int(tape.tokens[k + 1].next)
            }
            #expect(spans == [#"{ "b":[1,"]}"] }"#, #""x\"y""#, "-1.5e3"])
            #expect(String(decoding: bytes[tape.byteRange(ofValueAt: 0, in: bytes)], as: UTF8.self) == String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespaces))
            _ = try #require(Optional(1))
        }
    }

    @Test("one path formatter: plain names dotted, others quoted, long ones described")
    func paths() {
        #expect(JSONPath.string("$", [.key("payload"), .key("cc"), .index(2)]) == "$.payload.cc[2]")
        #expect(JSONPath.component("a b") == #"["a b"]"#)
        #expect(JSONPath.component(#"q"\"#) == #"["q\"\\"]"#)
        #expect(JSONPath.component("a\u{01}") == "[<a key of 2 bytes>]")
    }

    @Test("the writer: integers, strings, UUIDs and one-line copies of stored JSON")
    func writer() {
        var w = JSONWriter()
        w.writeInteger(Int64.min); w.append(","); w.writeUnsigned(UInt64.max); w.append(","); w.writeUnsigned(0)
        w.append(","); w.writeString("a/\"\\\u{01}\n")
        w.append(","); w.writeUUID(UUID(uuidString: "0B6F3C1E-5A7D-4C2B-9E11-2F0A4D6B8C01") ?? UUID())
        #expect(String(decoding: w.out, as: UTF8.self) == #"-9223372036854775808,18446744073709551615,0,"a/\"\\\u0001\n","0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01""#)
        var line: [UInt8] = []
        Array("{\r\n \"a\": 1\n}".utf8).withUnsafeBytes { JSONText.appendOnOneLine($0, to: &line) }
        #expect(String(decoding: line, as: UTF8.self) == "{ \"a\": 1}")
    }
}
