@testable import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite("HTTP: bearer tokens, the token API, rate limiting")
struct AuthTests {
    @Test("401 for a missing, malformed, unknown or revoked token")
    func unauthorized() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let created = try await f.tokens.create(for: Caller(kind: .auditor, id: "gone"), label: nil)
        #expect(try await f.tokens.revoke(id: created.record.id)?.revokedAt != nil)
        try await f.app().test(.router) { client in
            for headers: HTTPFields in [[:], [.authorization: "Basic abc"], [.authorization: "Bearer dkt_nope"],
                                        [.authorization: "Bearer \(created.secret)"], [.authorization: "Bearer"],
                                        // Two tokens in two fields: neither is taken.
                                        HTTPFields([HTTPField(name: .authorization, value: "Bearer \(f.secrets[.staff] ?? "")"),
                                                    HTTPField(name: .authorization, value: "Bearer \(f.secrets[.auditor] ?? "")")])] {
                try await client.execute(uri: "/v1/log/head", method: .get, headers: headers) { response in
                    try expectError(response, .unauthorized, "unauthorized")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"docket\"")
                }
            }
        }
    }

    @Test("tokens are stored hashed: the secret appears nowhere in the database")
    func hashed() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let created = try await f.tokens.create(for: Caller(kind: .staff, id: "s2", staffRole: .manager), label: "x")
        #expect(created.secret.hasPrefix("dkt_"))
        let file = try Data(contentsOf: URL(fileURLWithPath: f.log.environment.path + "/data.mdb"))
        #expect(file.range(of: Data(created.secret.utf8)) == nil)
        #expect(try f.tokens.authenticate(secret: created.secret)?.id == "s2")
        #expect(try f.tokens.list().contains { $0.id == created.record.id && $0.label == "x" })
    }

    @Test("a revocation by another process (another store) takes effect within the cache lifetime")
    func revokedElsewhere() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let created = try await f.tokens.create(for: Caller(kind: .auditor, id: "aud-9"), label: nil)
        #expect(try f.tokens.authenticate(secret: created.secret)?.id == "aud-9")
        let other = try await TokenStore.open(log: f.log)
        #expect(try await other.revoke(id: created.record.id) != nil)
        #expect(try other.authenticate(secret: created.secret) == nil)
        try await Task.sleep(for: TokenStore.cacheLifetime + .milliseconds(100))
        #expect(try f.tokens.authenticate(secret: created.secret) == nil)
    }

    @Test("the database key of a token is the SHA-256 of its secret (schemas/storage.md)")
    func storageKey() {
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(TokenStore.hash("abc").bytes.map { String(format: "%02x", $0) }.joined() == expected)
    }

    @Test("a revoked token is refused from the moment revoke returns, even while other requests authenticate it concurrently")
    func revokedDuringConcurrentRequests() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        // Results expire after 2 ms here, so that lookups in the database race with the
        // revocations; one that stored its stale result after the revocation would be seen.
        let tokens = try await TokenStore.open(log: f.log, cacheLifetime: .milliseconds(2))
        for round in 0..<40 {
            let created = try await tokens.create(for: Caller(kind: .staff, id: "busy-\(round)", staffRole: .tier1), label: nil)
            #expect(try tokens.authenticate(secret: created.secret)?.id == "busy-\(round)")
            let seen = RevocationRace()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Until well after the revocation.
                        let end = ContinuousClock.now + .milliseconds(60)
                        while ContinuousClock.now < end {
                            let wasRevoked = seen.revoked.load(ordering: .acquiring)
                            if try tokens.authenticate(secret: created.secret) != nil, wasRevoked {
                                seen.acceptedAfterRevocation.add(1, ordering: .relaxed)
                            }
                            await Task.yield()
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
                #expect(try await tokens.revoke(id: created.record.id) != nil)
                seen.revoked.store(true, ordering: .releasing)
                #expect(try tokens.authenticate(secret: created.secret) == nil)
                try await group.waitForAll()
            }
            #expect(seen.acceptedAfterRevocation.load(ordering: .relaxed) == 0, "round \(round)")
        }
    }

    @Test("cached tokens keep principals apart: each contact sees its own organisation's case, never the other's")
    func cachedTenantIsolation() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            // Repeated and interleaved, so all but the first request of each token hit the cache.
            for _ in 0..<5 {
                for (who, own, other) in [(Who.acmeDesignated, "A1", "G1"), (.globexDesignated, "G1", "A1")] {
                    try await client.execute(uri: "/v1/cases/\(own)", method: .get, headers: f.auth(who)) { #expect($0.status == .ok) }
                    try await client.execute(uri: "/v1/cases/\(other)", method: .get, headers: f.auth(who)) {
                        try expectError($0, .notFound, "case-not-found")
                    }
                }
            }
        }
    }

    @Test("an admin creates, lists and revokes tokens; the new token works until revoked")
    func tokenAPI() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            // c-acme-ro is read-only on acme's contact list (a token for a contact not on it is refused: AuthorizationFindingsTests).
            let body = #"{"principal":{"kind":"contact","id":"c-acme-ro","organisationId":"acme","access":"read-only"},"label":"new"}"#
            let created = try await client.execute(uri: "/v1/tokens", method: .post,
                                                   headers: f.auth(.admin, jsonHeaders), body: jsonBody(body)) { response in
                #expect(response.status == .created)
                return try json(response)
            }
            let secret = try #require(created["secret"] as? String)
            let id = try #require((created["token"] as? [String: Any])?["id"] as? String)
            try await client.execute(uri: "/v1/cases/A2/history", method: .get, headers: [.authorization: "Bearer \(secret)"]) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/tokens", method: .get, headers: f.auth(.admin)) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(id) && !text.contains(secret))
            }
            try await client.execute(uri: "/v1/tokens/\(id)", method: .delete, headers: f.auth(.admin)) { response in
                #expect(response.status == .ok)
                let responseJSON = try json(response)
                #expect(((responseJSON["token"] as? [String: Any])?["revokedAt"] as? String) != nil)
            }
            try await client.execute(uri: "/v1/cases/A2/history", method: .get, headers: [.authorization: "Bearer \(secret)"]) {
                try expectError($0, .unauthorized)
            }
            try await client.execute(uri: "/v1/tokens/tok_0000000000000000", method: .delete, headers: f.auth(.admin)) {
                try expectError($0, .notFound, "not-found")
            }
        }
    }

    @Test("400 naming the JSON path, 415 for non-JSON, 413 over 1 MB")
    func badBodies() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            let cases: [(String, String)] = [
                ("{", "$"),
                (#"{"label":"x"}"#, "$.principal"),
                (#"{"principal":{"kind":"wizard","id":"x"}}"#, "$.principal.kind"),
                (#"{"principal":{"kind":"contact","id":7}}"#, "$.principal.id"),
                (#"{"principal":{"kind":"contact","id":"c"}}"#, "$.principal"),
                (#"{"principal":{"kind":"staff","id":"s"}}"#, "$.principal"),
                (#"{"principal":{"kind":"auditor","id":"a","role":"admin"}}"#, "$.principal.role"),
                (#"{"principal":{"kind":"auditor","id":"a"},"expires":"never"}"#, "$.expires"),
            ]
            for (body, path) in cases {
                try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, jsonHeaders), body: jsonBody(body)) {
                    let error = try expectError($0, .badRequest, "bad-request")
                    #expect(error["path"] as? String == path, "\(body)")
                }
            }
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, [.contentType: "text/plain"]),
                                     body: jsonBody("{}")) {
                try expectError($0, .unsupportedMediaType, "unsupported-media-type")
            }
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin),
                                     body: jsonBody("{}")) {
                try expectError($0, .unsupportedMediaType, "unsupported-media-type")
            }
            let big = "{\"label\":\"" + String(repeating: "x", count: 1 << 20) + "\"}"
            try await client.execute(uri: "/v1/tokens", method: .post, headers: f.auth(.admin, jsonHeaders), body: jsonBody(big)) {
                try expectError($0, .contentTooLarge, "body-too-large")
            }
        }
    }

    @Test("429 with Retry-After once a principal's bucket is empty; other principals are unaffected")
    func rateLimited() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let configuration = ServerConfiguration(port: 0, rateLimit: .init(ratePerSecond: 0.5, burst: 2))
        try await f.app(configuration).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff)) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff)) { response in
                let error = try expectError(response, .tooManyRequests, "rate-limited")
                // The next token is 2 s away after an immediate third request; a machine slow enough to
                // take over a second for the first two has refilled part of it: 1 s then.
                let seconds = try #require(error["retryAfterSeconds"] as? Int)
                #expect((1...2).contains(seconds))
                #expect(response.headers[.retryAfter] == String(seconds))
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.auditor)) { #expect($0.status == .ok) }
        }
    }

    @Test("a token bucket refills at its rate")
    func bucket() {
        let limiter = RateLimiter(.init(ratePerSecond: 10, burst: 1))
        let t0 = ContinuousClock.now
        #expect(limiter.take("p", now: t0) == nil)
        #expect(limiter.take("p", now: t0) != nil)
        #expect(limiter.take("p", now: t0 + .milliseconds(100)) == nil)
        #expect(RateLimiter(.init(ratePerSecond: 0, burst: 0)).take("p") == nil)
    }
}

/// What the requests racing a revocation saw.
final class RevocationRace: Sendable {
    /// Set once `revoke` has returned.
    let revoked = Atomic<Bool>(false)
    /// Authentications that succeeded although they began after `revoke` returned.
    let acceptedAfterRevocation = Atomic<Int>(0)
}
