import CaseDomain
import EventLog
import Foundation
import Logging
import Projections
import Testing

private func schema(_ path: String) throws -> SchemaSubsetValidator {
    SchemaSubsetValidator(root: try TestJSON.parse(Data(contentsOf: URL(fileURLWithPath: repositoryRoot()).appendingPathComponent(path))))
}

/// A data directory holding a synthetic history of `cases` cases and some incidents.
private func syntheticDataDir(cases: Int, name: String = #function) async throws -> String {
    let dir = temporaryPath(name)
    var config = EventLog.Configuration()
    config.environment.durability = .noSync
    let log = try EventLog.open(directory: dir, configuration: config, logger: Logger(label: "cli-test"))
    defer { log.close() }
    var history = SyntheticHistory()
    history.cases = cases
    history.incidents = 6
    let appends = try history.appends(catalog: try PolicyCatalog.shipped())
    var i = 0
    while i < appends.count {
        _ = try await log.append(Array(appends[i..<min(i + 500, appends.count)]))
        i += 500
    }
    return dir
}

@Suite struct ReportCLITests {
    @Test("R8.1 report cases: CSV header, quoting, paging and JSON schema")
    func caseReport() async throws {
        let dir = try await syntheticDataDir(cases: 120)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = try docket(["report", "cases", "--data-dir", dir, "--format", "csv", "--all"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.first == "Subject,Case #,Date Created,Reported By,Date Last Updated,Status,Site/URL/Acct")
        #expect(lines.count == 121)
        // Subjects hold a comma and quotes: proper CSV quoting.
        #expect(lines[1].hasPrefix("\"Subject C1"))
        #expect(lines[1].contains("\"\"quoted\"\"\""))

        let page = try docket(["report", "cases", "--data-dir", dir, "--limit", "25", "--organisation", "org1", "--sort", "updated"])
        #expect(page.status == 0, "\(page.stderr)")
        let json = try TestJSON.parse(Data(page.stdout.utf8))
        #expect(try schema("schemas/cli/report-cases.schema.json").errors(json) == [])
        let rows = json["rows"]?.array ?? []
        #expect(rows.count == 25 && rows.allSatisfy { $0["organisationID"]?.string == "org1" })
        let cursor = try #require(json["nextCursor"]?.string)
        let next = try docket(["report", "cases", "--data-dir", dir, "--limit", "25", "--organisation", "org1", "--sort", "updated",
                               "--cursor", cursor])
        let nextRows = try TestJSON.parse(Data(next.stdout.utf8))["rows"]?.array ?? []
        #expect(!nextRows.isEmpty && Set(nextRows.compactMap { $0["caseID"]?.string }).isDisjoint(with: rows.compactMap { $0["caseID"]?.string }))

        let bad = try docket(["report", "cases", "--data-dir", dir, "--sort", "sideways"])
        #expect(bad.status == 64 && bad.stderr.contains("--sort sideways"))
    }

    @Test("R6.6, R5.4, R8.2: incident, survey and SLA reports validate against their schemas")
    func otherReports() async throws {
        let dir = try await syntheticDataDir(cases: 150)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let incidents = try docket(["report", "incidents", "--data-dir", dir, "--from", "2025-01-01", "--to", "2027-12-31"])
        #expect(incidents.status == 0, "\(incidents.stderr)")
        let ij = try TestJSON.parse(Data(incidents.stdout.utf8))
        #expect(try schema("schemas/cli/report-incidents.schema.json").errors(ij) == [])
        #expect((ij["current"]?.array?.count ?? 0) + (ij["past"]?.array?.count ?? 0) == 6)
        let month = try docket(["report", "incidents", "--data-dir", dir, "--month", "2026-01", "--format", "csv"])
        #expect(month.status == 0 && month.stdout.hasPrefix("Incident,Title,Origin,Colour,State,Declared,Resolved,Current Alert,Root Cause\n"))

        let surveys = try docket(["report", "surveys", "--data-dir", dir, "--period", "quarter"])
        #expect(surveys.status == 0, "\(surveys.stderr)")
        let sj = try TestJSON.parse(Data(surveys.stdout.utf8))
        #expect(try schema("schemas/cli/report-surveys.schema.json").errors(sj) == [])
        #expect((sj["surveys"]?.number ?? 0) > 0)

        let sla = try docket(["report", "sla", "--data-dir", dir])
        #expect(sla.status == 0, "\(sla.stderr)")
        let lj = try TestJSON.parse(Data(sla.stdout.utf8))
        #expect(try schema("schemas/cli/report-sla.schema.json").errors(lj) == [])
        #expect(lj["cases"]?.number == 150)
        let slaCSV = try docket(["report", "sla", "--data-dir", dir, "--format", "csv", "--period", "year"])
        #expect(slaCSV.stdout.hasPrefix("Policy,Priority,Team,Period,Target,Met,Breached,Pending,Share\n"))
    }

    @Test("rebuild swaps in fresh tables and prints one JSON line per projection")
    func rebuild() async throws {
        let dir = try await syntheticDataDir(cases: 60)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try docket(["report", "cases", "--data-dir", dir, "--all"])
        let result = try docket(["rebuild", "--data-dir", dir])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(try jsonObject(String(lines[0]))["projection"] as? String == "cases")
        let after = try docket(["report", "cases", "--data-dir", dir, "--all"])
        #expect(before.stdout == after.stdout)
        let unknown = try docket(["rebuild", "--data-dir", dir, "--projection", "nope"])
        #expect(unknown.status == 64 && unknown.stderr.contains("no projection named nope"))
    }
}
