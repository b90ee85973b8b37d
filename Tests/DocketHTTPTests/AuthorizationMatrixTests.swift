import CaseDomain
import CommandHandling
import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The generated authorization matrix of commands (schemas/authorization.md): every command
/// type × every principal kind and access level × a stream of the principal's own
/// organisation, one of another organisation, and a missing one, through `POST /v1/commands`.
///
/// What it asserts, for every cell:
/// - a contact (or anyone) gets exactly the same answer for another organisation's stream
///   as for a missing one: status, code and message (with the stream or organisation named in
///   the request put aside), and no `status`, `allowed`, `rule` or version in it (R1.9);
/// - no byte naming the other organisation (its ids, contacts, subjects, markers) appears in
///   any answer to a contact unless the request itself carried it;
/// - the statuses: auditors, reporting jobs and the administrator never change anything
///   (403); a contact is refused every command type contacts do not send (403, whatever the
///   target) and is never told "not found" about a stream of its own organisation it may
///   see; staff see every stream (never 404 for one that exists); a missing stream is 404.
@Suite("HTTP: generated authorization matrix of every command type")
struct AuthorizationMatrixTests {
    /// One organisation's streams in the fixture.
    struct Org {
        var id: String
        var openCase: String          // a case reported by its designated contact
        var basicCase: String?        // a case reported by its basic contact
        var closedCase: String?
        var incident: Int
        var feature: String
        var designated: String
    }
    static let acme = Org(id: "acme", openCase: "A2", basicCase: "A1", closedCase: nil, incident: 1, feature: "FA", designated: "c-acme-d")
    static let globex = Org(id: "globex", openCase: "G1", basicCase: nil, closedCase: "G2", incident: 2, feature: "FG", designated: "c-globex-d")

    /// Text that names globex's data: none of it may reach an acme contact unless it sent it.
    static let globexMarkers = ["globex", "Globex", "G1", "G2", "FG", "c-globex", "Subject G", "OPI-2", "Operations G"]
    static let acmeMarkers = ["acme", "Acme", "A1", "A2", "FA", "c-acme", "Subject A", "OPI-1", "Operations A"]

    enum Family { case organisation, `case`, incident, featureRequest, version }

    static func family(of type: String) -> Family {
        if OrganisationCommand.messageTypes.contains(where: { $0.type == type }) { return .organisation }
        if CaseCommand.messageTypes.contains(where: { $0.type == type }) { return .case }
        if IncidentCommand.messageTypes.contains(where: { $0.type == type }) { return .incident }
        if FeatureRequestCommand.messageTypes.contains(where: { $0.type == type }) { return .featureRequest }
        return .version
    }

    static let creating: Set<String> = [OpenCase.type, RegisterOrganisation.type, DeclareIncident.type, SubmitFeatureRequest.type]

    /// Every command type the server knows.
    static let commandTypes: [String] = DomainCommand.messageTypes.map { $0.type }

    /// A stream a request goes to, and what of the request names a target (put aside when
    /// answers are compared).
    struct Target {
        var stream: String
        var organisation: String
        var id: String
    }

    /// The target of `type` in `org` for `who`; `nil` org: the missing one.
    static func target(_ type: String, org: Org?, who: Who, fresh: String) -> Target {
        let orgID = org?.id ?? "nowhere"
        switch family(of: type) {
        case .organisation:
            return Target(stream: "org-\(orgID)", organisation: orgID, id: orgID)
        case .case:
            if type == OpenCase.type { return Target(stream: "case-\(fresh)", organisation: orgID, id: fresh) }
            guard let org else { return Target(stream: "case-nope", organisation: orgID, id: "nope") }
            let id = who == .acmeBasic ? (org.basicCase ?? org.openCase) : org.openCase
            return Target(stream: "case-\(id)", organisation: orgID, id: id)
        case .incident:
            if type == DeclareIncident.type { return Target(stream: "OPI-\(fresh.hashValue & 0xFFFF + 100)", organisation: orgID, id: fresh) }
            let n = org?.incident ?? 99
            return Target(stream: "OPI-\(n)", organisation: orgID, id: "\(n)")
        case .featureRequest:
            if type == SubmitFeatureRequest.type { return Target(stream: "feature-\(fresh)", organisation: orgID, id: fresh) }
            let id = org?.feature ?? "nope"
            return Target(stream: "feature-\(id)", organisation: orgID, id: id)
        case .version:
            return org == nil ? Target(stream: "policy-nope", organisation: orgID, id: "nope")
                              : Target(stream: "policy-timecare-se", organisation: orgID, id: "timecare-se")
        }
    }

    /// A payload of `type` that its schema accepts, pointing at `target`.
    static func payload(_ type: String, _ target: Target, who: Who) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/commands/\(type).schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        let required = Set(schema["required"] as? [String] ?? [])
        var out: [String: Any] = [:]
        for (name, property) in properties where required.contains(name) {
            switch name {
            case "caseID": out[name] = type == OpenCase.type ? target.id : "A2"
            case "organisationID": out[name] = target.organisation
            case "contactID": out[name] = type == OpenCase.type ? (who.caller.kind == .contact ? who.caller.id : "c-\(target.organisation)-d") : "c-probe"
            case "featureID": out[name] = target.id
            case "incidentNumber": out[name] = Int(target.stream.dropFirst(4)) ?? 1
            case "affectedOrganisations": out[name] = [target.organisation]
            case "subsetOfClients", "callMe", "optedOut", "granted": out[name] = false
            case "affectedServices": out[name] = ["portal"]
            case "cc": out[name] = [String]()
            case "sha256": out[name] = String(repeating: "ab", count: 32)
            case "email": out[name] = "probe@probe.example"
            case "severity", "priority": out[name] = "P2"
            case "region": out[name] = "sweden"
            case "policyName": out[name] = "timecare-se"
            case "start": out[name] = "2027-01-04T10:00:00Z"
            case "end": out[name] = "2027-01-04T12:00:00Z"
            case "name" where family(of: type) == .version: out[name] = target.id
            case "content": out[name] = "{}"
            default:
                if let values = property["enum"] as? [Any], let first = values.first {
                    out[name] = (type == CloseCase.type && name == "reason") ? "cancelled" : first
                } else {
                    switch property["type"] as? String {
                    case "integer": out[name] = (name == "size" ? 10 : name == "version" ? 99 : 3)
                    case "boolean": out[name] = false
                    case "array": out[name] = [String]()
                    default: out[name] = "probe"
                    }
                }
            }
        }
        return out
    }

    /// One answer: status and the error object (or the whole body on success).
    struct Answer {
        var status: HTTPResponse.Status
        var text: String
        var error: [String: Any]
    }

    static func send(_ client: some TestClientProtocol, _ f: Fixture, _ who: Who, _ type: String, _ target: Target) async throws -> (Answer, String) {
        let body = try commandJSON(type, target.stream, try payload(type, target, who: who))
        return try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(who, jsonHeaders), body: jsonBody(body)) { response in
            let text = String(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            return (Answer(status: response.status, text: text, error: object?["error"] as? [String: Any] ?? [:]), body)
        }
    }

    /// The error object with what the request named of its target put aside.
    static func normalised(_ answer: Answer, _ target: Target) -> String {
        var text = answer.text
        for literal in [target.stream, target.organisation, target.id] where literal.count > 1 {
            text = text.replacingOccurrences(of: literal, with: "<target>")
        }
        return "\(answer.status.code) \(text)"
    }

    // Serialized: 42 data directories, each with a live projection runner, at once starve the
    // rest of the suite on a 2-core machine.
    @Test("other organisation's stream answers exactly like a missing one; statuses by kind and access", .serialized, arguments: commandTypes)
    func commandMatrix(type: String) async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await Self.addStreams(f)
        let contactTypes = Authorization.contactCommandTypes
        // Staff last: their commands change what the contacts' would see.
        let order: [Who] = [.acmeBasic, .acmeReadOnly, .acmeDesignated, .globexDesignated, .auditor, .reportingJob, .admin, .staff]
        try await f.app().test(.router) { client in
            for who in order {
                let own = who == .globexDesignated ? Self.globex : Self.acme
                let other = who == .globexDesignated ? Self.acme : Self.globex
                let markers = who == .globexDesignated ? Self.acmeMarkers : Self.globexMarkers
                let fresh = { "p\(UUID().uuidString.lowercased().prefix(8))" }
                let missingTarget = Self.target(type, org: nil, who: who, fresh: fresh())
                let otherTarget = Self.target(type, org: other, who: who, fresh: fresh())
                let ownTarget = Self.target(type, org: own, who: who, fresh: fresh())
                let (missing, _) = try await Self.send(client, f, who, type, missingTarget)
                let (foreign, foreignRequest) = try await Self.send(client, f, who, type, otherTarget)
                let (mine, _) = try await Self.send(client, f, who, type, ownTarget)
                let cell = "\(type) as \(who)"

                // Nothing answered 5xx.
                for answer in [missing, foreign, mine] { #expect(answer.status.code < 500, "\(cell): \(answer.text)") }

                switch who.caller.kind {
                case .admin, .auditor, .reportingJob:
                    for answer in [missing, foreign, mine] { #expect(answer.status == .forbidden, "\(cell): \(answer.text)") }
                case .contact:
                    if !contactTypes.contains(type) {
                        for answer in [missing, foreign, mine] { #expect(answer.status == .forbidden, "\(cell): \(answer.text)") }
                    } else {
                        #expect(mine.status != .notFound, "\(cell) on its own organisation's \(ownTarget.stream): \(mine.text)")
                    }
                    // The other organisation's stream is answered exactly like a missing one.
                    #expect(Self.normalised(foreign, otherTarget) == Self.normalised(missing, missingTarget), "\(cell)")
                    #expect(foreign.status.code >= 400, "\(cell) changed another organisation: \(foreign.text)")
                    for key in ["status", "allowed", "rule", "currentVersion", "version"] {
                        #expect(foreign.error[key] == nil, "\(cell): \(key) in \(foreign.text)")
                    }
                    if Self.family(of: type) == .case, type != OpenCase.type, let closed = other.closedCase {
                        // A closed case of the other organisation too.
                        let closedTarget = Target(stream: "case-\(closed)", organisation: other.id, id: closed)
                        let (answer, _) = try await Self.send(client, f, who, type, closedTarget)
                        #expect(Self.normalised(answer, closedTarget) == Self.normalised(missing, missingTarget), "\(cell) on \(closed)")
                    }
                    for marker in markers where foreign.text.contains(marker) || mine.text.contains(marker) || missing.text.contains(marker) {
                        #expect(foreignRequest.contains(marker), "\(cell): \(marker) leaked: \(foreign.text) / \(mine.text)")
                    }
                case .staff:
                    if !Self.creating.contains(type), Self.family(of: type) != .version {
                        #expect(missing.status == .notFound, "\(cell): \(missing.text)")
                        #expect(foreign.status != .notFound && mine.status != .notFound, "\(cell): \(foreign.text) / \(mine.text)")
                    }
                }
                if missing.status == .notFound {
                    #expect(missing.error["code"] as? String == "not-found", "\(cell): \(missing.text)")
                    #expect(Set(missing.error.keys).isSubset(of: ["code", "message"]), "\(cell): \(missing.text)")
                }
            }
        }
    }

    @Test("a command that starts a stream on an existing one is refused alike, whoever the stream belongs to")
    func takenStreams() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.router) { client in
            var answers: [String] = []
            for id in ["A2", "G1"] {
                let payload = openCasePayload(id, contact: "c-acme-d", org: "acme")
                try await client.execute(uri: "/v1/commands", method: .post, headers: f.auth(.acmeDesignated, jsonHeaders),
                                         body: jsonBody(try commandJSON("open-case", "case-\(id)", payload))) { response in
                    let error = try expectError(response, .conflict, "conflict")
                    #expect(error["status"] == nil && error["rule"] == nil)
                    answers.append(String(buffer: response.body).replacingOccurrences(of: id, with: "<id>"))
                    #expect(!String(buffer: response.body).contains("globex"))
                }
            }
            #expect(answers[0] == answers[1])
        }
    }

    /// The fixture's streams besides its three cases: a closed globex case, an incident and a
    /// feature request per organisation.
    static func addStreams(_ f: Fixture) async throws {
        try await f.send("open-case", "case-G2", openCasePayload("G2", contact: "c-globex-d", org: "globex"), as: Who.globexDesignated.caller.principal!)
        try await f.send("close-case", "case-G2", ["reason": "cancelled"], as: Who.globexDesignated.caller.principal!)
        let operations = Principal.staff("ops", .operations)
        for (n, org) in [(1, "acme"), (2, "globex")] {
            try await f.send("declare-incident", "OPI-\(n)", [
                "incidentNumber": n, "title": "Operations \(org == "acme" ? "A" : "G")", "affectedServices": ["portal"],
                "origin": "own", "affectedOrganisations": [org], "subsetOfClients": false], as: operations)
        }
        for (id, org) in [("FA", "acme"), ("FG", "globex")] {
            try await f.send("submit-feature-request", "feature-\(id)", [
                "featureID": id, "organisationID": org, "subject": "Subject \(id)", "description": "d", "product": "TimeCare"])
        }
        try await f.runner.catchUp()
    }
}
