import CaseDomain
import EventLog
import Foundation
import Testing
@testable import CommandHandling

/// What identifies a stored event, without the log's own stamps (position, time, hash).
struct EventShape: Hashable, CustomStringConvertible {
    var id: UUID, stream: String, version: UInt64, type: String, actor: String, payload: String, metadata: String

    init(_ e: RecordedEvent) {
        id = e.id
        stream = e.stream
        version = e.version
        type = e.type
        actor = e.actor
        payload = String(decoding: e.payload, as: UTF8.self)
        metadata = String(decoding: e.metadata, as: UTF8.self)
    }

    var description: String { "\(stream)@\(version) \(type)" }
}

extension Desk {
    /// Decides a command into `batch`.
    @discardableResult
    func decide(_ batch: CommandBatch, _ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = Desk.staff,
                at: Date = Desk.t0, id: UUID = UUID(), expected: UInt64? = nil) throws -> BatchedCommand {
        try batch.decide(try envelope(type, stream, payload, id: id, expected: expected), actor: actor, at: at)
    }

    /// Every event of the log, as shapes.
    func shapes() throws -> [EventShape] {
        try log.readAll(from: 1, limit: 100_000).map(EventShape.init)
    }

    /// The commands of ``organisation(_:contacts:policy:)`` plus a case opened and routed,
    /// as (type, stream, payload, actor, id).
    static func history() -> [(String, String, [String: Any], Principal, UUID)] {
        let ids = (1...7).map { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", $0)) ?? UUID() }
        let open: [String: Any] = {
            ["caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Export fails", "description": "Steps: ...",
             "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P2", "region": "sweden",
             "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": "portal"]
        }()
        return [
            ("register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "timecare-se"], Desk.staff, ids[0]),
            ("add-contact", "org-acme", ["contactID": "ada", "name": "ada", "email": "ada@acme.example", "access": "designated"], Desk.staff, ids[1]),
            ("add-contact", "org-acme", ["contactID": "bo", "name": "bo", "email": "bo@acme.example", "access": "designated"], Desk.staff, ids[2]),
            ("transition-to-support", "org-acme", [:], Desk.staff, ids[3]),
            ("open-case", "case-1", open, Desk.ada, ids[4]),
            ("route-case", "case-1", ["team": "scheduling", "owner": "s1", "tier": "tier1"], Desk.staff, ids[5]),
            ("add-comment", "case-1", ["commentID": "p1", "body": "Looking", "visibility": "public"], Desk.staff, ids[6]),
        ]
    }
}

@Suite("Command handling: batches")
struct CommandBatchTests {
    @Test("each command sees the state the batch's earlier ones produced; nothing is appended before commit, then all in one append, exactly as the live path would")
    func batchEqualsLivePath() async throws {
        let live = try Desk()
        defer { live.log.close() }
        for (i, c) in Desk.history().enumerated() {
            try await live.send(c.0, c.1, c.2, as: c.3, at: Desk.t0.addingTimeInterval(Double(i * 60)), id: c.4)
        }
        let desk = try Desk()
        defer { desk.log.close() }
        let batch = desk.handler.beginBatch()
        for (i, c) in Desk.history().enumerated() {
            let decided = try desk.decide(batch, c.0, c.1, c.2, as: c.3, at: Desk.t0.addingTimeInterval(Double(i * 60)), id: c.4)
            #expect(!decided.duplicate && !decided.eventTypes.isEmpty)
        }
        #expect(try desk.log.head().position == 0)
        #expect(batch.pending.commands == 7)
        let statsBefore = desk.log.statistics.batches
        let commit = try await batch.commit()
        #expect(desk.log.statistics.batches == statsBefore + 1, "one atomic append, one transaction")
        let head = try desk.log.head().position
        #expect(commit.commands == 7 && commit.streams == 2 && commit.position == head)
        #expect(try desk.shapes() == live.shapes())
        // A committed batch takes no more commands.
        #expect(throws: CommandError.self) { try desk.decide(batch, "add-comment", "case-1", ["commentID": "x", "body": "x", "visibility": "public"]) }
        // The live path sees the batch's states (primed cache or fold: same result).
        let before = try #require(try desk.log.streamHead("case-1")).version
        let comment = try await desk.send("add-comment", "case-1", ["commentID": "p2", "body": "More", "visibility": "public"],
                                          at: Desk.t0.addingTimeInterval(3_600))
        #expect(comment.events.first?.version == before + 1)
    }

    @Test("a refused command leaves the batch as it was; a commandId applied before, in the log or in the batch, adds nothing")
    func refusalsAndDuplicates() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        let history = Desk.history()
        // The organisation is in the log already (an earlier, committed batch).
        for c in history.prefix(4) { try await desk.send(c.0, c.1, c.2, as: c.3, id: c.4) }
        let head = try desk.log.head().position
        let batch = desk.handler.beginBatch()
        for c in history.prefix(4) {
            #expect(try desk.decide(batch, c.0, c.1, c.2, as: c.3, id: c.4).duplicate)
        }
        let open = history[4]
        try desk.decide(batch, open.0, open.1, open.2, as: open.3, id: open.4)
        // Repeated within the batch: recognised; for another command: a conflict naming the reuse.
        #expect(try desk.decide(batch, open.0, open.1, open.2, as: open.3, id: open.4).duplicate)
        do {
            try desk.decide(batch, "add-comment", "case-1", ["commentID": "c", "body": "b", "visibility": "public"], as: Desk.ada, id: open.4)
            Issue.record("expected a conflict")
        } catch let error as CommandError {
            #expect(error.code == .conflict && error.message.contains("already used for open-case"))
        }
        // Refusals: domain rule, expected version against the batch's version, unknown stream.
        do {
            try desk.decide(batch, "confirm-solution", "case-1", [:], as: Desk.ada)
            Issue.record("expected a refusal")
        } catch let error as CommandError {
            #expect(error.code == .refused && error.domain?.rule == "R2.10")
        }
        let opened = try #require(try batch.caseState("case-1").version)
        do {
            try desk.decide(batch, "add-comment", "case-1", ["commentID": "c", "body": "b", "visibility": "public"], expected: opened + 5)
            Issue.record("expected a conflict")
        } catch let error as CommandError {
            #expect(error.code == .conflict && error.currentVersion == opened)
        }
        let expected = try desk.decide(batch, "add-comment", "case-1", ["commentID": "c", "body": "b", "visibility": "public"], expected: opened)
        let commented = try #require(expected.streamVersion)
        #expect(commented == opened + UInt64(expected.eventTypes.count))
        #expect(batch.pending.commands == 2)
        #expect(try desk.log.head().position == head)
        let commit = try await batch.commit()
        #expect(commit.commands == 2)
        #expect(try desk.log.streamHead("case-1")?.version == commented)
        // Decided again (an import re-run): everything is recognised, nothing appended.
        let again = desk.handler.beginBatch()
        #expect(try desk.decide(again, open.0, open.1, open.2, as: open.3, id: open.4).duplicate)
        #expect(try await again.commit().commands == 0)
        #expect(try desk.log.head().position == commit.position)
    }

    @Test("another writer changing a stream the batch writes fails the whole batch with a conflict; nothing of it is appended; deciding it again works")
    func concurrentWriterFailsTheBatch() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        try await desk.send("open-case", "case-1", desk.openCasePayload("1"), as: Desk.ada)
        let ids = [UUID(), UUID()]
        func decideAll(_ batch: CommandBatch) throws {
            try desk.decide(batch, "open-case", "case-2", desk.openCasePayload("2"), as: Desk.ada, id: ids[0])
            try desk.decide(batch, "add-comment", "case-1", ["commentID": "b1", "body": "from the import", "visibility": "internal"],
                            at: Desk.t0.addingTimeInterval(60), id: ids[1])
        }
        let batch = desk.handler.beginBatch()
        try decideAll(batch)
        // Meanwhile the service (live path) appends to case-1.
        try await desk.send("add-comment", "case-1", ["commentID": "live", "body": "from the service", "visibility": "internal"],
                            at: Desk.t0.addingTimeInterval(30))
        let head = try desk.log.head().position
        do {
            try await batch.commit()
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .conflict && error.message.contains("case-1") && error.message.contains("nothing of the batch was appended"))
        }
        #expect(try desk.log.head().position == head)
        #expect(try desk.log.streamHead("case-2") == nil)
        // Deciding the batch again sees the service's comment and commits.
        let again = desk.handler.beginBatch()
        try decideAll(again)
        let commit = try await again.commit()
        #expect(commit.commands == 2 && commit.events >= 2)
        #expect(try desk.log.readStream("case-1", limit: 1_000).suffix(2).map(\.type) == ["comment-added", "comment-added"])
    }
}
