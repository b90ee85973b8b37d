import CaseDomain
import EventLog
import Foundation
import Logging
import Testing
@testable import CommandHandling

/// A handler over a fresh log with the shipped policies, and helpers to send commands.
struct Desk {
    let dir: String
    let log: EventLog
    let handler: CommandHandler
    static let staff = Principal.staff("mgr-lena", .manager)
    static let ada = Principal.contact("ada", organisation: "acme", access: .designated)
    static let bo = Principal.contact("bo", organisation: "acme", access: .designated)
    static let eve = Principal.contact("eve", organisation: "globex", access: .designated)
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-18T11:06:40Z, a Wednesday

    init(dir: String? = nil) throws {
        self.dir = dir ?? NSTemporaryDirectory() + "docket-commands-\(UUID().uuidString)"
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        log = try EventLog.open(directory: self.dir, logger: logger)
        handler = CommandHandler(log: log, catalog: try PolicyCatalog.shipped(), logger: logger)
    }

    func envelope(_ type: String, _ stream: String, _ payload: [String: Any], id: UUID = UUID(), expected: UInt64? = nil) throws -> CommandEnvelope {
        CommandEnvelope(commandId: id, type: type, streamId: stream, expectedVersion: expected,
                        payload: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
    }

    @discardableResult
    func send(_ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = Desk.staff,
              at: Date = Desk.t0, id: UUID = UUID(), expected: UInt64? = nil) async throws -> CommandOutcome {
        try await handler.handle(try envelope(type, stream, payload, id: id, expected: expected), actor: actor, at: at)
    }

    /// Sends and returns the refusal.
    func refusal(_ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = Desk.staff,
                 expected: UInt64? = nil, id: UUID = UUID()) async throws -> CommandError {
        do {
            let outcome = try await send(type, stream, payload, as: actor, id: id, expected: expected)
            throw CommandError(.storage, "expected a refusal, got \(outcome)")
        } catch let error as CommandError where error.code != .storage {
            return error
        }
    }

    /// An organisation in support with two designated contacts (R1.3).
    func organisation(_ id: String, contacts: [String], policy: String = "timecare-se") async throws {
        try await send("register-organisation", "org-\(id)", ["organisationID": id, "name": id.capitalized, "policyName": policy])
        for c in contacts {
            try await send("add-contact", "org-\(id)", ["contactID": c, "name": c, "email": "\(c)@\(id).example", "access": "designated"])
        }
        try await send("transition-to-support", "org-\(id)", [:])
    }

    func openCasePayload(_ caseID: String, contact: String = "ada", org: String = "acme") -> [String: Any] {
        ["caseID": caseID, "organisationID": org, "contactID": contact, "subject": "Export fails", "description": "Steps: ...",
         "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P2", "region": "sweden",
         "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": "portal"]
    }
}

@Suite("Command handling")
struct CommandHandlerTests {
    @Test("a command is decided against the stream's state and appended; events carry derived ids, actor and metadata")
    func happyPath() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        let id = UUID()
        let outcome = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada, id: id)
        #expect(!outcome.duplicate)
        #expect(outcome.events.first?.type == "case-opened")
        #expect(outcome.events.first?.version == 0)
        #expect(outcome.streamVersion == UInt64(outcome.events.count - 1))
        #expect(outcome.position == outcome.events.last?.position)
        let firstEvent = try #require(outcome.events.first)
        let stored = try #require(try desk.log.event(at: firstEvent.position))
        #expect(stored.id == DerivedID.event(commandId: id, index: 0))
        #expect(stored.actor == "ada" && stored.correlationId == id.uuidString.lowercased())
        let meta = try #require(JSONSerialization.jsonObject(with: stored.metadata) as? [String: String])
        #expect(meta["commandType"] == "open-case" && meta["role"] == "contact" && meta["channel"] == "portal")
        #expect(meta["organisationId"] == "acme")
        // The events decode back into the domain's types.
        for e in outcome.events {
            let recorded = try #require(try desk.log.event(at: e.position))
            _ = try DomainEvent.decode(type: recorded.type, schemaVersion: Int(recorded.schemaVersion), payload: recorded.payload)
        }
    }

    @Test("retrying a commandId returns the first outcome and appends nothing, also after a restart")
    func idempotentRetry() async throws {
        let dir = NSTemporaryDirectory() + "docket-commands-\(UUID().uuidString)"
        let id = UUID()
        var first: CommandOutcome
        do {
            let desk = try Desk(dir: dir)
            try await desk.organisation("acme", contacts: ["ada", "bo"])
            first = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada, id: id)
            let again = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada, id: id)
            #expect(again.duplicate && again.events == first.events)
            desk.log.close()
        }
        let desk = try Desk(dir: dir)
        defer { desk.log.close() }
        let head = try desk.log.head().position
        // A retry after restart, even one that would now be refused (the case exists), returns the first outcome.
        let retried = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada, id: id)
        #expect(retried.duplicate && retried.events == first.events && retried.position == first.position)
        #expect(try desk.log.head().position == head)
        // The same commandId for a different command is a conflict, not a silent replay.
        let misuse = try await desk.refusal("add-comment", "case-1", ["commentID": "c1", "body": "hi", "visibility": "public"], id: id)
        #expect(misuse.code == .conflict && misuse.message.contains("already used"))
        // R1.9: another principal reusing the id learns nothing: no outcome, no stream name.
        let stranger = try await desk.refusal("open-case", "case-1", desk.openCasePayload("1"), as: Desk.eve, id: id)
        #expect(stranger.code == .conflict && !stranger.message.contains("case-1") && !stranger.message.contains("open-case"))
    }

    @Test("status codes as values: malformed with JSON path, not found, forbidden, conflict with current version, refused with R-number")
    func refusals() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        try await desk.organisation("globex", contacts: ["eve", "fay"])
        try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)

        var bad = desk.openCasePayload("2")
        bad["channel"] = "carrier-pigeon"
        let malformed = try await desk.refusal("open-case", "case-2", bad, as: Desk.ada)
        #expect(malformed.code == .malformed && malformed.path == "$.payload.channel")
        var missing = desk.openCasePayload("2")
        missing.removeValue(forKey: "subject")
        let missingField = try await desk.refusal("open-case", "case-2", missing, as: Desk.ada)
        #expect(missingField.code == .malformed && missingField.path == "$.payload.subject")
        let unknownType = try await desk.refusal("make-coffee", "case-1", [:])
        #expect(unknownType.code == .malformed && unknownType.message.contains("unknown message type"))
        let wrongStream = try await desk.refusal("open-case", "case-9", desk.openCasePayload("2"), as: Desk.ada)
        // Schema-valid, but the case id disagrees with the stream: refused (422), not malformed.
        #expect(wrongStream.code == .refused && wrongStream.path == "$.streamId")

        let comment: [String: Any] = ["commentID": "c1", "body": "any news?", "visibility": "public"]
        let noSuchCase = try await desk.refusal("add-comment", "case-404", comment, as: Desk.ada)
        #expect(noSuchCase.code == .notFound)
        // R1.9: another organisation's case is "not found", never "forbidden".
        let otherTenant = try await desk.refusal("add-comment", "case-1", comment, as: Desk.eve)
        // Word for word the refusal of a missing case, with nothing of the case in it.
        #expect(otherTenant.code == .notFound && otherTenant.domain == nil)
        #expect(otherTenant.message.replacingOccurrences(of: "case-1", with: "case-X") == noSuchCase.message.replacingOccurrences(of: "case-404", with: "case-X"))
        // Auditors send no command at all, whatever the target (R1.7).
        let auditor = try await desk.refusal("add-comment", "case-1", comment, as: .auditor("aud-1"))
        #expect(auditor.code == .forbidden && auditor.message.contains("R1.7"))

        let conflict = try await desk.refusal("add-comment", "case-1", comment, as: Desk.ada, expected: 0)
        let version = try #require(try desk.log.streamHead("case-1")).version
        #expect(conflict.code == .conflict && conflict.currentVersion == version)

        let confirm = try await desk.refusal("confirm-solution", "case-1", [:], as: Desk.ada)
        #expect(confirm.code == .refused)
        #expect(confirm.domain?.rule == "R2.10")
        #expect(confirm.domain?.allowed.isEmpty == false)
        // Nothing of any refusal was appended.
        #expect(try desk.log.streamHead("case-1")?.version == version)
        #expect(try desk.log.streamHead("case-2") == nil)
    }

    @Test("concurrent commands on one case without expected versions all land, in some order, with no gap")
    func concurrentCommands() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)
        let before = try #require(try desk.log.streamHead("case-1")).version
        try await withThrowingTaskGroup(of: CommandOutcome.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try await desk.send("add-comment", "case-1", ["commentID": "c\(i)", "body": "note \(i)", "visibility": "internal"],
                                        at: Desk.t0.addingTimeInterval(Double(i)))
                }
            }
            for try await outcome in group { #expect(!outcome.events.isEmpty) }
        }
        let events = try desk.log.readStream("case-1", from: before + 1)
        #expect(events.filter { $0.type == "comment-added" }.count == 16)
        #expect(events.map(\.version) == Array((before + 1)...(before + UInt64(events.count))))
    }

    @Test("the envelope parser names the JSON path of what is wrong")
    func envelopeParsing() throws {
        func parse(_ json: String) -> CommandError? {
            do { _ = try CommandEnvelope.parse(json: Data(json.utf8)); return nil } catch { return error }
        }
        let good = try CommandEnvelope.parse(json: Data(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"add-comment","streamId":"case-1","expectedVersion":3,"payload":{"a":1}}"#.utf8))
        #expect(good.expectedVersion == 3 && good.streamId == "case-1" && good.payload == Data(#"{"a":1}"#.utf8))
        #expect(parse("[1]")?.path == "$")
        #expect(parse("{oops")?.path == "$")
        #expect(parse(#"{"commandId":"nope","type":"t","streamId":"s","payload":{}}"#)?.path == "$.commandId")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":[]}"#)?.path == "$.payload")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":-1,"payload":{}}"#)?.path == "$.expectedVersion")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":true,"payload":{}}"#)?.path == "$.expectedVersion")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{},"extra":1}"#)?.path == "$.extra")
        #expect(parse("5")?.path == "$")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{}} x"#)?.path == "$")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"","streamId":"s","payload":{}}"#)?.path == "$.type")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":3,"payload":{}}"#)?.path == "$.streamId")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s"}"#)?.path == "$.payload")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":1.5,"payload":{}}"#)?.path == "$.expectedVersion")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":"3","payload":{}}"#)?.path == "$.expectedVersion")
        // The payload's bytes are kept as sent; escapes in the envelope's strings are decoded;
        // a null or whole-valued expectedVersion is accepted.
        let spaced = try CommandEnvelope.parse(json: Data(#" { "payload" : { "a" : [1, "é"] } , "type" : "add-comment", "streamId": "case-1", "expectedVersion": null, "commandId": "0B6F3C1E-5A7D-4C2B-9E11-2F0A4D6B8C01" } "#.utf8))
        #expect(spaced.payload == Data(#"{ "a" : [1, "é"] }"#.utf8))
        #expect(spaced.streamId == "case-1" && spaced.expectedVersion == nil && spaced.type == "add-comment")
        #expect(spaced.commandId == UUID(uuidString: "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01"))
        // expectedVersion is an integer literal of digits only: 2.0, 1e2, -0 are refused.
        for literal in ["2.0", "1e2", "-0", "-1", "9223372036854775808", "\"3\""] {
            #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":\#(literal),"payload":{}}"#)?.path == "$.expectedVersion", "\(literal)")
        }
        let largest = try CommandEnvelope.parse(json: Data(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":9223372036854775807,"payload":{}}"#.utf8))
        #expect(largest.expectedVersion == UInt64(Int64.max))
        // A member named twice, in the envelope or at any depth of the payload, names its path.
        let twice = parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","type":"u","streamId":"s","payload":{}}"#)
        #expect(twice?.path == "$.type" && twice?.message.contains("$.type") == true)
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{"cc":[],"cc":[]}}"#)?.path == "$.payload.cc")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{"a":[0,{"b":1,"\u0062":2}]}}"#)?.path == "$.payload.a[1].b")
        // Large objects (a set instead of comparisons) find duplicates too.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{"#  + many + #","k7":0}}"#)?.path == "$.payload.k7")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","payload":{"#  + many + "}}") == nil)
        // A syntax error still wins over a duplicate before it.
        #expect(parse(#"{"payload":{"a":1,"a":2},"x":tru}"#)?.message.contains("not valid JSON") == true)
        // A 1 MB streamId is refused without being repeated.
        let huge = parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":""# + String(repeating: "s", count: 1 << 20) + #"","payload":{}}"#)
        #expect(huge?.path == "$.streamId" && (huge?.message.utf8.count ?? .max) < 300)
        // A syntax error anywhere wins over what is wrong before it (one pass reads both).
        #expect(parse(#"{"bogus":1,"payload":{"a":tru}}"#)?.message.contains("not valid JSON") == true)
        #expect(parse(#"{"bogus":1,"payload":{}} x"#)?.path == "$")
        #expect(parse(#"{"bogus":1,"payload":{}"#)?.path == "$")
        #expect(parse(#"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"t","streamId":"s","expectedVersion":-,"payload":{}}"#)?.path == "$")
        #expect(parse(#"{"bogus":[1,2],"payload":{}}"#)?.path == "$.bogus")
    }

    @Test("derived ids are deterministic, distinct per index, and RFC 9562 version 8")
    func derivedIDs() {
        let c = UUID()
        #expect(DerivedID.event(commandId: c, index: 0) == DerivedID.event(commandId: c, index: 0))
        #expect(DerivedID.event(commandId: c, index: 0) != DerivedID.event(commandId: c, index: 1))
        let text = DerivedID.make(namespace: "n", ["a"]).uuidString
        #expect(Array(text)[14] == "8")
        #expect("89AB".contains(Array(text)[19]))
    }

    @Test("event metadata is written as the wire encoder writes it (keys sorted, absent values omitted, escapes)")
    func metadataJSON() throws {
        let cases = [
            EventMetadata(access: nil, channel: nil, commandId: "c", commandType: "open-case", organisationId: nil, role: "staff", staffRole: nil),
            EventMetadata(access: "designated", channel: "portal", commandId: "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01",
                          commandType: "add-comment", organisationId: "org \"q\" / \\ é\n\u{1}", role: "contact", staffRole: "tier1"),
            EventMetadata(access: nil, channel: "phone", commandId: "x", commandType: "t", organisationId: "o", role: "system", staffRole: "manager"),
        ]
        for metadata in cases {
            #expect(metadata.json() == (try DocketJSONEncoder().encodeBytes(metadata)))
        }
    }

    @Test("derived ids keep their values (stored logs hold them): SHA-256 of namespace and parts, 0-separated")
    func derivedIDValues() throws {
        let c = try #require(UUID(uuidString: "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01"))
        // Values computed independently (Python hashlib) from the documented derivation.
        #expect(DerivedID.event(commandId: c, index: 0) == UUID(uuidString: "5c1c0af3-768c-8c6c-8e6d-9d7da3e62fe9"))
        #expect(DerivedID.event(commandId: c, index: 1) == UUID(uuidString: "0b901f33-3e5e-8eab-8126-05d427fb1143"))
        #expect(DerivedID.make(namespace: "docket/deadline-scheduler",
                               ["case-7", "record-clock-breached", "resolution", "2026-11-22T16:45:40.123Z"])
                == UUID(uuidString: "e423337e-c2ac-8e01-b44d-7681ab526604"))
    }
}

@Suite("Command handling: state cache")
struct StateCacheTests {
    @Test("an accepted command leaves the stream's decided state in the cache at the appended version, equal to a fresh fold")
    func acceptedCommandIsCached() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        let opened = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)
        let cached = try #require(desk.handler.stateCache.get("case-1", as: CaseState.self))
        #expect(cached.version == opened.streamVersion)
        let fresh = try CommandHandler(log: desk.log, catalog: try PolicyCatalog.shipped(),
                                       logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
            .load(CaseDecider.self, stream: "case-1") { if case .case(let e) = $0 { e } else { nil } }
        #expect(cached.state == fresh.0 && cached.version == fresh.1)
        // The next command starts from the cached state and leaves its own.
        try await desk.send("add-comment", "case-1", ["commentID": "c1", "body": "hi", "visibility": "internal"],
                            at: Desk.t0.addingTimeInterval(60))
        let after = try #require(desk.handler.stateCache.get("case-1", as: CaseState.self))
        #expect(after.version == cached.version + 1)
    }

    @Test("caseState(atLeast:) answers from the cache when it holds that version or a later one, else reads the log")
    func caseStateAtLeast() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        let opened = try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)
        let v = try #require(opened.streamVersion)
        // An event appended behind the handler's back (another process): the cache stays at v.
        let (state, _) = try desk.handler.caseState("case-1")
        let context = DecisionContext(now: Desk.t0.addingTimeInterval(60), actor: Desk.staff,
                                      policy: try PolicyCatalog.shipped().policy(named: "timecare-se"))
        let events = try CaseDecider.decide(.addComment(AddComment(commentID: "x1", body: "elsewhere", visibility: .internal)),
                                            state: state, context: context)
        _ = try await desk.log.append(to: "case-1", expectedVersion: .exact(v), events: try events.map {
            let encoded = try DomainEvent.case($0).encoded()
            return NewEvent(type: encoded.type, schemaVersion: UInt32(encoded.schemaVersion), payload: encoded.payload)
        })
        #expect(try desk.handler.caseState("case-1", atLeast: v).version == v)
        let caughtUp = try desk.handler.caseState("case-1", atLeast: v + 1)
        #expect(caughtUp.version == v + UInt64(events.count))
        #expect(caughtUp.state.internalComments == state.internalComments + 1)
    }

    @Test("a cached state catches up with events appended behind the handler's back, and equals a fresh fold")
    func cacheCatchesUp() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)
        // Another writer (say a second process) appends a domain event directly to the log.
        let (state, version) = try desk.handler.load(CaseDecider.self, stream: "case-1") { if case .case(let e) = $0 { e } else { nil } }
        let context = DecisionContext(now: Desk.t0.addingTimeInterval(60), actor: Desk.staff,
                                      policy: try PolicyCatalog.shipped().policy(named: "timecare-se"))
        let events = try CaseDecider.decide(.addComment(AddComment(commentID: "x1", body: "from elsewhere", visibility: .internal)),
                                            state: state, context: context)
        let encoded = try events.map { try DomainEvent.case($0).encoded() }
        _ = try await desk.log.append(to: "case-1", expectedVersion: .exact(try #require(version)), events: encoded.map {
            NewEvent(type: $0.type, schemaVersion: UInt32($0.schemaVersion), payload: $0.payload)
        })
        // A command through the handler must see that event (else it would conflict or decide on stale state).
        let comment = try await desk.send("add-comment", "case-1", ["commentID": "c2", "body": "hello", "visibility": "internal"],
                                          at: Desk.t0.addingTimeInterval(120))
        #expect(comment.events.first?.version == (version ?? 0) + UInt64(events.count) + 1)
        let cached = try desk.handler.load(CaseDecider.self, stream: "case-1") { if case .case(let e) = $0 { e } else { nil } }
        let fresh = try CommandHandler(log: desk.log, catalog: try PolicyCatalog.shipped(),
                                       logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
            .load(CaseDecider.self, stream: "case-1") { if case .case(let e) = $0 { e } else { nil } }
        #expect(cached.0 == fresh.0 && cached.1 == fresh.1)
    }
}
