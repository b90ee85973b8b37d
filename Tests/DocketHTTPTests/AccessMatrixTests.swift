import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Every route × every principal: the status each gets (R1.2, R1.7, R1.8, R1.9). A case of
/// another organisation, or another contact's case for a basic contact, is 404, never 403.
@Suite("HTTP: cross-tenant, cross-role access matrix")
struct AccessMatrixTests {
    struct Route: CustomStringConvertible, Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var expected: @Sendable (Who) -> HTTPResponse.Status
        var description: String { "\(method) \(uri)" }
    }

    static let readers: Set<Who> = [.staff, .auditor]

    static let routes: [Route] = [
        Route(method: .get, uri: "/v1/log/head") { readers.contains($0) ? .ok : .forbidden },
        Route(method: .get, uri: "/v1/cases/A1/history") { who in
            switch who {
            case .admin, .reportingJob: .forbidden
            case .globexDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/A2/history") { who in
            switch who {
            case .admin, .reportingJob: .forbidden
            case .globexDesignated, .acmeBasic: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/G1/history") { who in
            switch who {
            case .admin, .reportingJob: .forbidden
            case .acmeBasic, .acmeReadOnly, .acmeDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases") { $0 == .admin ? .forbidden : .ok },
        Route(method: .get, uri: "/v1/cases/A1") { who in
            switch who {
            case .admin: .forbidden
            case .globexDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/A2/surveys") { who in
            switch who {
            case .admin: .forbidden
            case .globexDesignated, .acmeBasic: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/G1/flags") { who in
            switch who {
            case .admin: .forbidden
            case .acmeBasic, .acmeReadOnly, .acmeDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/G2") { who in
            switch who {
            case .admin: .forbidden
            case .acmeBasic, .acmeReadOnly, .acmeDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases/A1/flags") { who in
            switch who {
            case .admin: .forbidden
            case .globexDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/cases?organisation=globex") { $0 == .admin ? .forbidden : .ok },
        Route(method: .get, uri: "/v1/reports/cases?organisation=globex&format=csv") { $0 == .admin ? .forbidden : .ok },
        Route(method: .get, uri: "/v1/incidents/1") { who in
            switch who {
            case .admin: .forbidden
            case .globexDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/incidents/2/timeline") { who in
            switch who {
            case .admin: .forbidden
            case .acmeBasic, .acmeReadOnly, .acmeDesignated: .notFound
            default: .ok
            }
        },
        Route(method: .get, uri: "/v1/incidents/99") { $0 == .admin ? .forbidden : .notFound },
        Route(method: .get, uri: "/v1/reports/incidents?from=2000-01-01&to=2100-01-01") { who in
            switch who {
            case .staff, .auditor, .reportingJob, .acmeDesignated: .ok
            default: .forbidden
            }
        },
        Route(method: .get, uri: "/v1/reports/sla") { [.staff, .auditor, .reportingJob].contains($0) ? .ok : .forbidden },
        Route(method: .get, uri: "/v1/reports/surveys?format=csv") { [.staff, .auditor, .reportingJob].contains($0) ? .ok : .forbidden },
        Route(method: .get, uri: "/v1/reports/cases?format=csv") { $0 == .admin ? .forbidden : .ok },
        Route(method: .get, uri: "/v1/tokens") { $0 == .admin ? .ok : .forbidden },
        Route(method: .post, uri: "/v1/tokens", body: #"{"principal":{"kind":"auditor","id":"a9"}}"#) { $0 == .admin ? .created : .forbidden },
        Route(method: .delete, uri: "/v1/tokens/tok_ffffffffffffffff") { $0 == .admin ? .notFound : .forbidden },
        Route(method: .post, uri: "/v1/commands",
              body: #"{"commandId":"$UUID","type":"add-comment","streamId":"case-A1","payload":{"commentID":"$UUID","body":"hi","visibility":"public"}}"#) { who in
            switch who {
            case .staff, .acmeBasic, .acmeDesignated: .ok
            case .acmeReadOnly, .auditor, .reportingJob, .admin: .forbidden
            case .globexDesignated: .notFound
            }
        },
        Route(method: .post, uri: "/v1/commands",
              body: #"{"commandId":"$UUID","type":"add-comment","streamId":"case-G1","payload":{"commentID":"$UUID","body":"hi","visibility":"public"}}"#) { who in
            switch who {
            case .staff, .globexDesignated: .ok
            case .auditor, .reportingJob, .admin: .forbidden
            case .acmeBasic, .acmeReadOnly, .acmeDesignated: .notFound
            }
        },
    ]

    @Test("every route answers every principal as R1 says", arguments: routes)
    func matrix(route: Route) async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await AuthorizationMatrixTests.addStreams(f)
        try await f.app().test(.router) { client in
            for who in Who.allCases {
                let headers = f.auth(who, route.body == nil ? [:] : jsonHeaders)
                try await client.execute(uri: route.uri, method: route.method, headers: headers,
                                         body: route.body.map { jsonBody($0.replacingOccurrences(of: "$UUID", with: UUID().uuidString)) }) { response in
                    let expected = route.expected(who)
                    #expect(response.status == expected, "\(route) as \(who): \(String(buffer: response.body))")
                    // No byte of the other organisation reaches a contact, whatever the status.
                    let text = String(buffer: response.body)
                    let markers: [String] = switch who {
                    case .acmeBasic, .acmeReadOnly, .acmeDesignated: AuthorizationMatrixTests.globexMarkers
                    case .globexDesignated: AuthorizationMatrixTests.acmeMarkers
                    default: []
                    }
                    for marker in markers where !route.uri.contains(marker) && !(route.body ?? "").contains(marker) {
                        #expect(!text.contains(marker), "\(route) as \(who): \(marker) in \(text)")
                    }
                    if who == .acmeBasic {
                        // A basic contact sees nothing of the other contact's case.
                        #expect(!text.contains("Subject A2") && !text.contains("FA"), "\(route) as \(who): \(text)")
                    }
                    if expected.code >= 400 {
                        try expectError(response, expected)
                        // Nothing of the case leaks into a refusal.
                        #expect(!String(buffer: response.body).contains("Subject"))
                    }
                }
            }
            // And without a token, every /v1 route is 401.
            try await client.execute(uri: route.uri, method: route.method) { try expectError($0, .unauthorized, "unauthorized") }
        }
    }
}
