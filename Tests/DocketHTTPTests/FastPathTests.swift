import CaseDomain
@testable import CommandHandling
@testable import DocketHTTP
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Projections
import Synchronization
import Testing

/// The responses written without a `JSONEncoder` (issue 5) are the bytes the encoder makes.
@Suite("HTTP: fast paths answer the same bytes")
struct FastPathTests {
    @Test("an accepted command's JSON equals the encoded Accepted value")
    func acceptedBytes() throws {
        let outcomes = [
            CommandOutcome(commandId: UUID(), streamId: "case-\"q\\uote\"/\u{01}é", events: [
                AppendedEvent(type: "case-opened", position: 17, version: 0, id: UUID()),
                AppendedEvent(type: "clock-started", position: 18, version: 1, id: UUID()),
            ], streamVersion: 1, position: 18, duplicate: false),
            CommandOutcome(commandId: UUID(), streamId: "org-x", events: [], streamVersion: nil, position: 0, duplicate: true),
            CommandOutcome(commandId: UUID(), streamId: "s", events: [AppendedEvent(type: "t\n", position: UInt64.max, version: 9, id: UUID())],
                           streamVersion: 1_234_567_890_123, position: 10, duplicate: false),
        ]
        for outcome in outcomes {
            let accepted = CommandRoutes.Accepted(
                commandId: outcome.commandId.uuidString.lowercased(), streamId: outcome.streamId,
                events: outcome.events.map { .init(id: $0.id.uuidString.lowercased(), type: $0.type, position: $0.position, version: $0.version) },
                version: Nullable(outcome.streamVersion), position: outcome.position, duplicate: outcome.duplicate)
            let encoded = try MessageCoding.encoder().encode(accepted)
            #expect(CommandRoutes.acceptedJSON(outcome) == Array(encoded), "\(String(decoding: encoded, as: UTF8.self))")
        }
    }

    @Test("a case list page is the encoding of its rows and cursor, for every caller and page")
    func caseListBytes() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        struct Page: Encodable {
            var cases: [CaseRow]
            var next: Nullable<String>
        }
        let queries = CaseQueries(runner: f.runner)
        try await f.app().test(.router) { client in
            for (who, scope) in [(Who.staff, nil), (.acmeDesignated, "acme"), (.acmeBasic, "acme")] as [(Who, String?)] {
                var query = CaseQuery()
                query.limit = 1
                query.organisation = scope
                if who == .acmeBasic { query.reportedBy = Who.acmeBasic.caller.id }
                var cursor: String?
                var pages = 0
                repeat {
                    query.cursor = cursor
                    let page = try queries.list(query)
                    let expected = try MessageCoding.encoder().encode(Page(cases: page.rows, next: Nullable(page.nextCursor)))
                    let uri = "/v1/cases?limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                    try await client.execute(uri: uri, method: .get, headers: f.auth(who)) { response in
                        #expect(response.status == .ok)
                        #expect(Data(buffer: response.body) == expected, "\(who): \(String(buffer: response.body))")
                    }
                    cursor = page.nextCursor
                    pages += 1
                } while cursor != nil && pages < 20
                #expect(pages >= 1)
            }
        }
    }

    @Test("the case row is answered as stored, which is its encoding; the head as encoded")
    func caseRowAndHeadBytes() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let row = try #require(try CaseQueries(runner: f.runner).row("A1"))
        let expected = try MessageCoding.encoder().encode(row)
        try await f.app().test(.router) { client in
            for who in [Who.staff, .acmeBasic, .acmeDesignated] {
                try await client.execute(uri: "/v1/cases/A1", method: .get, headers: f.auth(who)) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(Data(buffer: response.body) == expected)
                }
            }
            // Contacts of another organisation, and basic contacts for others' cases: 404.
            for (who, id) in [(Who.globexDesignated, "A1"), (.acmeBasic, "A2"), (.staff, "NOPE")] {
                try await client.execute(uri: "/v1/cases/\(id)", method: .get, headers: f.auth(who)) {
                    try expectError($0, .notFound, "case-not-found")
                }
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff)) { response in
                let head = try f.log.head()
                #expect(String(buffer: response.body) == #"{"hash":"\#(head.hash.hex)","position":\#(head.position)}"#)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                #expect(response.headers[.contentType] == "application/json")
            }
        }
    }

    @Test("Docket-Position is honoured by a case's row, flags and surveys too")
    func caseRoutesWaitForPosition() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let head = try f.log.head().position
        try await f.app(ServerConfiguration(port: 0, readYourWritesTimeout: .milliseconds(200))).test(.router) { client in
            for uri in ["/v1/cases/A1", "/v1/cases/A1/flags", "/v1/cases/A1/surveys"] {
                try await client.execute(uri: uri, method: .get, headers: f.auth(.staff, [.docketPosition: "\(head + 100)"])) {
                    try expectError($0, .unprocessableContent, "position-beyond-head")
                }
                try await client.execute(uri: uri, method: .get, headers: f.auth(.staff, [.docketPosition: "\(head)"])) {
                    #expect($0.status == .ok)
                }
            }
        }
    }

    @Test("the bearer token is read like before: scheme in any case, blanks around the token")
    func bearer() {
        #expect(Authenticator.bearerSecret("Bearer dkt_abc") == "dkt_abc")
        #expect(Authenticator.bearerSecret("bEaReR   dkt_abc \t") == "dkt_abc")
        #expect(Authenticator.bearerSecret("Bearer") == nil)
        #expect(Authenticator.bearerSecret("Bearer ") == nil)
        #expect(Authenticator.bearerSecret("Basic abc") == nil)
        #expect(Authenticator.bearerSecret("Bearerx abc") == nil)
    }

    @Test("JSON content types are recognised like before: any case, blanks, parameters, +json suffixes")
    func jsonMediaTypes() {
        for value in ["application/json", "Application/JSON", " application/json ; charset=utf-8", "application/json;charset=UTF-8",
                      "application/vnd.docket+json", "APPLICATION/PROBLEM+JSON; q=1", "\tapplication/json"] {
            #expect(isJSONMediaType(value), "\(value)")
        }
        for value in ["", "text/plain", "text/json", "application/jsonx", "application/xml", "application/", "json",
                      "application/json+xml", "application/+json", "multipart/form-data; boundary=json"] {
            #expect(!isJSONMediaType(value), "\(value)")
        }
    }

    @Test("per-request metadata reaches the logged line; a call-site key wins")
    func requestLogMetadata() {
        let lines = LinesBox()
        var logger = Logger(label: "t", factory: { _ in CapturingHandler(lines: lines) }).withCheapMetadata()
        logger.logLevel = .info
        logger[metadataKey: "request_id"] = "r-1"
        logger[metadataKey: "principal"] = "p-1"
        logger.info("request", metadata: ["principal": "p-2", "status": "200"])
        logger.debug("dropped")
        #expect(lines.value == [["request_id": "r-1", "principal": "p-2", "status": "200"]])
        #expect(logger[metadataKey: "request_id"] == "r-1")
    }

    @Test("a route's log line carries the request id and the principal; the token never appears")
    func routeLogMetadata() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let lines = LinesBox()
        var logger = Logger(label: "t", factory: { _ in CapturingHandler(lines: lines) })
        logger.logLevel = .info
        let app = buildApplication(ServerConfiguration(port: 0), dependencies: f.dependencies, logger: logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.staff, [.requestID: "req-42"])) {
                #expect($0.status == .ok)
                #expect($0.headers[.requestID] == "req-42")
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: f.auth(.acmeDesignated, [.requestID: "req-43"])) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/log/head", method: .get, headers: [.authorization: "Bearer dkt_nope", .requestID: "req-44"]) {
                #expect($0.status == .unauthorized)
            }
        }
        let requests = lines.value.filter { $0["route"] != nil }
        #expect(requests.count == 3)
        let byID = Dictionary(requests.map { ($0["request_id"]?.description ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byID["req-42"]?["principal"]?.description == Who.staff.caller.id)
        #expect(byID["req-42"]?["status"]?.description == "200")
        #expect(byID["req-43"]?["principal"]?.description == Who.acmeDesignated.caller.id)
        #expect(byID["req-43"]?["status"]?.description == "403")
        #expect(byID["req-44"]?["principal"] == nil)
        #expect(byID["req-44"]?["status"]?.description == "401")
        let text = lines.value.map { "\($0)" }.joined()
        #expect(!text.contains("dkt_"))
    }

    @Test("generated request ids are distinct lowercase UUIDs (version 4)")
    func requestIDs() {
        let ids = (0..<1000).map { _ in RequestIDs.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(3) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil && id == id.lowercased() && id.count == 36, "\(id)")
            #expect(Array(id)[14] == "4" && "89ab".contains(Array(id)[19]), "\(id)")
        }
    }

    @Test("the projections' pause is proportional to a step and bounded")
    func pacing() {
        let pacing = ProjectionPacing(writerShare: 0.25, maxPause: .milliseconds(50))
        #expect(pacing.pause(after: .milliseconds(4)) == .milliseconds(12))
        #expect(pacing.pause(after: .milliseconds(40)) == .milliseconds(50))
    }
}

final class LinesBox: Sendable {
    let store = Mutex<[Logger.Metadata]>([])
    var value: [Logger.Metadata] { store.withLock { $0 } }
}

struct CapturingHandler: LogHandler {
    let lines: LinesBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let line = metadata.merging(event.metadata ?? [:]) { _, new in new }
        lines.store.withLock { $0.append(line) }
    }
}
