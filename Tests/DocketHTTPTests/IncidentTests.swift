import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP: incident queries and the incident report")
struct IncidentTests {
    @Test("contacts see incidents naming their organisation or a subset of clients, redacted; the report needs incident-report access")
    func incidents() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let operations = Caller(kind: .staff, id: "ops-1", staffRole: .operations).principal!
        try await f.send("declare-incident", "OPI-1", ["incidentNumber": 1, "title": "Acme portal down", "affectedServices": ["portal"],
                                                      "origin": "own", "affectedOrganisations": ["acme"], "subsetOfClients": false], as: operations)
        let last = try await f.send("declare-incident", "OPI-2", ["incidentNumber": 2, "title": "Everyone's API slow", "affectedServices": ["api"],
                                                                 "origin": "third-party", "affectedOrganisations": [], "subsetOfClients": true], as: operations)
        let position: HTTPFields = [.docketPosition: String(last.position)]
        try await f.app().test(.router) { client in
            func status(_ uri: String, _ who: Who) async throws -> HTTPResponse.Status {
                try await client.execute(uri: uri, method: .get, headers: f.auth(who, position)) { $0.status }
            }
            #expect(try await status("/v1/incidents/1", .staff) == .ok)
            #expect(try await status("/v1/incidents/1", .reportingJob) == .ok)
            #expect(try await status("/v1/incidents/1", .acmeBasic) == .ok)
            #expect(try await status("/v1/incidents/1", .globexDesignated) == .notFound)
            #expect(try await status("/v1/incidents/1/timeline", .globexDesignated) == .notFound)
            #expect(try await status("/v1/incidents/2", .globexDesignated) == .ok)
            #expect(try await status("/v1/incidents/2/timeline", .acmeReadOnly) == .ok)
            #expect(try await status("/v1/incidents/9", .staff) == .notFound)
            #expect(try await status("/v1/incidents/x", .staff) == .badRequest)
            #expect(try await status("/v1/incidents/1", .admin) == .forbidden)
            try await client.execute(uri: "/v1/incidents/1", method: .get, headers: f.auth(.acmeDesignated, position)) { response in
                let body = try json(response)
                let incident = try #require(body["incident"] as? [String: Any])
                #expect(incident["affectedOrganisations"] as? [String] == ["acme"])
                #expect(body["colour"] as? String == "red")
            }
            let month = String(ISO8601DateFormatter().string(from: Date()).prefix(7))
            try await client.execute(uri: "/v1/reports/incidents?month=\(month)", method: .get, headers: f.auth(.acmeDesignated, position)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let current = try json(response)["current"] as? [[String: Any]] ?? []
                #expect(current.compactMap { $0["number"] as? Int }.sorted() == [1, 2])
            }
            try await client.execute(uri: "/v1/reports/incidents", method: .get, headers: f.auth(.globexDesignated, position)) {
                try expectError($0, .forbidden, "forbidden")
            }
            #expect(try await status("/v1/reports/incidents", .reportingJob) == .ok)
            #expect(try await status("/v1/reports/incidents", .admin) == .forbidden)
            for query in ["?month=2026-13", "?quarter=2026-Q5", "?from=yesterday&to=2026-01-01"] {
                #expect(try await status("/v1/reports/incidents" + query, .staff) == .badRequest, "\(query)")
            }
            #expect(try await status("/v1/reports/incidents?from=2026-02-01&to=2026-01-01", .staff) == .unprocessableContent)
            #expect(try await status("/v1/reports/incidents?to=2026-01-01", .staff) == .ok)
            #expect(try await status("/v1/reports/incidents?quarter=2026-Q1", .auditor) == .ok)
        }
    }
}
