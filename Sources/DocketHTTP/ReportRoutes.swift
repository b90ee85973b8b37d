import CaseDomain
import Foundation
import HTTPTypes
import Hummingbird
import Projections

/// Reports of the read side as JSON or CSV (`format=json|csv`): survey response rates and
/// scores (R5.4) and SLA compliance (R8.2), for staff, auditors and reporting jobs. (The
/// case report is `/v1/reports/cases`, the incident report `/v1/reports/incidents`.)
struct ReportRoutes {
    let dependencies: ServerDependencies
    let queries: CaseQueries
    let readYourWritesTimeout: Duration

    static let readers: CallerKinds = [.staff, .auditor, .reportingJob]

    struct SurveyReport: Encodable {
        var granularity: String
        var surveys: Int
        var groups: [SurveyGroup]
    }
    struct SLAReport: Encodable {
        var granularity: String
        var cases: Int
        var groups: [SLAComplianceGroup]
    }

    func add(to group: RouterGroup<DocketRequestContext>) {
        group.get("reports/surveys") { request, context in
            _ = try context.require(Self.readers, doing: "read reports")
            let (format, granularity, organisation) = try await parameters(request)
            let rows = try queries.allSurveys().filter { organisation == nil || $0.organisationID == organisation }
            let groups = Reports.surveys(rows, granularity: granularity)
            if format == "csv" {
                return csvResponse(Reports.surveysCSV(groups))
            }
            return jsonResponse(SurveyReport(granularity: granularity.rawValue, surveys: rows.count, groups: groups))
        }
        group.get("reports/sla") { request, context in
            _ = try context.require(Self.readers, doing: "read reports")
            let (format, granularity, organisation) = try await parameters(request)
            let rows = try queries.allRows().filter { organisation == nil || $0.organisationID == organisation }
            let groups = Reports.slaCompliance(rows, granularity: granularity)
            if format == "csv" {
                return csvResponse(Reports.slaCSV(groups))
            }
            return jsonResponse(SLAReport(granularity: granularity.rawValue, cases: rows.count, groups: groups))
        }
    }

    /// `format`, `granularity` (month, quarter, year) and `organisation`, after waiting for `Docket-Position`.
    func parameters(_ request: Request) async throws -> (String, PeriodGranularity, String?) {
        try await LogRoutes(dependencies: dependencies, readYourWritesTimeout: readYourWritesTimeout).waitForReadPosition(request)
        let format = try reportFormat(request)
        var granularity = PeriodGranularity.month
        if let text = try queryText(request, "granularity") {
            guard let value = PeriodGranularity(rawValue: text) else {
                throw APIError.badRequest("granularity must be month, quarter or year", path: "granularity")
            }
            granularity = value
        }
        return (format, granularity, try queryText(request, "organisation"))
    }
}


/// A query parameter of 1-200 characters, `nil` when absent, 400 otherwise.
func queryText(_ request: Request, _ name: String) throws(APIError) -> String? {
    guard let value = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
    guard (1...200).contains(value.utf8.count) else {
        throw APIError.badRequest("query parameter \(name) must be 1 to 200 characters", path: name)
    }
    return value
}

/// The `format` query parameter: `json` (default) or `csv`.
func reportFormat(_ request: Request) throws(APIError) -> String {
    let format = try queryText(request, "format") ?? "json"
    guard format == "json" || format == "csv" else { throw APIError.badRequest("format must be json or csv", path: "format") }
    return format
}

/// A CSV response (RFC 4180 lines, CRLF-free: one `\n` per line).
func csvResponse(_ lines: [String]) -> Response {
    Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
             body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
}
