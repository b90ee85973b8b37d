import CaseDomain
import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP: policy and calendar versions (R4.9)")
struct VersionTests {
    /// The shipped `timecare-se` policy as `version` with a response target of `hours` business hours.
    static func timecare(version: Int, hours: Int) throws -> String {
        let file = try #require(PolicyCatalog.shippedPolicyFiles.first { $0.name.hasSuffix("/timecare-se.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = version
        let target: [String: Any] = ["response": ["businessHours": hours]]
        json["targets"] = ["P1": target, "P2": target, "P3": target]
        return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("a policy version recorded through POST /v1/commands applies to the next case at once; earlier cases keep theirs")
    func recordedPolicyVersionAppliesAtOnce() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let manager = try await f.tokens.create(for: Caller(kind: .staff, id: "mgr-1", staffRole: .manager), label: "manager").secret
        let managerHeaders: HTTPFields = [.authorization: "Bearer \(manager)", .contentType: "application/json"]
        try await f.app().test(.router) { client in
            let record = try commandJSON("record-policy-version", "policy-timecare-se",
                                         ["name": "timecare-se", "version": 2, "content": try Self.timecare(version: 2, hours: 4)])
            try await client.execute(uri: "/v1/commands", method: .post, headers: managerHeaders, body: jsonBody(record)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            let open = try commandJSON("open-case", "case-A3", openCasePayload("A3", contact: "c-acme-d", org: "acme"))
            let position = try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                                    body: jsonBody(open)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                return try #require(try json(response)["position"] as? Int)
            }
            for (id, version, seconds) in [("A3", 2, 4 * 3600), ("A1", 1, 2 * 3600)] {
                try await client.execute(uri: "/v1/cases/\(id)", method: .get,
                                         headers: f.auth(.staff, [.docketPosition: String(position)])) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let body = try json(response)
                    let row = (body["case"] as? [String: Any]) ?? body
                    #expect(row["policyVersion"] as? Int == version, "\(row)")
                    let clocks = row["clocks"] as? [[String: Any]] ?? []
                    #expect(clocks.first { $0["target"] as? String == "response" }?["targetSeconds"] as? Int == seconds, "\(clocks)")
                }
            }
        }
    }

    @Test("a calendar version whose content does not load is refused with 422 naming $.payload.content (it matches its schema, but does not load); nothing is appended")
    func badCalendarContentIsRefused() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let manager = try await f.tokens.create(for: Caller(kind: .staff, id: "mgr-1", staffRole: .manager), label: "manager").secret
        let head = try f.log.head().position
        try await f.app().test(.router) { client in
            let record = try commandJSON("record-calendar-version", "calendar-sweden",
                                         ["name": "sweden", "version": 2, "content": "{\"name\": \"sweden\"}", "reason": "closure"])
            try await client.execute(uri: "/v1/commands", method: .post,
                                     headers: [.authorization: "Bearer \(manager)", .contentType: "application/json"],
                                     body: jsonBody(record)) { response in
                let error = try expectError(response, .unprocessableContent, "refused")
                #expect(error["path"] as? String == "$.payload.content", "\(error)")
            }
        }
        #expect(try f.log.head().position == head)
        #expect(try f.commands.catalog.calendar(named: "sweden").version == 1)
    }
}
