import CaseDomain
import CommandHandling
import Foundation
import HTTPTypes
import Hummingbird
import Projections

/// Queries of the incident projection: an incident, its timeline, the incident report
/// (R6.6). A contact sees incidents that name their organisation, or that affect "a subset
/// of clients" (unknown which, so every organisation is notified, R6.1), and no others (R1.9), with other organisations, recipients and linked cases left out; the
/// incident report needs incident-report access (R1.4).
struct IncidentRoutes {
    let dependencies: ServerDependencies
    let queries: IncidentQueries
    let readYourWritesTimeout: Duration
    var access: ReadAccess { ReadAccess(commands: dependencies.commands) }

    static let readers: CallerKinds = [.contact, .staff, .auditor, .reportingJob]

    /// An incident as the API shows it.
    struct IncidentView: Encodable {
        var number: Int?
        var colour: String
        var incident: IncidentState
        var currentAlert: TimelineEntry?
    }
    struct Timeline: Encodable {
        var number: Int
        var entries: [TimelineEntry]
    }
    struct Report: Encodable {
        var period: String
        var from: Date
        var to: Date
        var current: [IncidentView]
        var past: [IncidentView]
    }

    func add(to group: RouterGroup<DocketRequestContext>) {
        group.get("incidents/{number}") { request, context in
            let (caller, record) = try await visible(request, context, doing: "read incidents")
            return jsonResponse(view(record, for: caller))
        }
        group.get("incidents/{number}/timeline") { request, context in
            let (caller, record) = try await visible(request, context, doing: "read incident timelines")
            let number = record.state.number ?? 0
            var entries = try queries.timeline(number)
            if caller.kind == .contact { entries.removeAll { $0.caseID != nil } }
            return jsonResponse(Timeline(number: number, entries: entries))
        }
        group.get("reports/incidents") { request, context in
            let caller = try context.require(Self.readers, doing: "read the incident report")
            // The grant as the organisation's contact list holds it now (R1.4, R1.10).
            guard let rights = try access.rights(caller), rights.incidentReport else {
                throw APIError.forbidden("the incident report needs incident-report access (R1.4), which this contact does not hold")
            }
            try await waitForReadPosition(request)
            let period = try Self.period(request)
            let report = try queries.report(period)
            let mine = { (r: IncidentRecord) in Authorization.mayView(rights, Self.scope(r)) }
            return jsonResponse(Report(period: period.label, from: report.from, to: report.to,
                                       current: report.current.filter(mine).map { view($0, for: caller) },
                                       past: report.past.filter(mine).map { view($0, for: caller) }))
        }
    }

    /// The `{number}` incident when the caller may see it; 404 otherwise.
    func visible(_ request: Request, _ context: DocketRequestContext, doing what: String) async throws -> (Caller, IncidentRecord) {
        let caller = try context.require(Self.readers, doing: what)
        let text = try context.parameters.require("number")
        guard let number = Int(text), (1...Int(Int32.max)).contains(number) else {
            throw APIError.badRequest("an incident number is a whole number from 1 (the stream OPI-<number>)", path: "number")
        }
        try await waitForReadPosition(request)
        guard let record = try queries.incident(number), try access.mayView(caller, Self.scope(record)) else {
            throw APIError(.notFound, code: "incident-not-found", "no incident \(number) visible to you")
        }
        return (caller, record)
    }

    /// Whom an incident concerns, for the one decision point (R1.9): contacts see only those
    /// naming their organisation or affecting an unknown subset of clients.
    static func scope(_ record: IncidentRecord) -> StreamScope {
        .incident(organisations: record.state.affectedOrganisations, subsetOfClients: record.state.subsetOfClients)
    }

    /// The view of `record` for `caller`: a contact's leaves out other organisations,
    /// recipients and linked cases.
    func view(_ record: IncidentRecord, for caller: Caller) -> IncidentView {
        var state = record.state
        if caller.kind == .contact {
            state.affectedOrganisations = state.affectedOrganisations.filter { $0 == caller.organisationId }
            state.alertRecipients = []
            state.linkedCases = []
            state.maintenance = state.maintenance.map { var w = $0; w.recipients = []; return w }
        }
        return IncidentView(number: state.number, colour: record.colour, incident: state, currentAlert: record.currentAlert)
    }

    /// The report period: `month=YYYY-MM` (default: the current month), `quarter=YYYY-Qn`,
    /// or `from=YYYY-MM-DD&to=YYYY-MM-DD`.
    static func period(_ request: Request) throws(APIError) -> ReportPeriod {
        let q = request.uri.queryParameters
        if let month = q["month"].map(String.init) {
            let parts = month.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else {
                throw APIError.badRequest("month must look like 2026-03", path: "month")
            }
            return .month(year: y, month: m)
        }
        if let quarter = q["quarter"].map(String.init) {
            let parts = quarter.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), parts[1].count == 2, parts[1].first == "Q",
                  let n = Int(parts[1].dropFirst()), (1...4).contains(n) else {
                throw APIError.badRequest("quarter must look like 2026-Q1", path: "quarter")
            }
            return .quarter(year: y, quarter: n)
        }
        if q["from"] != nil || q["to"] != nil {
            // One of the two alone is that single date (R6.6).
            let day = { (name: String) throws(APIError) -> Date? in
                guard let text = q[Substring(name)] else { return nil }
                guard let date = DomainTime.parse(String(text) + "T00:00:00.000Z") else {
                    throw APIError.badRequest("\(name) must be a day like 2026-03-31", path: name)
                }
                return date
            }
            let given = (try day("from"), try day("to"))
            guard let from = given.0 ?? given.1, let to = given.1 ?? given.0 else {
                throw APIError.badRequest("from and to must be days like 2026-03-31", path: "from")
            }
            guard from <= to else {
                throw APIError(.unprocessableContent, code: "query-refused", "from must not be after to; the period runs from the first day to the last",
                               details: ["path": .string("from")])
            }
            return .range(from: from, to: to)
        }
        return .month(of: Date())
    }

    func waitForReadPosition(_ request: Request) async throws {
        try await LogRoutes(dependencies: dependencies, readYourWritesTimeout: readYourWritesTimeout).waitForReadPosition(request)
    }
}
