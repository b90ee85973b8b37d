import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP: POST /v1/commands")
struct CommandTests {
    static var comment: [String: Any] { ["commentID": "c1", "body": "hello", "visibility": "public"] }

    @Test("200 with the appended events, the stream's version and Docket-Position; a retry returns the first result")
    func accepted() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let id = UUID()
        let body = try commandJSON("open-case", "case-A3", openCasePayload("A3", contact: "c-acme-d", org: "acme"), id: id)
        try await f.app().test(.router) { client in
            let first = try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                                 body: jsonBody(body)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let object = try json(response)
                let events = try #require(object["events"] as? [[String: Any]])
                #expect(events.first?["type"] as? String == "case-opened")
                #expect(events.first?["version"] as? Int == 0)
                #expect(object["version"] as? Int == events.count - 1)
                #expect(object["duplicate"] as? Bool == false)
                #expect(object["commandId"] as? String == id.uuidString.lowercased())
                let position = try #require(object["position"] as? Int)
                #expect(response.headers[.docketPosition] == String(position))
                #expect(events.last?["position"] as? Int == position)
                return object
            }
            let head = try f.log.head().position
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                     body: jsonBody(body)) { response in
                #expect(response.status == .ok)
                let again = try json(response)
                #expect(again["duplicate"] as? Bool == true)
                #expect((again["events"] as? [[String: Any]])?.map { $0["position"] as? Int } ==
                        (first["events"] as? [[String: Any]])?.map { $0["position"] as? Int })
            }
            #expect(try f.log.head().position == head)
            // Another principal reusing the commandId learns nothing of the first command.
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.globexDesignated, jsonHeaders),
                                     body: jsonBody(body)) { response in
                try expectError(response, .conflict, "conflict")
                #expect(!String(buffer: response.body).contains("case-A3"))
            }
            let reused = try commandJSON("add-comment", "case-G1", Self.comment, id: id)
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.globexDesignated, jsonHeaders),
                                     body: jsonBody(reused)) { response in
                try expectError(response, .conflict, "conflict")
                #expect(!String(buffer: response.body).contains("case-A3"))
            }
            // Read-your-writes: the projection with the command's position shows the new case.
            try await client.execute(uri: "/v1/cases/A3", method: .get,
                                     headers: f.auth(.acmeReadOnly, [.docketPosition: String(try #require(first["position"] as? Int))])) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let responseJSON = try json(response)
                #expect(responseJSON["caseID"] as? String == "A3")
            }
            // And so does the history.
            let position = try #require(first["position"] as? Int)
            try await client.execute(uri: "/v1/cases/A3/history", method: .get,
                                     headers: f.auth(.acmeReadOnly, [.docketPosition: String(position)])) { response in
                #expect(response.status == .ok)
                let responseJSON = try json(response)
                #expect((responseJSON["events"] as? [[String: Any]])?.first?["type"] as? String == "case-opened")
            }
        }
    }

    @Test("400 names the JSON path; 415 not JSON; 413 over 1 MB")
    func malformed() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            var payload = openCasePayload("A4", contact: "c-acme-d", org: "acme")
            payload["caseType"] = 7
            let cases: [(String, String)] = [
                ("not json", "$"),
                (#"{"type":"open-case","streamId":"case-1","payload":{}}"#, "$.commandId"),
                (#"{"commandId":"x","type":"open-case","streamId":"case-1","payload":{}}"#, "$.commandId"),
                (try commandJSON("open-case", "case-A4", ["caseID": "A4"]), "$.payload"),
                (try commandJSON("open-case", "case-A4", payload), "$.payload.caseType"),
                (try commandJSON("no-such-command", "case-A4", [:]), "$.type"),
            ]
            for (body, path) in cases {
                try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, jsonHeaders), body: jsonBody(body)) {
                    let error = try expectError($0, .badRequest, "bad-request")
                    #expect((error["path"] as? String)?.hasPrefix(path) == true, "\(body): \(error)")
                }
            }
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, [.contentType: "text/plain"]),
                                     body: jsonBody(try commandJSON("add-comment", "case-A1", Self.comment))) {
                try expectError($0, .unsupportedMediaType, "unsupported-media-type")
            }
            let big = try commandJSON("add-comment", "case-A1", ["commentID": "c", "body": String(repeating: "x", count: 1 << 20), "visibility": "public"])
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, jsonHeaders), body: jsonBody(big)) {
                try expectError($0, .contentTooLarge, "body-too-large")
            }
        }
    }

    @Test("404 for an unknown stream and for another organisation's; 409 with the current version; 422 with the rule and allowed commands")
    func refusals() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let version = try #require(try f.log.streamHead("case-A2")).version
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, jsonHeaders),
                                     body: jsonBody(try commandJSON("add-comment", "case-NOPE", Self.comment))) {
                try expectError($0, .notFound, "not-found")
            }
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.globexDesignated, jsonHeaders),
                                     body: jsonBody(try commandJSON("add-comment", "case-A1", Self.comment))) { response in
                let error = try expectError(response, .notFound, "not-found")
                #expect(error["rule"] == nil && error["status"] == nil)
                #expect(!String(buffer: response.body).contains("Subject"))
            }
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, jsonHeaders),
                                     body: jsonBody(try commandJSON("add-comment", "case-A2", Self.comment, expected: version + 5))) { response in
                let error = try expectError(response, .conflict, "conflict")
                #expect(error["currentVersion"] as? Int == Int(version))
            }
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                     body: jsonBody(try commandJSON("confirm-solution", "case-A2", [:]))) { response in
                let error = try expectError(response, .unprocessableContent, "refused")
                #expect((error["rule"] as? String)?.hasPrefix("R") == true)
                #expect(error["allowed"] is [String])
            }
        }
    }
}
