import CaseDomain
import CommandHandling
import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The leaks found by trying Docket as a new user would, with two organisations on one
/// server; each test failed before the one decision point (schemas/authorization.md).
@Suite("HTTP: authorization findings stay fixed")
struct AuthorizationFindingsTests {
    @Test("R2.14 a contact's history of a case leaves out internal comments and the outbox; staff and auditors see them")
    func internalCommentsStayInternal() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let staff = Principal.staff("s-tier1", .tier1)
        try await f.send("add-comment", "case-A2", ["commentID": "pub-1", "body": "We are looking", "visibility": "public"], as: staff)
        try await f.send("add-comment", "case-A2", ["commentID": "int-1", "body": "SECRET internal note", "visibility": "internal"], as: staff)
        try await f.app().test(.router) { client in
            for who in [Who.acmeDesignated, .acmeReadOnly] {
                try await client.execute(uri: "/v1/cases/A2/history", method: .get, headers: f.auth(who)) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(text.contains("We are looking"))
                    #expect(!text.contains("SECRET") && !text.contains("int-1") && !text.contains("\"internal\""), "\(who): \(text)")
                    #expect(!text.contains("notification-queued"), "\(who): \(text)")
                }
            }
            for who in [Who.staff, .auditor] {
                try await client.execute(uri: "/v1/cases/A2/history", method: .get, headers: f.auth(who)) { response in
                    #expect(String(buffer: response.body).contains("SECRET internal note"))
                }
            }
            // The case view's last update is the public comment's, not the internal one's (R2.14).
            let history = try await client.execute(uri: "/v1/cases/A2/history", method: .get, headers: f.auth(.staff)) { try json($0) }
            let events = history["events"] as? [[String: Any]] ?? []
            let publicAt = events.first { ($0["payload"] as? [String: Any])?["commentID"] as? String == "pub-1" }?["payload"]
                .flatMap { ($0 as? [String: Any])?["at"] as? String }
            try await client.execute(uri: "/v1/cases/A2", method: .get, headers: f.auth(.acmeDesignated, [.docketPosition: String(try f.log.head().position)])) { response in
                let row = try json(response)
                #expect(row["lastUpdatedAt"] as? String == publicAt)
            }
        }
    }

    @Test("R1.10 a removed contact loses every right at once; a demoted one has the new level's; a token for an unlisted contact is not issued")
    func rightsComeFromTheContactList() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let comment: @Sendable (String) throws -> String = { case_ in
            try commandJSON("add-comment", "case-\(case_)", ["commentID": UUID().uuidString, "body": "hi", "visibility": "public"])
        }
        try await f.app().test(.router) { client in
            // Designated: acts on A1 (another contact's case).
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders), body: jsonBody(try comment("A1"))) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
            }
            // Demoted to basic: A1 is no longer visible (not its case), A2 (its own) still is.
            try await f.send("add-contact", "org-acme", ["contactID": "c-acme-d3", "name": "D3", "email": "d3@acme.example", "access": "designated"])
            try await f.send("change-contact-access", "org-acme", ["contactID": "c-acme-d", "access": "basic"])
            let position = String(try f.log.head().position)
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders), body: jsonBody(try comment("A1"))) {
                try expectError($0, .notFound, "not-found")
            }
            try await client.execute(uri: "/v1/cases/A1", method: .get, headers: f.auth(.acmeDesignated, [.docketPosition: position])) {
                try expectError($0, .notFound, "case-not-found")
            }
            try await client.execute(uri: "/v1/cases?organisation=acme", method: .get, headers: f.auth(.acmeDesignated, [.docketPosition: position])) {
                let ids = (try json($0)["cases"] as? [[String: Any]] ?? []).compactMap { $0["caseID"] as? String }
                #expect(ids == ["A2"])
            }
            // The incident-report grant went with the designation (R1.4).
            try await client.execute(uri: "/v1/reports/incidents", method: .get, headers: f.auth(.acmeDesignated)) {
                try expectError($0, .forbidden, "forbidden")
            }
            // Removed: nothing is visible any more, not even its own case.
            try await f.send("remove-contact", "org-acme", ["contactID": "c-acme-basic"])
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeBasic, jsonHeaders), body: jsonBody(try comment("A1"))) {
                try expectError($0, .notFound, "not-found")
            }
            try await client.execute(uri: "/v1/cases/A1", method: .get, headers: f.auth(.acmeBasic)) { try expectError($0, .notFound, "case-not-found") }
            try await client.execute(uri: "/v1/cases/A1/history", method: .get, headers: f.auth(.acmeBasic)) { try expectError($0, .notFound, "case-not-found") }
            try await client.execute(uri: "/v1/cases", method: .get, headers: f.auth(.acmeBasic)) {
                let page = try json($0)
                #expect((page["cases"] as? [Any])?.isEmpty == true)
            }
            // A token for a contact not on the list is not issued.
            let body = #"{"principal":{"kind":"contact","id":"c-acme-basic","organisationId":"acme"}}"#
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, jsonHeaders), body: jsonBody(body)) {
                try expectError($0, .unprocessableContent, "not-on-contact-list")
            }
        }
    }

    @Test("R1.10 an imported command from a contact never added, or claiming more than the list holds, is decided on the list")
    func importedActorsHaveTheListsRights() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let batch = f.commands.beginBatch()
        func open(_ id: String, _ contact: String) throws -> CommandEnvelope {
            CommandEnvelope(commandId: UUID(), type: "open-case", streamId: "case-\(id)",
                            payload: try JSONSerialization.data(withJSONObject: openCasePayload(id, contact: contact, org: "acme")))
        }
        let ghost = try open("X1", "ghost"), overclaim = try open("X2", "c-acme-basic"), live = try open("X3", "ghost")
        // Never added: no rights at all, answered as if acme did not exist.
        do throws(CommandError) {
            _ = try batch.decide(ghost, actor: .contact("ghost", organisation: "acme", access: .designated), at: Date())
            Issue.record("a contact never added opened a case")
        } catch {
            #expect(error.code == .notFound)
        }
        // A basic contact claiming designated: the list says basic, and basic contacts do not open cases (R1.2).
        do throws(CommandError) {
            _ = try batch.decide(overclaim, actor: .contact("c-acme-basic", organisation: "acme", access: .designated), at: Date())
            Issue.record("a basic contact opened a case by claiming designated access")
        } catch {
            #expect(error.code == .forbidden)
        }
        // The live path decides the same way.
        do throws(CommandError) {
            _ = try await f.commands.handle(live, actor: .contact("ghost", organisation: "acme", access: .designated), at: Date())
            Issue.record("a contact never added opened a case")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test("R1.9 a commandId's first outcome goes back only to the same principal: kind, organisation and id")
    func idempotencyIsPerPrincipal() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.send("add-contact", "org-acme", ["contactID": "c-same", "name": "Same A", "email": "a@acme.example", "access": "designated"])
        try await f.send("add-contact", "org-globex", ["contactID": "c-same", "name": "Same G", "email": "g@globex.example", "access": "designated"])
        let acmeSame = try await f.tokens.create(for: Caller(kind: .contact, id: "c-same", organisationId: "acme"), label: nil).secret
        let globexSame = try await f.tokens.create(for: Caller(kind: .contact, id: "c-same", organisationId: "globex"), label: nil).secret
        let id = UUID()
        let body = try commandJSON("add-comment", "case-A2", ["commentID": "cx", "body": "acme only", "visibility": "public"], id: id)
        try await f.app().test(.router) { client in
            let first = try await client.execute(uri: "/v1/commands", method: .post,
                                                 headers: [.authorization: "Bearer \(acmeSame)", .contentType: "application/json"], body: jsonBody(body)) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            // The same principal gets the first outcome back.
            try await client.execute(uri: "/v1/commands", method: .post,
                                     headers: [.authorization: "Bearer \(acmeSame)", .contentType: "application/json"], body: jsonBody(body)) { response in
                #expect(response.status == .ok)
                let again = try json(response)
                #expect((again["duplicate"] as? Bool) == true)
            }
            // The same id in another organisation learns nothing of it.
            try await client.execute(uri: "/v1/commands", method: .post,
                                     headers: [.authorization: "Bearer \(globexSame)", .contentType: "application/json"], body: jsonBody(body)) { response in
                try expectError(response, .conflict, "conflict")
                let text = String(buffer: response.body)
                #expect(!text.contains("duplicate") && !text.contains("position") && !text.contains("comment-added"), "\(text) / first: \(first)")
            }
        }
    }
}
