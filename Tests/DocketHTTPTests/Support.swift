import CaseDomain
import Catalog
import CommandHandling
import DocketHTTP
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Projections
import Testing

/// A logger that drops everything (tests assert on responses, not logs).
let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// The principals of the access matrix.
enum Who: String, CaseIterable, CustomStringConvertible {
    case admin, staff, auditor, reportingJob, acmeBasic, acmeReadOnly, acmeDesignated, globexDesignated
    var description: String { rawValue }

    var caller: Caller {
        switch self {
        case .admin: Caller(kind: .admin, id: "admin-2")
        case .staff: Caller(kind: .staff, id: "s-tier1", staffRole: .tier1)
        case .auditor: Caller(kind: .auditor, id: "aud-1")
        case .reportingJob: Caller(kind: .reportingJob, id: "job-1")
        case .acmeBasic: Caller(kind: .contact, id: "c-acme-basic", organisationId: "acme", access: .basic)
        case .acmeReadOnly: Caller(kind: .contact, id: "c-acme-ro", organisationId: "acme", access: .readOnly)
        case .acmeDesignated: Caller(kind: .contact, id: "c-acme-d", organisationId: "acme", access: .designated, incidentReport: true)
        case .globexDesignated: Caller(kind: .contact, id: "c-globex-d", organisationId: "globex", access: .designated)
        }
    }
}

/// A fresh data directory with the shipped data, one token per ``Who``, and three cases:
/// `A1` (acme, contact c-acme-basic), `A2` (acme, contact c-acme-d), `G1` (globex).
struct Fixture {
    let log: EventLog
    let tokens: TokenStore
    let commands: CommandHandler
    let runner: ProjectionRunner
    let metrics: DocketMetrics
    let adminSecret: String
    let secrets: [Who: String]

    static func make() async throws -> Fixture {
        let dir = NSTemporaryDirectory() + "docket-http-\(UUID().uuidString)"
        let metrics = DocketMetrics()
        var configuration = EventLog.Configuration()
        configuration.onBatchCommitted = { metrics.batchCommitted(appends: $0, events: $1) }
        let log = try EventLog.open(directory: dir, configuration: configuration, logger: quietLogger)
        let tokens = try await TokenStore.open(log: log)
        let report = try await prepareDataDirectory(log: log, tokens: tokens, logger: quietLogger)
        guard let admin = report.adminToken else { throw FixtureError("no admin token on first start") }
        // Wired as `docket serve` does: the catalog in force (shipped + recorded versions),
        // shared by the handler and the case projection (R4.9).
        let catalog = LiveCatalog(try PolicyCatalog.inForce(base: PolicyCatalog.shipped(), log: log, logger: quietLogger))
        let commands = CommandHandler(log: log, liveCatalog: catalog, logger: quietLogger)
        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(liveCatalog: catalog), IncidentProjection()], logger: quietLogger)
        let setup = Fixture(log: log, tokens: tokens, commands: commands, runner: runner, metrics: metrics, adminSecret: admin.secret, secrets: [:])
        try await setup.organisation("acme", contacts: ["c-acme-d": "designated", "c-acme-d2": "designated",
                                                       "c-acme-basic": "basic", "c-acme-ro": "read-only"])
        try await setup.send("set-incident-report-access", "org-acme", ["contactID": "c-acme-d", "granted": true])
        try await setup.organisation("globex", contacts: ["c-globex-d": "designated", "c-globex-d2": "designated"])
        // Contact tokens are issued only for contacts on their organisation's list (R1.10).
        var secrets: [Who: String] = [:]
        for who in Who.allCases {
            secrets[who] = try await tokens.create(for: who.caller, label: "test \(who)").secret
        }
        let f = Fixture(log: log, tokens: tokens, commands: commands, runner: runner, metrics: metrics, adminSecret: admin.secret, secrets: secrets)
        try await f.send("open-case", "case-A1", openCasePayload("A1", contact: "c-acme-basic", org: "acme", channel: "phone"),
                         as: .staff("s-phone", .tier1, channel: .phone))
        try await f.send("open-case", "case-A2", openCasePayload("A2", contact: "c-acme-d", org: "acme"), as: Who.acmeDesignated.caller.principal!)
        try await f.send("open-case", "case-G1", openCasePayload("G1", contact: "c-globex-d", org: "globex"), as: Who.globexDesignated.caller.principal!)
        try await runner.catchUp()
        // The projections follow the log live until the test closes it.
        Task { try? await runner.run() }
        return f
    }

    var dependencies: ServerDependencies {
        ServerDependencies(log: log, tokens: tokens, commands: commands, metrics: metrics, runner: runner)
    }

    /// Sends a command straight to the handler (setup, not under test).
    @discardableResult
    func send(_ type: String, _ stream: String, _ payload: [String: Any], as actor: Principal = .staff("mgr", .manager)) async throws -> CommandOutcome {
        let envelope = CommandEnvelope(commandId: UUID(), type: type, streamId: stream,
                                       payload: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
        return try await commands.handle(envelope, actor: actor, at: Date())
    }

    /// An organisation in support with `contacts` (id: access level).
    func organisation(_ id: String, contacts: KeyValuePairs<String, String>) async throws {
        try await send("register-organisation", "org-\(id)", ["organisationID": id, "name": id.capitalized, "policyName": "timecare-se"])
        for (contact, access) in contacts {
            try await send("add-contact", "org-\(id)", ["contactID": contact, "name": contact, "email": "\(contact)@\(id).example", "access": access])
        }
        try await send("transition-to-support", "org-\(id)", [:])
    }

    func app(_ configuration: ServerConfiguration = ServerConfiguration(port: 0)) -> some ApplicationProtocol {
        buildApplication(configuration, dependencies: dependencies, logger: quietLogger)
    }

    func auth(_ who: Who, _ extra: HTTPFields = [:]) -> HTTPFields {
        var fields = extra
        fields[.authorization] = "Bearer \(secrets[who] ?? "")"
        return fields
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The payload of an open-case command.
func openCasePayload(_ caseID: String, contact: String, org: String, channel: String = "portal") -> [String: Any] {
    ["caseID": caseID, "organisationID": org, "contactID": contact, "subject": "Subject \(caseID)", "description": "Steps: ...",
     "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P3", "region": "sweden",
     "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": channel]
}

/// A command envelope as JSON text.
func commandJSON(_ type: String, _ stream: String, _ payload: [String: Any], id: UUID = UUID(), expected: UInt64? = nil) throws -> String {
    var envelope: [String: Any] = ["commandId": id.uuidString, "type": type, "streamId": stream, "payload": payload]
    if let expected { envelope["expectedVersion"] = expected }
    return String(decoding: try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]), as: UTF8.self)
}

/// The JSON object of a response body.
func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    guard let dict = object as? [String: Any] else { throw FixtureError("body is not a JSON object: \(String(buffer: response.body))") }
    return dict
}

/// Checks the one error shape and returns the error's code.
@discardableResult
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ code: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    #expect(response.status == status, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
    let body = try json(response)
    let error = body["error"] as? [String: Any]
    #expect(error != nil, "no error object in \(body)", sourceLocation: sourceLocation)
    #expect(error?["message"] is String, sourceLocation: sourceLocation)
    if let code { #expect(error?["code"] as? String == code, sourceLocation: sourceLocation) }
    return error ?? [:]
}

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
let jsonHeaders: HTTPFields = [.contentType: "application/json"]
