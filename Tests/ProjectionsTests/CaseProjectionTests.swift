import CaseDomain
import EventLog
import Foundation
import LMDB
import Testing
@testable import Projections

@Suite struct CaseProjectionTests {
    static func history(cases: Int, seed: UInt64 = 7) -> SyntheticHistory {
        var h = SyntheticHistory()
        h.cases = cases
        h.seed = seed
        return h
    }

    @Test func statesEqualTheDomainFoldAndRowsListEverything() async throws {
        try await withTempLog { log, _ in
            let appends = try Self.history(cases: 150).appends(catalog: shippedCatalog)
            try await appendAll(log, appends)
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await runner.catchUp(batchSize: 333)
            let q = CaseQueries(runner: runner)
            let streams = try log.streams(limit: 100_000).filter { $0.stream.hasPrefix("case-") }
            #expect(streams.count == 150)
            var kinds = Set<String>()
            for s in streams {
                let events = try log.readStream(s.stream, limit: 10_000).map {
                    try CaseEvent.decode(type: $0.type, schemaVersion: Int($0.schemaVersion), payload: $0.payload)
                }
                kinds.formUnion(events.map(\.type))
                let id = String(s.stream.dropFirst(5))
                let folded = CaseDecider.fold(events)
                #expect(try q.state(id) == folded)
                let row = try #require(try q.row(id))
                #expect(row.status == folded.status.rawValue && row.priority == folded.priority)
                #expect(row.lastUpdatedAt == folded.lastModifiedAt && row.reopenCount == folded.reopenCount)
                #expect(row.clocks.count == folded.clocks.count)
                #expect(try q.flags(id) == folded.flags)
                #expect(try q.surveys(id).map(\.surveyID) == folded.surveys.map(\.id))
            }
            // The history exercises most of the case event kinds.
            #expect(kinds.count >= 25, "event kinds seen: \(kinds.sorted())")
        }
    }

    @Test func filteredListsPageThroughExactlyTheMatchingCases() async throws {
        try await withTempLog { log, _ in
            try await appendAll(log, try Self.history(cases: 300, seed: 11).appends(catalog: shippedCatalog))
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await runner.catchUp()
            let q = CaseQueries(runner: runner)
            let all = try q.allRows()
            #expect(all.count == 300)
            let mid = all.map(\.createdAt).sorted()[150]
            var queries: [CaseQuery] = []
            for sort in [CaseSort.created, .updated] {
                for descending in [true, false] {
                    var base = CaseQuery()
                    base.sort = sort
                    base.descending = descending
                    base.limit = 17
                    queries.append(base)
                    var o = base; o.organisation = "org1"; queries.append(o)
                    var os = o; os.status = "closed"; queries.append(os)
                    var s = base; s.status = "investigating"; queries.append(s)
                    var w = base; w.owner = "s2"; queries.append(w)
                    var t = base; t.team = "apps"; t.priority = "high"; queries.append(t)
                    var c = base; c.createdFrom = mid; c.organisation = "org2"; queries.append(c)
                    var c2 = base; c2.createdTo = mid; queries.append(c2)
                }
            }
            var closed = CaseQuery(); closed.sort = .closed; closed.limit = 9; closed.organisation = "org0"; queries.append(closed)
            var closedRange = CaseQuery(); closedRange.closedFrom = mid; closedRange.limit = 13; queries.append(closedRange)
            for query in queries {
                var got: [String] = []
                var page = try q.list(query)
                got += page.rows.map(\.caseID)
                var guardCount = 0
                while let next = page.nextCursor, guardCount < 100 {
                    var again = query
                    again.cursor = next
                    page = try q.list(again)
                    #expect(page.rows.count <= query.limit)
                    got += page.rows.map(\.caseID)
                    guardCount += 1
                }
                let expected = all.filter { q.matches($0, query) && (query.sort != .closed || $0.closedAt != nil) }
                    .sorted { a, b in
                        let (x, y): (Date, Date) = switch query.sort {
                        case .created: (a.createdAt, b.createdAt)
                        case .updated: (a.lastUpdatedAt, b.lastUpdatedAt)
                        case .closed: (a.closedAt ?? .distantPast, b.closedAt ?? .distantPast)
                        }
                        if x != y { return query.descending ? x > y : x < y }
                        return query.descending ? a.caseID > b.caseID : a.caseID < b.caseID
                    }
                    .map(\.caseID)
                #expect(got == expected, "query \(query)")
            }
            var bad = CaseQuery(); bad.cursor = "zz"
            #expect(throws: QueryError.self) { try q.list(bad) }
        }
    }

    @Test func flagListsMatchRows() async throws {
        try await withTempLog { log, _ in
            try await appendAll(log, try Self.history(cases: 200, seed: 5).appends(catalog: shippedCatalog))
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await runner.catchUp()
            let q = CaseQueries(runner: runner)
            let all = try q.allRows()
            #expect(all.contains { $0.breached } && all.contains { !$0.currentFlags.isEmpty })
            for org in Set(all.map(\.organisationID)) {
                #expect(try q.flagged(.breached, scope: .organisation, org) == all.filter { $0.organisationID == org && $0.breached }.map(\.caseID).sorted())
                #expect(try q.flagged(.atRisk, scope: .organisation, org) == all.filter { $0.organisationID == org && $0.atRisk }.map(\.caseID).sorted())
            }
            for team in Set(all.compactMap(\.team)) {
                #expect(try q.flagged(.breached, scope: .team, team) == all.filter { $0.team == team && $0.breached }.map(\.caseID).sorted())
            }
        }
    }
}
