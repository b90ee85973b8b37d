import Foundation
import Testing
@testable import CaseDomain

/// Docket's JSON codec must write exactly the bytes Foundation's `JSONEncoder` writes in the
/// wire format (event payloads are hashed into the chain; projections are compared byte for
/// byte) and decode exactly what `JSONDecoder` decodes, with the same error paths.
@Suite("DocketJSON codec agrees with Foundation")
struct DocketJSONTests {
    let ours = DocketJSONEncoder()
    let reference = MessageCoding.foundationEncoder()
    let decoder = DocketJSONDecoder()
    let referenceDecoder = MessageCoding.foundationDecoder()

    @Test("Every command and event of the domain tour encodes to Foundation's bytes and decodes back equal")
    func everyMessage() throws {
        let tour = try CaseDomainTour.run()
        var checked = 0
        func check<T: DomainMessage>(_ message: T) throws {
            let mine = try ours.encode(message)
            let theirs = try reference.encode(message)
            #expect(mine == theirs, "\(T.type): \(String(decoding: mine, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))")
            let decoded = try decoder.decode(T.self, from: theirs)
            let decodedByReference = try referenceDecoder.decode(T.self, from: mine)
            #expect(decoded == message, "\(T.type)")
            #expect(decodedByReference == message, "\(T.type)")
            // The generated straight-line coding (what MessageCoding uses) writes and reads the same.
            let generated = try MessageCoding.encode(message)
            #expect(generated.payload == theirs, "\(T.type) generated: \(String(decoding: generated.payload, as: UTF8.self))")
            let generatedBack = try MessageCoding.decode(T.self, payload: theirs)
            #expect(generatedBack == message, "\(T.type)")
            checked += 1
        }
        for event in tour.events { try check(event.message) }
        for command in tour.commands { try check(command.message) }
        #expect(checked == tour.events.count + tour.commands.count)
        #expect(Set(tour.events.map(\.type)).count == DomainEvent.messageTypes.count)
    }

    @Test("A folded case state (clocks, flags, surveys, dictionaries) encodes like Foundation and round-trips")
    func caseState() throws {
        let tour = try CaseDomainTour.run()
        var state = CaseDecider.initialState
        for case .case(let event) in tour.events { CaseDecider.evolve(&state, event) }
        #expect(state.exists)
        let mine = try ours.encode(state)
        let theirs = try reference.encode(state)
        #expect(mine == theirs)
        let decoded = try decoder.decode(CaseState.self, from: mine)
        #expect(decoded == state)
    }

    @Test("Strings: quotes, backslashes, every control character, slashes and non-ASCII are written as Foundation writes them")
    func strings() throws {
        var samples = ["", "plain", "a\"b", "back\\slash", "a/b</script>", "tab\there", "crlf\r\n", "ünïcödé", "emoji 🎫 ok",
                       "nul\u{0}x", "\u{7F}del", "\u{2028}\u{2029}"]
        samples += (0..<0x20).map { "c\(Unicode.Scalar(UInt8($0)))" }
        for s in samples {
            let mine = try ours.encode([s]), theirs = try reference.encode([s])
            #expect(mine == theirs, "\(s.debugDescription)")
            let decoded = try decoder.decode([String].self, from: theirs)
            #expect(decoded == [s])
        }
        let escaped = try decoder.decode(String.self, from: Data(#""\u00e9\ud83c\udfab\/\b\f\n\r\t""#.utf8))
        #expect(escaped == "é🎫/\u{8}\u{C}\n\r\t")
    }

    @Test("Keys are sorted as Foundation sorts them (upper before lower case, digits as text, non-ASCII last)")
    func keyOrder() throws {
        let keys = ["b", "a", "B", "A", "a10", "a9", "a09", "a1", "_x", "Z1", "z01", "zeta", "Zeta", "caseID", "caseId", "case",
                    "é", "e", "f", "1", "10", "2", "", "x-y", "x_y", "xY"]
        let dict = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        let mine = try ours.encode(dict), theirs = try reference.encode(dict)
        #expect(mine == theirs, "\(String(decoding: mine, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
    }

    @Test("Numbers: integers at the limits and doubles in their shortest form, as Foundation writes them")
    func numbers() throws {
        let ints: [Int64] = [0, 1, -1, 9, 10, 99, 100, 1_795_000_000_000_000, .max, .min]
        let intsMine = try ours.encode(ints), intsTheirs = try reference.encode(ints)
        #expect(intsMine == intsTheirs)
        let unsignedMine = try ours.encode([UInt64.max, 0]), unsignedTheirs = try reference.encode([UInt64.max, 0])
        #expect(unsignedMine == unsignedTheirs)
        let doubles: [Double] = [0, 1, -1, 0.5, 0.1, 2.0 / 3, 4.25, 100, 1e15, 123_456.789, 3.75, 1e-3]
        let doublesMine = try ours.encode(doubles), doublesTheirs = try reference.encode(doubles)
        #expect(doublesMine == doublesTheirs, "\(String(decoding: doublesMine, as: UTF8.self)) vs \(String(decoding: doublesTheirs, as: UTF8.self))")
        let doublesBack = try decoder.decode([Double].self, from: doublesMine)
        #expect(doublesBack == doubles)
        #expect(throws: EncodingError.self) { try ours.encode([Double.nan]) }
        let loose = try decoder.decode([Int].self, from: Data("[1,-2,3e2,4.0]".utf8))
        #expect(loose == [1, -2, 300, 4])
        #expect(throws: DecodingError.self) { try decoder.decode([Int].self, from: Data("[1.5]".utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode([Int8].self, from: Data("[128]".utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode([Int].self, from: Data("[99999999999999999999]".utf8)) }
        let minimum = try decoder.decode([Int64].self, from: Data("[-9223372036854775808]".utf8))
        #expect(minimum == [.min])
    }

    @Test("Errors name the same JSON path as Foundation's: missing key, wrong type, null, bad date, not JSON")
    func errors() throws {
        func describe(_ json: String) -> MessageCodingError {
            do {
                _ = try decoder.decode(CaseClosed.self, from: Data(json.utf8))
                return MessageCodingError("decoded")
            } catch {
                return MessageCodingError.describing(error, type: "case-closed")
            }
        }
        func reference(_ json: String) -> MessageCodingError {
            do {
                _ = try referenceDecoder.decode(CaseClosed.self, from: Data(json.utf8))
                return MessageCodingError("decoded")
            } catch {
                return MessageCodingError.describing(error, type: "case-closed")
            }
        }
        let cases = [
            #"{"reason":"resolved","at":"2026-03-02T09:00:00.000Z"}"#,
            #"{"reason":"resolved","by":7,"at":"2026-03-02T09:00:00.000Z"}"#,
            #"{"reason":"resolved","by":null,"at":"2026-03-02T09:00:00.000Z"}"#,
            #"{"reason":"fixed","by":"d1","at":"2026-03-02T09:00:00.000Z"}"#,
            #"{"reason":"resolved","by":"d1","at":"2026-02-31T09:00:00.000Z"}"#,
            #"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z""#,
            #"[1,2]"#,
            #"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z"} x"#,
        ]
        for json in cases {
            let mine = describe(json), theirs = reference(json)
            #expect(mine.path == theirs.path, "\(json): \(mine) vs \(theirs)")
            #expect(mine.message != "decoded", "\(json)")
        }
        #expect(describe(#"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z"}"#).message == "decoded")
        // The generated decoder (MessageCoding.decode) words errors as describing() words Foundation's.
        for json in cases {
            var generated = MessageCodingError("decoded")
            do { _ = try MessageCoding.decode(CaseClosed.self, payload: Data(json.utf8)) } catch { generated = error }
            let theirs = reference(json)
            #expect(generated.path == theirs.path, "\(json): \(generated) vs \(theirs)")
            // Syntax errors (path "$") say more than Foundation's "The given data was not valid JSON."
            #expect(generated.message == theirs.message || generated.path == "$", "\(json): \(generated.message) vs \(theirs.message)")
        }
        let unknownKeyIgnored = #"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z","extra":[1,{"a":null}]}"#
        #expect(describe(unknownKeyIgnored).message == reference(unknownKeyIgnored).message)
    }

    @Test("Malformed input is refused without crashing, exactly when Foundation refuses it (mutated samples)")
    func mutatedInputs() throws {
        let tour = try CaseDomainTour.run()
        var rng = SplitMix64(seed: 0xD0C4E7)
        let samples = try tour.events.map { try $0.encoded() }
        let alphabet = Array(#"{}[]",:\0123456789.eE+-tfnul aZ"#.utf8) + [0x00, 0x1F, 0xC3, 0xFF]
        var agreed = 0
        for _ in 0..<3_000 {
            let sample = samples[Int(rng.next() % UInt64(samples.count))]
            var bytes = Array(sample.payload)
            switch rng.next() % 3 {
            case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            case 1: bytes[Int(rng.next() % UInt64(bytes.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: Int(rng.next() % UInt64(bytes.count + 1)))
            }
            let type: any DomainMessage.Type = try #require(DomainEvent.messageTypes.first { $0.type == sample.type })
            func both<T: DomainMessage>(_ t: T.Type) -> (T?, T?) {
                (try? decoder.decode(T.self, from: bytes), try? referenceDecoder.decode(T.self, from: Data(bytes)))
            }
            func agree<T: DomainMessage>(_ t: T.Type) -> String? {
                let (mine, theirs) = both(t)
                // The generated path must agree too, and on failure name the same JSON path.
                let generated: Result<T, MessageCodingError> = Result { () throws(MessageCodingError) in try MessageCoding.decode(T.self, payload: Data(bytes)) }
                let referenceError: MessageCodingError? = theirs == nil ? {
                    do { _ = try referenceDecoder.decode(T.self, from: Data(bytes)); return nil } catch { return MessageCodingError.describing(error, type: T.type) }
                }() : nil
                switch generated {
                case .success(let value):
                    return mine == theirs && value == theirs ? nil : "generated decoded \(value); codable \(String(describing: mine)); foundation \(String(describing: theirs))"
                case .failure(let error):
                    return mine == nil && theirs == nil && (error.path == referenceError?.path || error.path == "$") ? nil
                        : "generated: \(error) at \(error.path ?? "-"); codable \(String(describing: mine)); foundation: \(String(describing: referenceError))"
                }
            }
            let disagreement = agree(type)
            #expect(disagreement == nil, "\(sample.type): \(String(decoding: bytes, as: UTF8.self)): \(disagreement ?? "")")
            agreed += 1
        }
        #expect(agreed == 3_000)
    }
}
