import ArgumentParser
import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import Projections

/// Output format of reports.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case json, csv
}

/// Opens the log and the projections, brings them up to date (catch-up) and runs `body`.
func withProjections(_ data: DataDirOptions, catalog: CatalogOptions, progressLabel: String? = nil, catchUp: Bool = true,
                     _ body: (EventLog, ProjectionRunner) async throws -> Void) async throws {
    try await runReportingErrors {
        do {
            let log = try openLog(data, create: false)
            defer { log.close() }
            let runner = try ProjectionRunner(log: log, projections: try docketProjections(catalog.load(log: log)), logger: cliLogger)
            if catchUp { try await runner.catchUp() }
            try await body(log, runner)
        } catch let error as ProjectionError {
            throw CLIFailure(message: error.message, code: error.code == .unknownProjection ? Exit.usage : Exit.ioError)
        } catch let error as QueryError {
            throw CLIFailure(message: error.message, code: Exit.usage)
        } catch let error as PolicyError {
            throw CLIFailure(message: error.description, code: Exit.dataError)
        }
    }
}

/// The projections the CLI maintains.
func docketProjections(_ catalog: PolicyCatalog) -> [any Projection] {
    [CaseProjection(catalog: catalog), IncidentProjection()]
}

/// The projections `docket serve` maintains, reading the catalog it shares with its command
/// handler (a version recorded while it runs applies at once, R4.9).
func docketProjections(_ catalog: LiveCatalog) -> [any Projection] {
    [CaseProjection(liveCatalog: catalog), IncidentProjection()]
}

/// Parses `YYYY-MM-DD` (the start of that UTC day, or with `endOfDay` its last millisecond)
/// or a full `YYYY-MM-DDTHH:MM:SS[.sss]Z`.
func parseReportDate(_ text: String, option: String, endOfDay: Bool = false) throws -> Date {
    if text.utf8.count == 10, let day = DomainTime.parse(text + "T00:00:00.000Z") {
        return endOfDay ? day.addingTimeInterval(86_400 - 0.001) : day
    }
    if let instant = DomainTime.parse(text) { return instant }
    throw CLIFailure(message: "\(option) \(text) is not a date like 2026-03-31 or 2026-03-31T09:00:00Z", code: Exit.usage)
}

/// Prints a Codable value as JSON (sorted keys, dates as 2026-03-02T09:00:00.000Z).
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try MessageCoding.encoder().encode(value), as: UTF8.self))
}

/// `docket report ...`: reports from the projections (R8).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports from the projections: cases (R8.1), incidents (R6.6), surveys (R5.4), SLA compliance (R8.2).",
        discussion: "Each report first brings the projections up to date with the log. --format json prints one JSON document a program can read.",
        subcommands: [Cases.self, Incidents.self, Surveys.self, SLA.self, Status.self])
}

extension ReportCommand {
    struct Cases: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The case report (R8.1): filtered, sorted, paged.",
            discussion: """
                JSON: {"rows":[...],"nextCursor":"..."}; pass nextCursor to --cursor \
                for the next page. CSV columns: Subject,Case #,Date Created,Reported By,Date Last Updated,Status,Site/URL/Acct.
                """)

        @OptionGroup var data: DataDirOptions
        @OptionGroup var catalog: CatalogOptions
        @Option(help: "Organisation id.") var organisation: String?
        @Option(help: "Status, e.g. investigating or closed.") var status: String?
        @Option(help: "Priority.") var priority: String?
        @Option(help: "Owner (staff id).") var owner: String?
        @Option(help: "Team.") var team: String?
        @Option(help: "Contact who reported the case (\"my cases\").") var reportedBy: String?
        @Option(help: "Created on or after (YYYY-MM-DD or an ISO instant).") var createdFrom: String?
        @Option(help: "Created on or before.") var createdTo: String?
        @Option(help: "Closed on or after.") var closedFrom: String?
        @Option(help: "Closed on or before.") var closedTo: String?
        @Option(help: "Sort by created, updated or closed.") var sort: String = "created"
        @Flag(help: "Oldest first (default: newest first).") var ascending = false
        @Option(help: "Rows per page (1-1000).") var limit: Int = 50
        @Option(help: "nextCursor of the previous page.") var cursor: String?
        @Flag(help: "Every page (ignores --cursor).") var all = false
        @Option(help: "json or csv.") var format: ReportFormat = .json

        func run() async throws {
            try await withProjections(data, catalog: catalog) { _, runner in
                guard let sortKey = CaseSort(rawValue: sort) else {
                    throw CLIFailure(message: "--sort \(sort) is not one of created, updated, closed", code: Exit.usage)
                }
                var q = CaseQuery()
                q.organisation = organisation; q.status = status; q.priority = priority; q.owner = owner; q.team = team
                q.reportedBy = reportedBy
                q.createdFrom = try createdFrom.map { try parseReportDate($0, option: "--created-from") }
                q.createdTo = try createdTo.map { try parseReportDate($0, option: "--created-to", endOfDay: true) }
                q.closedFrom = try closedFrom.map { try parseReportDate($0, option: "--closed-from") }
                q.closedTo = try closedTo.map { try parseReportDate($0, option: "--closed-to", endOfDay: true) }
                q.sort = sortKey; q.descending = !ascending; q.limit = limit; q.cursor = all ? nil : cursor
                let queries = CaseQueries(runner: runner)
                var page = try queries.list(q)
                var rows = page.rows
                while all, let next = page.nextCursor {
                    q.cursor = next
                    page = try queries.list(q)
                    rows += page.rows
                }
                switch format {
                case .json:
                    try printJSON(CaseReportJSON(rows: rows, nextCursor: page.nextCursor))
                case .csv:
                    print(Reports.caseCSVHeader)
                    for row in rows { print(Reports.caseCSVLine(row)) }
                }
            }
        }
    }

    struct Incidents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The incident report (R6.6): current and past incidents with colour, current alert and root cause.",
            discussion: "Default period: the current month (UTC).")

        @OptionGroup var data: DataDirOptions
        @OptionGroup var catalog: CatalogOptions
        @Option(help: "A month, YYYY-MM.") var month: String?
        @Option(help: "A quarter, YYYY-Q1..YYYY-Q4.") var quarter: String?
        @Flag(help: "Year to date (up to today, or --as-of).") var ytd = false
        @Option(help: "For --ytd and the default month: the reference day instead of today.") var asOf: String?
        @Option(help: "A single date, YYYY-MM-DD.") var date: String?
        @Option(help: "Range start, YYYY-MM-DD (with --to).") var from: String?
        @Option(help: "Range end, YYYY-MM-DD (with --from).") var to: String?
        @Option(help: "json or csv.") var format: ReportFormat = .json

        func period() throws -> ReportPeriod {
            let chosen = [month != nil, quarter != nil, ytd, date != nil, from != nil || to != nil].filter { $0 }.count
            guard chosen <= 1 else {
                throw CLIFailure(message: "give at most one of --month, --quarter, --ytd, --date, --from/--to", code: Exit.usage)
            }
            let reference = try asOf.map { try parseReportDate($0, option: "--as-of") } ?? Date()
            if let month {
                let parts = month.split(separator: "-")
                guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else {
                    throw CLIFailure(message: "--month \(month) is not like 2026-03", code: Exit.usage)
                }
                return .month(year: y, month: m)
            }
            if let quarter {
                let parts = quarter.uppercased().split(separator: "-")
                guard parts.count == 2, let y = Int(parts[0]), parts[1].hasPrefix("Q"), let q = Int(parts[1].dropFirst()), (1...4).contains(q) else {
                    throw CLIFailure(message: "--quarter \(quarter) is not like 2026-Q1", code: Exit.usage)
                }
                return .quarter(year: y, quarter: q)
            }
            if ytd { return .yearToDate(asOf: reference) }
            if let date { return .day(try parseReportDate(date, option: "--date")) }
            if from != nil || to != nil {
                guard let from, let to else { throw CLIFailure(message: "a range needs both --from and --to", code: Exit.usage) }
                let f = try parseReportDate(from, option: "--from"), t = try parseReportDate(to, option: "--to")
                guard f <= t else { throw CLIFailure(message: "--from \(from) is after --to \(to)", code: Exit.usage) }
                return .range(from: f, to: t)
            }
            return .month(of: reference)
        }

        func run() async throws {
            try await withProjections(data, catalog: catalog) { _, runner in
                let report = try IncidentQueries(runner: runner).report(try period())
                switch format {
                case .json:
                    try printJSON(IncidentReportJSON(report))
                case .csv:
                    print("Incident,Title,Origin,Colour,State,Declared,Resolved,Current Alert,Root Cause")
                    for (state, records) in [("current", report.current), ("past", report.past)] {
                        for r in records {
                            let j = IncidentJSON(r)
                            print(Reports.csvLine([j.incident, j.title, j.origin, j.colour, state, DomainTime.format(j.declaredAt),
                                                   j.resolvedAt.map(DomainTime.format) ?? "", j.currentAlert?.message ?? "",
                                                   j.rootCause?.cause ?? ""]))
                        }
                    }
                }
            }
        }
    }

    struct Surveys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Satisfaction surveys (R5.4): response rate and mean scores per team, owner, organisation and priority, by period.",
            discussion: "One group per team, owner, organisation and priority in each period (--period).")

        @OptionGroup var data: DataDirOptions
        @OptionGroup var catalog: CatalogOptions
        @OptionGroup var options: AggregateReportOptions

        func run() async throws {
            try await withProjections(data, catalog: catalog) { _, runner in
                let filter = try options.filter()
                let rows = try CaseQueries(runner: runner).allSurveys().filter { filter($0.organisationID, $0.sentAt) }
                let period = options.period
                let groups = Reports.surveys(rows, granularity: period)
                switch options.format {
                case .json:
                    try printJSON(SurveyReportJSON(granularity: period.rawValue, surveys: rows.count, groups: groups))
                case .csv:
                    for line in Reports.surveysCSV(groups) { print(line) }
                }
            }
        }
    }

    struct SLA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sla",
            abstract: "SLA compliance (R8.2): the share of cases meeting each target per policy, priority, team and period.",
            discussion: "share = met / (met + breached); running clocks count as pending.")

        @OptionGroup var data: DataDirOptions
        @OptionGroup var catalog: CatalogOptions
        @OptionGroup var options: AggregateReportOptions

        func run() async throws {
            try await withProjections(data, catalog: catalog) { _, runner in
                let filter = try options.filter()
                let rows = try CaseQueries(runner: runner).allRows().filter { filter($0.organisationID, $0.createdAt) }
                let period = options.period
                let groups = Reports.slaCompliance(rows, granularity: period)
                switch options.format {
                case .json:
                    try printJSON(SLAReportJSON(granularity: period.rawValue, cases: rows.count, groups: groups))
                case .csv:
                    for line in Reports.slaCSV(groups) { print(line) }
                }
            }
        }
    }
}

extension ReportCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Projection progress: checkpoint, log head, lag and active slot, without catching up first.",
            discussion: "A lag of 0 means the projection has folded every event of the log.")

        @OptionGroup var data: DataDirOptions
        @OptionGroup var catalog: CatalogOptions

        func run() async throws {
            try await runReportingErrors {
                let log = try openLog(data, create: false)
                defer { log.close() }
                do {
                    let runner = try ProjectionRunner(log: log, projections: docketProjections(try catalog.load(log: log)), logger: cliLogger)
                    try printJSON(StatusJSON(projections: try runner.statuses().map {
                        StatusJSON.Projection(name: $0.name, checkpoint: $0.checkpoint, head: $0.head, lag: $0.lag, slot: $0.slot,
                                              failure: $0.failure)
                    }))
                } catch let error as ProjectionError {
                    throw CLIFailure(message: error.message, code: Exit.ioError)
                }
            }
        }
    }
}

/// `report status` JSON.
struct StatusJSON: Encodable {
    struct Projection: Encodable {
        var name: String
        var checkpoint: UInt64
        var head: UInt64
        var lag: UInt64
        var slot: String
        var failure: String?
    }
    var projections: [Projection]
}

extension PeriodGranularity: ExpressibleByArgument {}

/// Options of the aggregate reports (surveys: by send time; SLA: by creation time).
struct AggregateReportOptions: ParsableArguments {
    @Option(help: "Only this organisation.") var organisation: String?
    @Option(help: "Period: month, quarter or year (surveys by send time, SLA by creation time).")
    var period: PeriodGranularity = .month
    @Option(help: "On or after (YYYY-MM-DD or an ISO instant).") var from: String?
    @Option(help: "On or before (YYYY-MM-DD: the whole day).") var to: String?
    @Option(help: "json or csv.") var format: ReportFormat = .json

    /// Whether a row of `organisation` at `instant` is in the report.
    func filter() throws -> (String, Date) -> Bool {
        let f = try from.map { try parseReportDate($0, option: "--from") }
        let t = try to.map { try parseReportDate($0, option: "--to", endOfDay: true) }
        let organisation = organisation
        return { org, instant in
            (organisation == nil || org == organisation) && (f.map { instant >= $0 } ?? true) && (t.map { instant <= $0 } ?? true)
        }
    }
}

/// `report cases` JSON.
struct CaseReportJSON: Encodable {
    var rows: [CaseRow]
    var nextCursor: String?
}

/// `report surveys` JSON.
struct SurveyReportJSON: Encodable {
    var granularity: String
    var surveys: Int
    var groups: [SurveyGroup]
}

/// `report sla` JSON.
struct SLAReportJSON: Encodable {
    var granularity: String
    var cases: Int
    var groups: [SLAComplianceGroup]
}

/// One incident in `report incidents` JSON.
struct IncidentJSON: Encodable {
    struct Alert: Encodable {
        var kind: String
        var message: String
        var at: Date
    }
    var incident: String
    var number: Int
    var title: String
    var origin: String
    var colour: String
    var affectedServices: [String]
    var affectedOrganisations: [String]
    var subsetOfClients: Bool
    var declaredAt: Date
    var resolvedAt: Date?
    var occurredFrom: Date?
    var occurredTo: Date?
    var currentAlert: Alert?
    var rootCause: RootCauseAnalysis?
    var linkedCases: [String]

    init(_ r: IncidentRecord) {
        let s = r.state
        number = s.number ?? 0
        incident = StreamName.incident(number)
        title = s.title; origin = s.origin.rawValue; colour = r.colour
        affectedServices = s.affectedServices; affectedOrganisations = s.affectedOrganisations; subsetOfClients = s.subsetOfClients
        declaredAt = s.declaredAt ?? Date(timeIntervalSince1970: 0); resolvedAt = s.resolvedAt
        occurredFrom = s.occurredFrom; occurredTo = s.occurredTo
        currentAlert = r.currentAlert.map { Alert(kind: $0.kind ?? "alert", message: $0.text ?? "", at: $0.at) }
        rootCause = s.rca; linkedCases = s.linkedCases
    }
}

/// `report incidents` JSON.
struct IncidentReportJSON: Encodable {
    var period: String
    var from: Date
    var to: Date
    var current: [IncidentJSON]
    var past: [IncidentJSON]

    init(_ r: IncidentReport) {
        period = r.period; from = r.from; to = r.to
        current = r.current.map(IncidentJSON.init); past = r.past.map(IncidentJSON.init)
    }
}
