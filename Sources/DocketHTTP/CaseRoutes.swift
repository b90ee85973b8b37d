import CaseDomain
import DocketJSON
import CommandHandling
import Foundation
import HTTPTypes
import Hummingbird
import Projections

/// Queries of the case projection: one case, case lists, a case's flags and surveys.
/// Contacts see their organisation's cases only (basic contacts their own); anything else
/// is 404, as if it did not exist (R1.2, R1.9). Reporting jobs read projections (R1.8).
struct CaseRoutes {
    let dependencies: ServerDependencies
    let queries: CaseQueries
    let readYourWritesTimeout: Duration
    var access: ReadAccess { ReadAccess(commands: dependencies.commands) }

    static let readers: CallerKinds = [.contact, .staff, .auditor, .reportingJob]

    struct Flags: Encodable {
        var caseId: String
        var flags: [EscalationFlag]
    }
    struct Surveys: Encodable {
        var caseId: String
        var surveys: [SurveyRow]
    }

    func add(to group: RouterGroup<DocketRequestContext>) {
        // The case list, and the case report (R8.1) as JSON or CSV: the same query.
        for path in ["cases", "reports/cases"] {
            group.get(RouterPath(stringLiteral: path)) { request, context in
                let caller = try context.require(Self.readers, doing: "list cases")
                try await waitForReadPosition(request)
                let format = try reportFormat(request)
                if format == "csv" {
                    let page = try list(request, caller)
                    let lines = [Reports.caseCSVHeader] + page.rows.map(Reports.caseCSVLine)
                    return csvResponse(lines)
                }
                // JSON: the rows' stored JSON spliced into the page (what encoding `Page` writes).
                let page = try listJSON(request, caller)
                var writer = JSONWriter(capacity: 64 + page.rows.reduce(0) { $0 + $1.count + 1 })
                writer.append("{")
                writer.key("cases")
                writer.append("[")
                for (i, row) in page.rows.enumerated() {
                    if i > 0 { writer.append(",") }
                    writer.appendRaw(row)
                }
                writer.append("],")
                writer.key("next")
                if let next = page.next { writer.writeString(next) } else { writer.append("null") }
                writer.append("}")
                return jsonResponse(bytes: writer.out)
            }
        }
        group.get("cases/{id}") { request, context in
            let caller = try context.require(Self.readers, doing: "read cases")
            let id = try caseID(context)
            try await waitForReadPosition(request)
            return jsonResponse(bytes: try visibleRowJSON(id, caller))
        }
        group.get("cases/{id}/flags") { request, context in
            let row = try await visibleRow(request, context, doing: "read a case's flags")
            return jsonResponse(Flags(caseId: row.caseID, flags: try queries.flags(row.caseID)))
        }
        group.get("cases/{id}/surveys") { request, context in
            let row = try await visibleRow(request, context, doing: "read a case's surveys")
            return jsonResponse(Surveys(caseId: row.caseID, surveys: try queries.surveys(row.caseID)))
        }
    }

    /// The page of cases the request's filters select, scoped for a contact: their
    /// organisation's cases (basic contacts: their own), whatever they ask (R1.9).
    func list(_ request: Request, _ caller: Caller) throws -> (rows: [CaseRow], next: String?) {
        guard let query = try caseQuery(request, caller) else { return ([], nil) }
        do {
            let page = try queries.list(query)
            return (page.rows, page.nextCursor)
        } catch let error as QueryError {
            // The parameters are each valid; together (a cursor of another query, a sort that
            // does not combine with a filter) they cannot be answered.
            throw APIError(.unprocessableContent, code: "query-refused", error.message)
        }
    }

    /// ``list(_:_:)`` with each row as its stored JSON.
    func listJSON(_ request: Request, _ caller: Caller) throws -> (rows: [[UInt8]], next: String?) {
        guard let query = try caseQuery(request, caller) else { return ([], nil) }
        do {
            let page = try queries.listJSON(query)
            return (page.rows, page.nextCursor)
        } catch let error as QueryError {
            // The parameters are each valid; together (a cursor of another query, a sort that
            // does not combine with a filter) they cannot be answered.
            throw APIError(.unprocessableContent, code: "query-refused", error.message)
        }
    }

    /// The query the request's parameters describe, scoped for the caller; `nil` when a
    /// contact asks for another organisation (an empty page, R1.9).
    func caseQuery(_ request: Request, _ caller: Caller) throws -> CaseQuery? {
        var query = CaseQuery()
        query.organisation = try queryText(request, "organisation")
        query.status = try queryText(request, "status")
        query.priority = try queryText(request, "priority")
        query.owner = try queryText(request, "owner")
        query.team = try queryText(request, "team")
        query.cursor = try queryText(request, "cursor")
        if let sort = try queryText(request, "sort") {
            guard let value = CaseSort(rawValue: sort) else {
                throw APIError.badRequest("sort must be one of \(CaseSort.allCases.map(\.rawValue).joined(separator: ", "))", path: "sort")
            }
            query.sort = value
        }
        if let order = try queryText(request, "order") {
            guard order == "asc" || order == "desc" else { throw APIError.badRequest("order must be asc or desc", path: "order") }
            query.descending = order == "desc"
        }
        query.limit = Int(try queryInt(request, "limit", default: 50, range: 1...1000))
        if caller.kind == .contact {
            // Scoped by the one decision point: the contact's own organisation, the cases its
            // current access level reads (basic: its own); nothing when it is not on the list.
            guard let rights = try access.rights(caller), let own = rights.principal.organisationID,
                  Authorization.mayView(rights, .organisation(own)) else { return nil }
            if let asked = query.organisation, asked != own { return nil }
            query.organisation = own
            if rights.principal.access == .basic { query.reportedBy = rights.principal.id }
        }
        return query
    }

    /// Who may see a case: the two fields of its row the access check reads.
    struct RowVisibility: Decodable {
        var organisationID: String
        var reportedBy: String
    }

    /// The stored JSON of the `{id}` case's row when the caller may see it; 404 otherwise.
    ///
    /// The case projection stores each row as the compact, key-sorted JSON of its
    /// ``CaseRow`` (schemas/storage.md, key `0x02` ‖ case id), which is the response's shape
    /// and bytes, so the row is answered as stored instead of being decoded and encoded again.
    func visibleRowJSON(_ id: String, _ caller: Caller) throws -> [UInt8] {
        guard let stored = try queries.rowJSON(id) else {
            throw APIError(.notFound, code: "case-not-found", "no case \(id) visible to you")
        }
        if caller.kind == .contact {
            // The wire codec's decoder: Foundation's built a dictionary of the whole row per request.
            let visibility = try DocketJSONDecoder().decode(RowVisibility.self, from: stored)
            guard try access.mayView(caller, .case(organisation: visibility.organisationID, reportedBy: visibility.reportedBy)) else {
                throw APIError(.notFound, code: "case-not-found", "no case \(id) visible to you")
            }
        }
        return stored
    }

    /// The row of the `{id}` case when the caller may see it; 404 otherwise.
    /// Waits for the request's `Docket-Position` first, like every query.
    func visibleRow(_ request: Request, _ context: DocketRequestContext, doing what: String) async throws -> CaseRow {
        let caller = try context.require(Self.readers, doing: what)
        let id = try caseID(context)
        try await waitForReadPosition(request)
        guard let row = try queries.row(id),
              try access.mayView(caller, .case(organisation: row.organisationID, reportedBy: row.reportedBy)) else {
            throw APIError(.notFound, code: "case-not-found", "no case \(id) visible to you")
        }
        return row
    }

    func waitForReadPosition(_ request: Request) async throws {
        try await LogRoutes(dependencies: dependencies, readYourWritesTimeout: readYourWritesTimeout).waitForReadPosition(request)
    }
}
