import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Hostile JSON on POST /v1/commands and POST /v1/tokens: each is a 400 naming the JSON path,
/// without echoing long values, and nothing is appended.
extension CommandTests {
    static let commentEnvelopeHead = #"{"commandId":"0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01","type":"add-comment","streamId":"case-A2","#

    /// Posts `body` as the designated contact of acme and checks a 400 at `path`; returns the error object.
    @discardableResult
    static func refused(_ f: Fixture, _ client: some TestClientProtocol, _ body: String, path: String,
                        sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let head = try f.log.head().position
        let error = try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                             body: jsonBody(body)) { response in
            #expect(response.body.readableBytes < 1024, "a \(response.body.readableBytes)-byte error", sourceLocation: sourceLocation)
            return try expectError(response, .badRequest, "bad-request", sourceLocation: sourceLocation)
        }
        #expect(error["path"] as? String == path, "\(error)", sourceLocation: sourceLocation)
        let message = error["message"] as? String ?? ""
        // The message names the member: by its path, its path in the payload, or (envelope members) its name.
        #expect(message.contains(path) || message.contains(path.replacingOccurrences(of: "$.payload", with: "$"))
                || (path.hasPrefix("$.") && !path.dropFirst(2).contains(".") && message.hasPrefix(String(path.dropFirst(2)))),
                "\(error)", sourceLocation: sourceLocation)
        #expect(try f.log.head().position == head, "something was appended", sourceLocation: sourceLocation)
        return error
    }

    @Test("a member named twice in the envelope is a 400 naming it, not first-or-last-wins")
    func duplicateEnvelopeMember() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            let body = Self.commentEnvelopeHead + #""streamId":"case-G1","payload":{"commentID":"c1","body":"hi","visibility":"public"}}"#
            let error = try await Self.refused(f, client, body, path: "$.streamId")
            #expect((error["message"] as? String)?.contains("twice") == true)
        }
    }

    @Test("a member named twice anywhere in the payload (inside an object inside an array) is a 400 with its path")
    func duplicatePayloadMember() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            try await Self.refused(f, client, Self.commentEnvelopeHead
                                   + #""payload":{"commentID":"c1","body":"hi","visibility":"public","visibility":"internal"}}"#,
                                   path: "$.payload.visibility")
            try await Self.refused(f, client, Self.commentEnvelopeHead
                                   + #""payload":{"commentID":"c1","body":"hi","visibility":"public","x":[1,{"y":{"a":1,"b":2,"a":3}}]}}"#,
                                   path: "$.payload.x[1].y.a")
            // Escapes do not hide a duplicate: "\u0063c" is "cc".
            var open = try commandJSON("open-case", "case-A9", openCasePayload("A9", contact: "c-acme-d", org: "acme"))
            open = open.replacingOccurrences(of: #""cc":[]"#, with: #""cc":[],"\u0063c":["boss@acme.example"]"#)
            try await Self.refused(f, client, open, path: "$.payload.cc")
        }
    }

    @Test("a payload member the command's schema does not define is a 400 naming it, top-level and nested")
    func unknownPayloadMember() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            let error = try await Self.refused(f, client, Self.commentEnvelopeHead
                                               + #""payload":{"commentID":"c1","body":"hi","visibility":"public","foo":1}}"#,
                                               path: "$.payload.foo")
            #expect((error["message"] as? String)?.contains("commentID, body, visibility") == true, "\(error)")
            // Command payloads are flat (schemas/commands): an object where a string belongs is refused at its path.
            var open = try commandJSON("open-case", "case-A9", openCasePayload("A9", contact: "c-acme-d", org: "acme"))
            open = open.replacingOccurrences(of: #""cc":[]"#, with: #""cc":["a@acme.example",{"foo":1}]"#)
            try await Self.refused(f, client, open, path: "$.payload.cc[1]")
            // A long unknown name is described by its length, not echoed.
            let long = String(repeating: "k", count: 5000)
            let named = try await Self.refused(f, client, Self.commentEnvelopeHead
                                               + #""payload":{"commentID":"c1","body":"hi","visibility":"public",""# + long + #"":1}}"#,
                                               path: "$.payload[<a key of 5000 bytes>]")
            #expect(!((named["message"] as? String) ?? "").contains("kkkkkkkk"))
        }
    }

    @Test("expectedVersion is an integer literal of digits only: 1e2, 100.0, -0, -1 and \"1\" are refused; null is no expectation")
    func expectedVersionLiteral() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            for literal in ["1e2", "100.0", "-0", "-1", "\"1\"", "1E0", "0.0", "99999999999999999999"] {
                try await Self.refused(f, client, Self.commentEnvelopeHead
                                       + #""expectedVersion":\#(literal),"payload":{"commentID":"c1","body":"hi","visibility":"public"}}"#,
                                       path: "$.expectedVersion")
            }
            let body = Self.commentEnvelopeHead + #""expectedVersion":null,"payload":{"commentID":"c1","body":"hi","visibility":"public"}}"#
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                     body: jsonBody(body)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
        }
    }

    @Test("a 1 MB streamId or id in a payload is a 400 under 1 KB that gives its length instead of echoing it")
    func longIdentifiers() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            let huge = "case-" + String(repeating: "x", count: 1_000_000)
            let body = try commandJSON("add-comment", huge, Self.comment)
            let error = try await Self.refused(f, client, body, path: "$.streamId")
            #expect((error["message"] as? String)?.contains("1000005 bytes") == true, "\(error)")
            // 201 bytes: one over the limit; a control character; both in a payload id.
            let over = String(repeating: "a", count: 201)
            try await Self.refused(f, client, try commandJSON("open-case", "case-A9", openCasePayload("A9", contact: over, org: "acme")),
                                   path: "$.payload.contactID")
            try await Self.refused(f, client, try commandJSON("add-comment", "case-A2", ["commentID": "c\n1", "body": "b", "visibility": "public"]),
                                   path: "$.payload.commentID")
            try await Self.refused(f, client, try commandJSON("add-comment", "case-\u{7}", Self.comment), path: "$.streamId")
            // A long enum value is not echoed either.
            let enumBody = try commandJSON("add-comment", "case-A2", ["commentID": "c1", "body": "b", "visibility": String(repeating: "v", count: 10_000)])
            let enumError = try await Self.refused(f, client, enumBody, path: "$.payload.visibility")
            #expect(!((enumError["message"] as? String) ?? "").contains("vvvvvvvv"))
            // Exactly 200 bytes is allowed (the stream then does not exist: 404, without the id).
            let limit = "case-" + String(repeating: "y", count: 195)
            try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.staff, jsonHeaders),
                                     body: jsonBody(try commandJSON("add-comment", limit, Self.comment))) { response in
                #expect(response.status == .notFound, "\(String(buffer: response.body))")
            }
        }
    }

    @Test("POST /v1/tokens refuses a member named twice in the principal, naming $.principal.kind; no token is created")
    func duplicateTokenPrincipal() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let before = try f.tokens.list().count
        try await f.app().test(.router) { client in
            let body = #"{"principal":{"kind":"staff","id":"lena","staffRole":"manager","kind":"admin"}}"#
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, jsonHeaders), body: jsonBody(body)) { response in
                let error = try expectError(response, .badRequest, "bad-request")
                #expect(error["path"] as? String == "$.principal.kind", "\(error)")
                #expect((error["message"] as? String)?.contains("$.principal.kind") == true, "\(error)")
            }
        }
        #expect(try f.tokens.list().count == before)
    }
}
