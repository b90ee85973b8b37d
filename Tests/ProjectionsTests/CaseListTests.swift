import CaseDomain
import EventLog
import Foundation
import LMDB
import Testing
@testable import Projections

/// Case lists whose filters the chosen index does not cover are filtered on the index
/// entries' values (CaseIndexValue): these tests hold them to a brute-force filter over
/// every row, and the values to the rows they describe.
@Suite struct CaseListTests {
    /// A randomized history folded by the live path, with every row.
    static func fixture(cases: Int, seed: UInt64, _ body: (CaseQueries, [CaseRow], ProjectionRunner) throws -> Void) async throws {
        try await withTempLog { log, _ in
            var h = SyntheticHistory()
            h.cases = cases
            h.seed = seed
            h.commandsPerCase = 8
            try await appendAll(log, try h.appends(catalog: shippedCatalog))
            let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: shippedCatalog)], logger: testLogger)
            try await runner.catchUp(batchSize: 257)
            let q = CaseQueries(runner: runner)
            try body(q, try q.allRows(), runner)
        }
    }

    /// The list a query must return, computed from every row without the projection's
    /// predicate or indexes.
    static func bruteForce(_ rows: [CaseRow], _ query: CaseQuery) -> [String] {
        rows.filter { r in
            (query.organisation.map { r.organisationID == $0 } ?? true)
                && (query.status.map { r.status == $0 } ?? true)
                && (query.priority.map { r.priority == $0 } ?? true)
                && (query.owner.map { r.owner == $0 } ?? true)
                && (query.team.map { r.team == $0 } ?? true)
                && (query.reportedBy.map { r.reportedBy == $0 } ?? true)
                && (query.createdFrom.map { r.createdAt >= $0 } ?? true)
                && (query.createdTo.map { r.createdAt <= $0 } ?? true)
                && (query.closedFrom.map { from in r.closedAt.map { $0 >= from } ?? false } ?? true)
                && (query.closedTo.map { to in r.closedAt.map { $0 <= to } ?? false } ?? true)
                && (query.sort != .closed || r.closedAt != nil)
        }
        .map { r -> (Date, String) in
            switch query.sort {
            case .created: (r.createdAt, r.caseID)
            case .updated: (r.lastUpdatedAt, r.caseID)
            case .closed: (r.closedAt ?? .distantPast, r.caseID)
            }
        }
        .sorted { a, b in
            if a.0 != b.0 { return query.descending ? a.0 > b.0 : a.0 < b.0 }
            let (x, y) = query.descending ? (b.1, a.1) : (a.1, b.1)
            return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        }
        .map(\.1)
    }

    /// Every page of `query`, following each cursor to the end.
    static func pageThrough(_ q: CaseQueries, _ query: CaseQuery) throws -> (ids: [String], pages: Int) {
        var ids: [String] = []
        var next: CaseQuery? = query
        var pages = 0
        while let current = next, pages < 10_000 {
            let page = try q.listJSON(current)
            #expect(page.rows.count <= query.limit)
            #expect(page.nextCursor == nil || page.rows.count == query.limit, "a page before the last is full")
            ids += try page.rows.map { try MessageCoding.decoder().decode(CaseRow.self, from: Data($0)).caseID }
            pages += 1
            next = page.nextCursor.map { c in
                var again = query
                again.cursor = c
                return again
            }
        }
        return (ids, pages)
    }

    @Test(arguments: [UInt64(3), 29])
    func randomQueriesReturnExactlyTheBruteForceRowsAcrossEveryCursor(seed: UInt64) async throws {
        try await Self.fixture(cases: 400, seed: seed) { q, rows, _ in
            #expect(rows.count == 400)
            var rng = SplitMix64(seed: seed &* 7919)
            func pick(_ values: [String?]) -> String? { values[rng.next(values.count)] }
            func some<T>(_ values: Set<T>) -> [T] { values.sorted { "\($0)" < "\($1)" } }
            let orgs = some(Set(rows.map(\.organisationID))) + ["org-unknown"]
            let statuses = some(Set(rows.map(\.status)))
            let priorities = some(Set(rows.map(\.priority)))
            let owners = some(Set(rows.compactMap(\.owner)))
            let teams = some(Set(rows.compactMap(\.team)))
            let reporters = some(Set(rows.map(\.reportedBy)))
            let created = rows.map(\.createdAt).sorted()
            let closed = rows.compactMap(\.closedAt).sorted()
            #expect(!closed.isEmpty && owners.count > 1 && teams.count > 1 && statuses.count > 3)
            var postFiltered = 0
            var nonEmpty = 0
            for _ in 0..<250 {
                var query = CaseQuery()
                query.sort = [CaseSort.created, .updated, .closed][rng.next(5) == 0 ? 2 : rng.next(2)]
                query.descending = rng.next(2) == 0
                query.limit = [1, 3, 7, 50][rng.next(4)]
                // Each filter is present about half the time (rarer for the narrow ones).
                if rng.next(2) == 0 { query.organisation = pick(orgs) }
                if rng.next(4) == 0 { query.reportedBy = pick(reporters) }
                if rng.next(3) == 0 { query.createdFrom = created[rng.next(created.count)].addingTimeInterval(Double(rng.next(3)) * 0.0004) }
                if rng.next(4) == 0 { query.createdTo = created[rng.next(created.count)].addingTimeInterval(Double(rng.next(3)) * 0.0004) }
                if rng.next(5) == 0 { query.closedFrom = closed[rng.next(closed.count)] }
                if rng.next(6) == 0 { query.closedTo = closed[rng.next(closed.count)] }
                if query.sort == .closed {
                    if rng.next(4) == 0 { query.status = "closed" }
                } else {
                    if rng.next(2) == 0 { query.status = pick(statuses) }
                    if rng.next(2) == 0 { query.priority = pick(priorities) }
                    if rng.next(3) == 0 { query.owner = pick(owners) }
                    if rng.next(3) == 0 { query.team = pick(teams) }
                }
                let (dimension, _) = try q.plan(query)
                if q.needsRowFilter(query, dimension) { postFiltered += 1 }
                let expected = Self.bruteForce(rows, query)
                if !expected.isEmpty { nonEmpty += 1 }
                let got = try Self.pageThrough(q, query)
                #expect(got.ids == expected, "query \(query)")
                #expect(got.pages == max(1, (expected.count + query.limit - 1) / query.limit), "pages of \(query)")
            }
            // The random queries exercise the post-filter and mostly find something.
            #expect(postFiltered > 100 && nonEmpty > 60, "post-filtered \(postFiltered), non-empty \(nonEmpty)")
        }
    }

    @Test func commonPostFilteredShapesPageExactly() async throws {
        try await Self.fixture(cases: 300, seed: 17) { q, rows, _ in
            let mid = rows.map(\.createdAt).sorted()[rows.count / 2]
            let closed = rows.compactMap(\.closedAt).sorted()
            let closedQuarter = closed[closed.count / 4]
            let closedOwner = try #require(rows.first { ($0.closedAt ?? .distantPast) >= closedQuarter && $0.owner != nil }?.owner)
            var shapes: [CaseQuery] = []
            for sort in [CaseSort.created, .updated] {
                for descending in [true, false] {
                    var base = CaseQuery(); base.sort = sort; base.descending = descending; base.limit = 5
                    var a = base; a.status = "investigating"; a.priority = "high"; shapes.append(a)
                    var b = base; b.owner = "s2"; b.team = "apps"; shapes.append(b)
                    var c = base; c.organisation = "org0"; c.priority = "high"; shapes.append(c)
                    var d = base; d.reportedBy = "org2-c1"; shapes.append(d)
                    var e = base; e.organisation = "org2"; e.reportedBy = "org2-c3"; shapes.append(e)
                    var f = base; f.team = "platform"; f.createdFrom = mid; shapes.append(f)
                    var g = base; g.closedFrom = closedQuarter; g.owner = closedOwner; shapes.append(g)
                }
            }
            var h = CaseQuery(); h.sort = .closed; h.reportedBy = "org0-c2"; h.limit = 4; shapes.append(h)
            for query in shapes {
                let expected = Self.bruteForce(rows, query)
                #expect(!expected.isEmpty, "shape \(query) finds rows")
                let got = try Self.pageThrough(q, query)
                #expect(got.ids == expected, "query \(query)")
            }
        }
    }

    /// Two equality filters that almost never coincide: the walk leapfrogs with the second
    /// filter's index (after a run of rejections) and must still return exactly the matching
    /// cases, in order, across every cursor, in both sorts and directions.
    @Test func rareCombinationsLeapfrogToExactlyTheMatchingRows() async throws {
        try await Self.fixture(cases: 600, seed: 41) { q, rows, _ in
            typealias Field = (set: WritableKeyPath<CaseQuery, String?>, get: (CaseRow) -> String?)
            let fields: [Field] = [(\.organisation, { $0.organisationID }), (\.status, { $0.status }), (\.priority, { $0.priority }),
                                   (\.owner, { $0.owner }), (\.team, { $0.team })]
            // Combinations with a few matches among 100 or more cases of the first value (long
            // runs of rejections between them), and some with none at all.
            var rare: [CaseQuery] = []
            var none: [CaseQuery] = []
            for (i, a) in fields.enumerated() {
                for b in fields[(i + 1)...] {
                    let pairs = Dictionary(grouping: rows) { r in [a.get(r) ?? "", b.get(r) ?? ""] }.mapValues(\.count)
                    let firsts = Dictionary(grouping: rows) { a.get($0) ?? "" }.mapValues(\.count)
                    let seconds = Set(rows.compactMap(b.get))
                    for (va, n) in firsts.sorted(by: { $0.key < $1.key }) where !va.isEmpty && n >= 100 {
                        for vb in seconds.sorted() {
                            let matches = pairs[[va, vb]] ?? 0
                            guard matches <= n / 40 else { continue }
                            var query = CaseQuery()
                            query[keyPath: a.set] = va
                            query[keyPath: b.set] = vb
                            if matches == 0 { none.append(query) } else { rare.append(query) }
                        }
                    }
                }
            }
            #expect(rare.count >= 6 && !none.isEmpty, "the fixture has rare combinations (\(rare.count)) and empty ones (\(none.count))")
            rare = Array(rare.prefix(16)) + none.prefix(4)
            for base in rare {
                for sort in [CaseSort.created, .updated] {
                    for descending in [true, false] {
                        var query = base
                        query.sort = sort
                        query.descending = descending
                        query.limit = 1
                        let got = try Self.pageThrough(q, query)
                        #expect(got.ids == Self.bruteForce(rows, query), "query \(query)")
                    }
                }
            }
        }
    }

    @Test func indexValuesDecodeToTheRowsFields() async throws {
        try await Self.fixture(cases: 250, seed: 8) { _, rows, runner in
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.caseID, $0) })
            var entries = 0
            var valuesPerCase: [String: Set<[UInt8]>] = [:]
            for (key, value) in try dump(runner, "cases") where key.first == CaseKeys.indexTag {
                entries += 1
                // tag ‖ dimension ‖ sort ‖ [text ‖ 0x00, twice for organisation+status] ‖ instant ‖ case id
                var o = 3
                let texts = key[1] == CaseIndex.Dimension.all.rawValue ? 0 : key[1] == CaseIndex.Dimension.organisationStatus.rawValue ? 2 : 1
                for _ in 0..<texts { o = (key[o...].firstIndex(of: 0) ?? key.count) + 1 }
                let id = String(decoding: key[(o + 8)...], as: UTF8.self)
                let row = try #require(byID[id], "index entry names case \(id)")
                let decoded = try #require(CaseIndexValue.decode(value), "value of an index entry of \(id) decodes")
                #expect(decoded.organisationID == row.organisationID && decoded.status == row.status)
                #expect(decoded.priority == row.priority && decoded.reportedBy == row.reportedBy)
                #expect(decoded.owner == row.owner && decoded.team == row.team)
                #expect(decoded.createdAt == row.createdAt && decoded.closedAt == row.closedAt)
                valuesPerCase[id, default: []].insert(value)
            }
            #expect(entries >= rows.count * 6)
            #expect(valuesPerCase.count == rows.count)
            #expect(valuesPerCase.values.allSatisfy { $0.count == 1 }, "every index entry of a case holds the same value")
        }
    }

    @Test func valueLayoutIsTheDocumentedOne() throws {
        let created = Date(timeIntervalSince1970: 1_767_600_000.123)
        var fields = IndexFields(CaseRowFixture.row(created: created))
        fields.owner = nil
        fields.team = "apps"
        let bytes = CaseIndexValue.encode(fields)
        var expected: [UInt8] = [0x01, 0x02]
        expected += withUnsafeBytes(of: (UInt64(1_767_600_000_123) | (1 << 63)).bigEndian) { Array($0) }
        expected += Array("org1\u{0}investigating\u{0}high\u{0}org1-c1\u{0}apps\u{0}".utf8)
        #expect(bytes == expected)
        let d = try #require(CaseIndexValue.decode(bytes))
        #expect(d.organisationID == "org1" && d.status == "investigating" && d.priority == "high" && d.reportedBy == "org1-c1")
        #expect(d.owner == nil && d.team == "apps" && d.createdAt == Date(timeIntervalSince1970: 1_767_600_000.123) && d.closedAt == nil)
        // A closed case with an owner: both optional parts present, in the documented order.
        fields.owner = "s1"
        fields.closedAt = Date(timeIntervalSince1970: 1_767_700_000)
        let closed = CaseIndexValue.encode(fields)
        #expect(closed[1] == 0x07 && closed.count == bytes.count + 8 + 3)
        #expect(Array(closed[10..<18]) == withUnsafeBytes(of: (UInt64(1_767_700_000_000) | (1 << 63)).bigEndian) { Array($0) })
        #expect(closed.suffix(8) == Array("s1\u{0}apps\u{0}".utf8)[...])
        let c = try #require(CaseIndexValue.decode(closed))
        #expect(c.owner == "s1" && c.closedAt == fields.closedAt)
        #expect(CaseIndexValue.decode([]) == nil)
        #expect(CaseIndexValue.decode(Array(bytes.dropLast())) == nil)
        #expect(CaseIndexValue.decode(bytes + [0x41]) == nil)
        #expect(CaseIndexValue.decode([0x02] + bytes.dropFirst()) == nil)
    }
}

/// A hand-made row for layout tests.
enum CaseRowFixture {
    static func row(created: Date) -> CaseRow {
        CaseRow(caseID: "C1", caseNumber: "C1", organisationID: "org1", reportedBy: "org1-c1", subject: "s", caseType: "support",
                subType: nil, status: "investigating", subStatus: nil, priority: "high", owner: "s1", team: nil, tier: nil,
                region: "europe", site: "site", product: "p", policy: "genesys-cloud", policyVersion: 1, createdAt: created,
                lastUpdatedAt: created, closedAt: nil, closeReason: nil, reopenCount: 0, clocks: [], currentFlags: [],
                breached: false, atRisk: false, linkedIncidents: [])
    }
}
