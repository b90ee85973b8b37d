import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP: operations routes and the error shape")
struct OperationsTests {
    @Test("/health, /ready and /metrics answer without a token; metrics count requests by route and status")
    func operations() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let responseJSON = try json(response)
                #expect(responseJSON["status"] as? String == "ok")
                #expect(response.headers[.init("X-Request-Id")!] != nil)
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["status"] as? String == "ready")
                #expect((body["logHead"] as? Int ?? 0) > 6)
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                try expectError(response, .notFound, "route-not-found")
            }
            try await client.execute(uri: "/v1/tokens", method: .put) { response in
                try expectError(response, .methodNotAllowed, "method-not-allowed")
                #expect(response.headers[.allow] == "GET, POST")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"docket_http_requests_total{route="/health",method="GET",status="200"} 1"#))
                #expect(text.contains(#"docket_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
                #expect(text.contains("docket_http_request_duration_seconds_bucket"))
                #expect(text.contains("docket_append_batch_events_count"))
                #expect(text.contains("docket_log_head_position"))
            }
        }
    }

    @Test("a sane X-Request-Id is echoed; a hostile one is replaced")
    func requestID() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let header = HTTPField.Name("X-Request-Id")!
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get, headers: [header: "abc-123"]) { response in
                #expect(response.headers[header] == "abc-123")
            }
            try await client.execute(uri: "/health", method: .get, headers: [header: "a b\u{7f}"]) { response in
                #expect(response.headers[header] != "a b\u{7f}")
                #expect(response.headers[header]?.count == 36)
            }
        }
    }

    @Test("the live server answers the same, over a real socket")
    func live() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/cases/A1/history", method: .get, headers: f.auth(.acmeBasic)) { response in
                #expect(response.status == .ok)
                let responseJSON = try json(response)
                #expect(((responseJSON["events"] as? [Any])?.count ?? 0) >= 1)
            }
            try await client.execute(uri: "/v1/cases/G1/history", method: .get, headers: f.auth(.acmeDesignated)) {
                try expectError($0, .notFound, "case-not-found")
            }
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, jsonHeaders),
                                     body: ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)) { response in
                try expectError(response, .contentTooLarge, "body-too-large")
            }
            try await client.execute(uri: "/nothing/here", method: .post) { try expectError($0, .notFound, "route-not-found") }
        }
    }
}
