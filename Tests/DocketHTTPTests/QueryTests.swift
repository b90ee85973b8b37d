import DocketHTTP
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP: queries answered from the log")
struct QueryTests {
    @Test("a case's history pages through its stream")
    func history() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let version = Int(try #require(try f.log.streamHead("case-A1")).version)
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/cases/A1/history?limit=1", method: .get, headers: f.auth(.staff)) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["caseId"] as? String == "A1")
                #expect(body["version"] as? Int == version)
                #expect(version >= 1 && body["next"] as? Int == 1)
                let events = try #require(body["events"] as? [[String: Any]])
                #expect(events.count == 1)
                #expect(events[0]["type"] as? String == "case-opened")
                #expect((events[0]["payload"] as? [String: Any])?["organisationID"] as? String == "acme")
            }
            try await client.execute(uri: "/v1/cases/A1/history?from=\(version)", method: .get, headers: f.auth(.auditor)) { response in
                let body = try json(response)
                #expect((body["events"] as? [[String: Any]])?.map { $0["version"] as? Int } == [version])
                #expect(body["next"] is NSNull)
            }
            for uri in ["/v1/cases/A1/history?limit=0", "/v1/cases/A1/history?limit=1001", "/v1/cases/A1/history?from=-1",
                        "/v1/cases/A1/history?from=x", "/v1/cases/a%20b/history"] {
                try await client.execute(uri: uri, method: .get, headers: f.auth(.staff)) { try expectError($0, .badRequest, "bad-request") }
            }
            try await client.execute(uri: "/v1/cases/NOPE/history", method: .get, headers: f.auth(.staff)) {
                try expectError($0, .notFound, "case-not-found")
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.auditor)) { response in
                let body = try json(response)
                #expect(body["position"] as? Int == Int(try f.log.head().position))
                #expect((body["hash"] as? String)?.count == 64)
            }
        }
    }

    @Test("Docket-Position: a reached position answers at once; a later one waits for it; one the log never reaches, and garbage, are 400")
    func readYourWrites() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let head = try f.log.head().position
        let version = Int(try #require(try f.log.streamHead("case-A1")).version)
        // The wait bound is generous here (a loaded 2-core machine can take long to fsync
        // the append); the never-reached position below uses a short one.
        let configuration = ServerConfiguration(port: 0, readYourWritesTimeout: .seconds(20))
        try await f.app(configuration).test(.router) { client in
            try await client.execute(uri: "/v1/cases/A1/history", method: .get, headers: f.auth(.staff, [.docketPosition: "\(head)"])) {
                #expect($0.status == .ok)
            }
            // An append that lands while the query waits is seen by it.
            async let later: Void = {
                try await Task.sleep(for: .milliseconds(50))
                _ = try await f.log.append(to: "test-notes", events: [NewEvent(type: "test-note", payload: Data("{}".utf8))])
            }()
            try await client.execute(uri: "/v1/cases/A1/history", method: .get,
                                     headers: f.auth(.staff, [.docketPosition: "\(head + 1)"])) { response in
                #expect(response.status == .ok)
                let responseJSON = try json(response)
                #expect(responseJSON["version"] as? Int == version)
            }
            try await later
        }
        try await f.app(ServerConfiguration(port: 0, readYourWritesTimeout: .milliseconds(300))).test(.router) { client in
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff, [.docketPosition: "\(head + 100)"])) {
                // Beyond the log's head when the wait ends: valid as sent, not answerable (422).
                let error = try expectError($0, .unprocessableContent, "position-beyond-head")
                #expect(error["path"] as? String == "Docket-Position")
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff, [.docketPosition: "soon"])) {
                try expectError($0, .badRequest, "bad-request")
            }
        }
    }

    @Test("503 not-caught-up when the read side lags the log past the wait; /ready says not ready while projections trail")
    func readSideLags() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let head = try f.log.head().position
        let lagging = ServerDependencies(log: f.log, tokens: f.tokens, commands: f.commands, metrics: f.metrics,
                                         readPosition: { head - 1 }, projectionLag: { 1 })
        let app = buildApplication(ServerConfiguration(port: 0, readYourWritesTimeout: .milliseconds(100)),
                                   dependencies: lagging, logger: quietLogger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.auditor, [.docketPosition: "\(head)"])) {
                let error = try expectError($0, .serviceUnavailable, "not-caught-up")
                #expect(error["position"] as? Int == Int(head - 1))
                #expect($0.headers[.retryAfter] == "1")
            }
            try await client.execute(uri: "/ready", method: .get) { try expectError($0, .serviceUnavailable, "not-ready") }
            try await client.execute(uri: "/metrics", method: .get) {
                #expect(String(buffer: $0.body).contains("docket_projection_lag_events 1"))
            }
        }
    }

    @Test("case lists are scoped to the contact's organisation (basic contacts: their own cases), whatever the query asks")
    func caseLists() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        func ids(_ who: Who, _ query: String = "") async throws -> [String] {
            try await f.app().test(.router) { client in
                try await client.execute(uri: "/v1/cases" + query, method: .get, headers: f.auth(who)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let rows = try json(response)["cases"] as? [[String: Any]] ?? []
                    return rows.compactMap { $0["caseID"] as? String }.sorted()
                }
            }
        }
        #expect(try await ids(.staff) == ["A1", "A2", "G1"])
        #expect(try await ids(.reportingJob, "?organisation=acme") == ["A1", "A2"])
        #expect(try await ids(.acmeReadOnly) == ["A1", "A2"])
        #expect(try await ids(.acmeBasic) == ["A1"])
        #expect(try await ids(.globexDesignated) == ["G1"])
        #expect(try await ids(.globexDesignated, "?organisation=acme") == [])
        #expect(try await ids(.auditor, "?limit=1").count == 1)
        try await f.app().test(.router) { client in
            for query in ["?limit=0", "?sort=sideways", "?order=up"] {
                try await client.execute(uri: "/v1/cases" + query, method: .get, headers: f.auth(.staff)) {
                    try expectError($0, .badRequest, "bad-request")
                }
            }
            // A cursor of no page of this query: each parameter is valid, together they are not answerable.
            try await client.execute(uri: "/v1/cases?cursor=%00bad", method: .get, headers: f.auth(.staff)) {
                try expectError($0, .unprocessableContent, "query-refused")
            }
            try await client.execute(uri: "/v1/cases/A2", method: .get, headers: f.auth(.acmeReadOnly)) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["organisationID"] as? String == "acme" && body["caseID"] as? String == "A2")
            }
            for sub in ["flags", "surveys"] {
                try await client.execute(uri: "/v1/cases/G1/\(sub)", method: .get, headers: f.auth(.globexDesignated)) { response in
                    #expect(response.status == .ok)
                    let responseJSON = try json(response)
                    #expect(responseJSON[sub] is [Any])
                }
            }
        }
    }

    @Test("a case whose row is too long for one table entry (stored in pieces) is answered whole by every route")
    func longRowAnsweredWhole() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        // A subject of 5 000 bytes makes the row about 6 KB: four pieces in the table (schemas/storage.md "Long values").
        let subject = "Printer on ward 4 rejects every job; " + String(repeating: "log line ", count: 551)
        var payload = openCasePayload("A9", contact: "c-acme-d", org: "acme")
        payload["subject"] = subject
        let outcome = try await f.send("open-case", "case-A9", payload, as: Who.acmeDesignated.caller.principal!)
        try await f.runner.waitUntil(position: outcome.position, timeout: .seconds(30))
        try await f.app().test(.router) { client in
            for who in [Who.staff, .acmeDesignated] {
                try await client.execute(uri: "/v1/cases/A9", method: .get, headers: f.auth(who)) { response in
                    #expect(response.status == .ok)
                    let body = try json(response)
                    #expect(body["subject"] as? String == subject && body["caseID"] as? String == "A9")
                }
            }
            try await client.execute(uri: "/v1/cases?organisation=acme&limit=1000", method: .get, headers: f.auth(.reportingJob)) { response in
                let rows = try json(response)["cases"] as? [[String: Any]] ?? []
                #expect(rows.first { $0["caseID"] as? String == "A9" }?["subject"] as? String == subject)
            }
            try await client.execute(uri: "/v1/reports/cases?organisation=acme&format=csv", method: .get, headers: f.auth(.reportingJob)) { response in
                #expect(String(buffer: response.body).contains(subject))
            }
            try await client.execute(uri: "/v1/cases/A9", method: .get, headers: f.auth(.globexDesignated)) {
                try expectError($0, .notFound, "case-not-found")
            }
        }
    }

    @Test("reports as JSON and CSV: the case report (tenant-scoped), SLA compliance, surveys")
    func reports() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/reports/cases?format=csv", method: .get, headers: f.auth(.staff)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first == "Subject,Case #,Date Created,Reported By,Date Last Updated,Status,Site/URL/Acct")
                #expect(lines.count == 4)
            }
            try await client.execute(uri: "/v1/reports/cases?format=csv", method: .get, headers: f.auth(.acmeBasic)) { response in
                #expect(String(buffer: response.body).split(separator: "\n").count == 2)
            }
            try await client.execute(uri: "/v1/reports/sla?granularity=quarter", method: .get, headers: f.auth(.reportingJob)) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["cases"] as? Int == 3 && body["granularity"] as? String == "quarter")
            }
            try await client.execute(uri: "/v1/reports/sla?format=csv&organisation=globex", method: .get, headers: f.auth(.auditor)) { response in
                #expect(String(buffer: response.body).hasPrefix("Policy,Priority,Team,Period,Target,Met,Breached,Pending,Share\n"))
            }
            try await client.execute(uri: "/v1/reports/surveys?format=csv", method: .get, headers: f.auth(.staff)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("Dimension,Key,Period"))
            }
            for uri in ["/v1/reports/sla?format=xml", "/v1/reports/surveys?granularity=week", "/v1/reports/cases?format=pdf"] {
                try await client.execute(uri: uri, method: .get, headers: f.auth(.staff)) { try expectError($0, .badRequest, "bad-request") }
            }
        }
    }

    @Test("first start records every shipped policy and calendar once, through the domain")
    func firstStart() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let streams = try f.log.streams().map(\.stream)
        #expect(streams.contains { $0.hasPrefix("policy-") })
        #expect(streams.contains { $0.hasPrefix("calendar-") })
        let policy = try #require(streams.first { $0.hasPrefix("policy-") })
        #expect(try f.log.readStream(policy).map(\.type) == ["policy-version-recorded"])
        let again = try await prepareDataDirectory(log: f.log, tokens: f.tokens, logger: quietLogger)
        #expect(again.recordedStreams.isEmpty && again.adminToken == nil)
    }
}

extension HTTPField.Name {
    static let docketPosition = HTTPField.Name("Docket-Position")!
}
