import Foundation
import Testing
@testable import CaseDomain

@Suite("Message registry and JSON Schemas")
struct SchemaTests {
    static let schemasURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("schemas")

    func schemaFiles(_ kind: String) throws -> Set<String> {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.schemasURL.appendingPathComponent(kind).path)
        return Set(names.filter { $0.hasSuffix(".schema.json") }.map { String($0.dropLast(".schema.json".count)) })
    }

    func schema(_ kind: String, _ type: String) throws -> SchemaJSON {
        try SchemaJSON.parse(Data(contentsOf: Self.schemasURL.appendingPathComponent(kind).appendingPathComponent("\(type).schema.json")))
    }

    @Test("Schema: every command and event type has exactly one schema file and no schema file is orphaned")
    func everyTypeHasASchema() throws {
        let commandTypes = DomainCommand.messageTypes.map { $0.type }, eventTypes = DomainEvent.messageTypes.map { $0.type }
        #expect(Set(commandTypes).count == commandTypes.count)
        #expect(Set(eventTypes).count == eventTypes.count)
        #expect(Set(commandTypes).isDisjoint(with: eventTypes))
        #expect(try schemaFiles("commands") == Set(commandTypes))
        #expect(try schemaFiles("events") == Set(eventTypes))
        for type in eventTypes {
            let s = try schema("events", type).object
            #expect(s?["x-schemaVersion"] == .integer(1), "\(type)")
            #expect(s?["x-type"] == .string(type))
            #expect(s?["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"))
        }
        for t in DomainEvent.messageTypes + DomainCommand.messageTypes {
            #expect(t.type.range(of: "^[a-z]+(-[a-z]+)*$", options: .regularExpression) != nil, "\(t.type) is not kebab-case")
            #expect(t.schemaVersion == 1)
        }
    }

    @Test("Schema: a real sample of every command and event validates against its committed schema")
    func samplesValidate() throws {
        let tour = try CaseDomainTour.run()
        let commandSamples = try tour.commands.map { try $0.encoded() }
        let eventSamples = try tour.events.map { try $0.encoded() }
        #expect(Set(commandSamples.map(\.type)) == Set(DomainCommand.messageTypes.map { $0.type }))
        #expect(Set(eventSamples.map(\.type)) == Set(DomainEvent.messageTypes.map { $0.type }))
        for (kind, samples) in [("commands", commandSamples), ("events", eventSamples)] {
            for sample in samples {
                let problems = SchemaValidator.validate(try SchemaJSON.parse(sample.payload), against: try schema(kind, sample.type))
                #expect(problems.isEmpty, "\(sample.type): \(problems) in \(String(decoding: sample.payload, as: UTF8.self))")
            }
        }
    }

    @Test("Schema: the validator rejects wrong types, missing and extra properties, bad enums and dates")
    func validatorRejects() throws {
        let s = try schema("events", "case-closed")
        func problems(_ json: String) throws -> [String] { SchemaValidator.validate(try SchemaJSON.parse(Data(json.utf8)), against: s) }
        #expect(try problems(#"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z"}"#).isEmpty)
        #expect(try !problems(#"{"reason":"fixed","by":"d1","at":"2026-03-02T09:00:00.000Z"}"#).isEmpty)
        #expect(try !problems(#"{"reason":"resolved","at":"2026-03-02T09:00:00.000Z"}"#).isEmpty)
        #expect(try !problems(#"{"reason":"resolved","by":"d1","at":"2026-03-02 09:00"}"#).isEmpty)
        #expect(try !problems(#"{"reason":"resolved","by":"d1","at":"2026-03-02T09:00:00.000Z","extra":1}"#).isEmpty)
        #expect(try !problems(#"{"reason":"resolved","by":7,"at":"2026-03-02T09:00:00.000Z"}"#).isEmpty)
        let survey = try schema("commands", "answer-survey")
        #expect(!SchemaValidator.validate(try SchemaJSON.parse(Data(#"{"surveyID":"s","knowledge":6,"communication":1,"timeliness":1}"#.utf8)), against: survey).isEmpty)
    }

    @Test("Registry: every sample round-trips exactly through encode and decode")
    func roundTrip() throws {
        let tour = try CaseDomainTour.run()
        for event in tour.events {
            let encoded = try event.encoded()
            let decoded = try DomainEvent.decode(type: encoded.type, schemaVersion: encoded.schemaVersion, payload: encoded.payload)
            #expect(decoded == event)
            #expect(try decoded.encoded() == encoded)
        }
        for command in tour.commands {
            let encoded = try command.encoded()
            #expect(try DomainCommand.decode(type: encoded.type, schemaVersion: encoded.schemaVersion, payload: encoded.payload) == command)
        }
        // Per-aggregate families decode their own types too.
        let opened = try #require(tour.caseHistory.first)
        let e = try opened.encoded()
        #expect(try CaseEvent.decode(type: e.type, schemaVersion: 1, payload: e.payload) == opened)
    }

    @Test("Registry: dates are ISO 8601 UTC with milliseconds, keys sorted, unknown types and versions refused")
    func wireFormat() throws {
        let event = CaseEvent.caseClosed(CaseClosed(reason: .autoClosed, by: "system: deadline scheduler", at: CaseFixture.date("2026-03-02T09:00:00.5Z")))
        let encoded = try event.encoded()
        #expect(encoded.type == "case-closed")
        #expect(encoded.schemaVersion == 1)
        #expect(String(decoding: encoded.payload, as: UTF8.self) == #"{"at":"2026-03-02T09:00:00.500Z","by":"system: deadline scheduler","reason":"auto-closed"}"#)
        #expect(throws: MessageCodingError.self) { try DomainEvent.decode(type: "case-exploded", schemaVersion: 1, payload: encoded.payload) }
        #expect(throws: MessageCodingError.self) { try DomainEvent.decode(type: "case-closed", schemaVersion: 2, payload: encoded.payload) }
        #expect(throws: MessageCodingError.self) { try DomainEvent.decode(type: "case-closed", schemaVersion: 1, payload: Data(#"{"at":"yesterday","by":"x","reason":"resolved"}"#.utf8)) }
        #expect(throws: MessageCodingError.self) { try DomainCommand.decode(type: "case-closed", schemaVersion: 1, payload: encoded.payload) }
        #expect(StreamName.case("c1") == "case-c1")
        #expect(StreamName.organisation("a") == "org-a")
        #expect(StreamName.featureRequest("f1") == "feature-f1")
        #expect(StreamName.policy("concur-standard") == "policy-concur-standard")
        #expect(StreamName.calendar("sweden") == "calendar-sweden")
    }

    @Test("Registry: families are Codable as a type/schemaVersion/payload envelope")
    func envelope() throws {
        let tour = try CaseDomainTour.run()
        let data = try MessageCoding.encoder().encode(tour.events)
        #expect(try MessageCoding.decoder().decode([DomainEvent].self, from: data) == tour.events)
        let one = try MessageCoding.encoder().encode(tour.caseHistory[0])
        let text = String(decoding: one, as: UTF8.self)
        #expect(text.hasPrefix(#"{"payload":{"at":"2026-03-02T09:00:00.000Z","callMe":false"#))
        #expect(text.hasSuffix(#""schemaVersion":1,"type":"case-opened"}"#))
        #expect(try MessageCoding.decoder().decode(CaseEvent.self, from: one) == tour.caseHistory[0])
        #expect(throws: DecodingError.self) {
            try MessageCoding.decoder().decode(CaseEvent.self, from: Data(#"{"type":"contact-added","schemaVersion":1,"payload":{}}"#.utf8))
        }
    }

    @Test("Registry: DomainTime formats and parses exactly, before and after 1970")
    func domainTime() {
        for text in ["1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.000Z", "2026-11-22T16:45:40.123Z", "2400-12-31T00:00:00.001Z"] {
            #expect(DomainTime.parse(text).map(DomainTime.format) == text)
        }
        #expect(DomainTime.parse("2026-03-02T09:00:00Z") == DomainTime.parse("2026-03-02T09:00:00.000Z"))
        #expect(DomainTime.parse("2026-13-02T09:00:00Z") == nil)
        #expect(DomainTime.parse("2026-02-31T09:00:00Z") == nil)
        #expect(DomainTime.parse("2028-02-29T09:00:00Z") != nil)
        #expect(DomainTime.parse("2026-03-02T09:00:00+01:00") == nil)
        let context = DecisionContext(now: Date(timeIntervalSince1970: 1_772_442_000.123456), actor: CaseFixture.staff)
        #expect(DomainTime.format(context.now) == "2026-03-02T09:00:00.123Z")
    }
}

@Suite("Deterministic state encoding")
struct DeterministicStateEncodingTests {
    @Test("R9.4 a dictionary keyed by SLA target encodes as an object with sorted keys, byte-identical however it was built")
    func clockDictionaryIsSorted() throws {
        let t = Date(timeIntervalSince1970: 1_795_000_000)
        var forward: [SLATarget: SLAClock] = [:]
        for target in SLATarget.allCases { forward[target] = SLAClock(target: target, duration: .wallClock(seconds: 3_600), startedAt: t) }
        var backward: [SLATarget: SLAClock] = [:]
        for target in SLATarget.allCases.reversed() { backward[target] = SLAClock(target: target, duration: .wallClock(seconds: 3_600), startedAt: t) }
        let encoder = MessageCoding.encoder()
        let a = try encoder.encode(forward)
        let b = try encoder.encode(backward)
        #expect(a == b)
        let text = String(decoding: a, as: UTF8.self)
        #expect(text.hasPrefix("{\"resolution\":"))
        #expect(try MessageCoding.decoder().decode([SLATarget: SLAClock].self, from: a) == forward)
    }
}
