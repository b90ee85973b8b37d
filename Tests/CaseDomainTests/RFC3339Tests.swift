import CaseDomain
import Foundation
import Testing

@Suite("RFC 3339 instants parsed by hand (the CLI's --until, --as-of, import lines' \"at\")")
struct RFC3339Tests {
    func seconds(_ text: String) throws -> Double { try RFC3339.parse(text).timeIntervalSince1970 }

    @Test("Z, z, offsets and fractional seconds")
    func accepted() throws {
        #expect(try seconds("1970-01-01T00:00:00Z") == 0)
        #expect(try seconds("2026-03-02T09:00:00Z") == 1_772_442_000)
        #expect(try seconds("2026-03-02t09:00:00z") == 1_772_442_000)
        #expect(try seconds("2026-03-02T10:00:00+01:00") == 1_772_442_000)
        #expect(try seconds("2026-03-02T04:30:00-04:30") == 1_772_442_000)
        #expect(try seconds("2026-03-02T09:00:00.250Z") == 1_772_442_000.25)
        #expect(try seconds("2026-03-02T09:00:00.5+00:00") == 1_772_442_000.5)
        #expect(try seconds("2026-03-02T09:00:00.123456789Z") == 1_772_442_000 + 0.123456789)
        // Digits past the nanosecond are read and ignored.
        #expect(try seconds("2026-03-02T09:00:00.1234567891234Z") == 1_772_442_000 + 0.123456789)
        #expect(try seconds("2024-02-29T23:59:59Z") == 1_709_251_199)
        #expect(try seconds("1969-12-31T23:59:59.5Z") == -0.5)
        // The same instants ISO8601DateFormatter reads.
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for text in ["2026-11-22T16:45:40.123Z", "2000-01-01T00:00:00.001+14:00", "2099-12-31T23:59:59.999-12:00"] {
            let reference = try #require(f.date(from: text))
            #expect(abs(try RFC3339.parse(text).timeIntervalSince(reference)) < 1e-6, "\(text)")
        }
    }

    @Test("anything else is refused with a message saying what is wrong")
    func refused() {
        let cases: [(String, String)] = [
            ("", "ends before the year"),
            ("2026-03-02", "expected 'T'"),
            ("2026-03-02T09:00:00", "zone designator is missing"),
            ("2026-03-02 09:00:00Z", "expected 'T'"),
            ("2026-3-02T09:00:00Z", "month (MM) must be 2 digits"),
            ("2026-13-02T09:00:00Z", "month 13"),
            ("2026-02-29T09:00:00Z", "day 29 does not exist in 2026-02"),
            ("2026-04-31T09:00:00Z", "day 31 does not exist"),
            ("2026-03-02T24:00:00Z", "hour 24"),
            ("2026-03-02T09:60:00Z", "minute 60"),
            ("2026-03-02T09:00:60Z", "second 60"),
            ("2026-03-02T09:00:00.Z", "digits after '.'"),
            ("2026-03-02T09:00:00+0100", "':' in the offset"),
            ("2026-03-02T09:00:00+24:00", "offset 24:0"),
            ("2026-03-02T09:00:00ZZ", "unexpected text after the zone designator"),
            ("2026-03-02T09:00:00 Z", "expected a zone designator"),
            ("x026-03-02T09:00:00Z", "year (YYYY) must be 4 digits"),
        ]
        for (text, reason) in cases {
            do {
                _ = try RFC3339.parse(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.message.contains(reason), "\(text): \(error.message)")
                #expect(error.message.contains("use e.g. 2026-03-02T09:00:00Z"), "\(text): \(error.message)")
            }
        }
    }
}

@Suite("A lone surrogate: refused by the projections' decoder exactly as by the log's check")
struct LoneSurrogateDecodeTests {
    @Test("an event payload naming a lone surrogate does not decode; a pair does")
    func projectionRefuses() throws {
        func payload(_ body: String) -> Data {
            Data((#"{"at":"2026-01-31T09:00:00.000Z","authorID":"s1","authorRole":"staff","body":""# + body
                  + #"","commentID":"c1","visibility":"internal"}"#).utf8)
        }
        #expect(throws: MessageCodingError.self) {
            _ = try DomainEvent.decode(type: "comment-added", schemaVersion: 1, payload: payload(#"a\ud800b"#))
        }
        let event = try DomainEvent.decode(type: "comment-added", schemaVersion: 1, payload: payload(#"\ud83d\ude00"#))
        guard case .case(.commentAdded(let added)) = event else {
            Issue.record("decoded as \(event)")
            return
        }
        #expect(added.body == "😀")
    }
}
