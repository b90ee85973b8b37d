import CaseDomain
import EventLog
import Foundation
import Logging
import Projections

/// Case-list pages of 50 at the issue's scale (1 M cases): the latency of
/// `CaseQueries.listJSON` for covered filters and for filters checked on index values.
///
/// The `cases` projection is built through the real path: every case is opened and moved on
/// by `CaseDecider.decide` (open; most routed to a team and owner; some asked for
/// information, given a priority change, offered a solution; about half closed), its events
/// appended to a log, and the log folded by `ProjectionRunner` catch-up. A few events per
/// case keep the log at about 4 events per case, so 1 M cases build in minutes.
///
/// Size: `DOCKET_BENCH_LIST_CASES` (default 1 000 000). Shape of the data: 200
/// organisations (skewed: the first ones are the largest), 10 contacts each, 12 teams of 10
/// owners, the shipped `genesys-cloud` (critical/high/medium/low) and `concur-standard`
/// (P1-P3) policies; one case opened about every 60 s.
func caseListSuite() -> BenchSuite {
    BenchSuite(name: "CaseList") {
        let env = ProcessInfo.processInfo.environment
        let total = Int(env["DOCKET_BENCH_LIST_CASES"] ?? "") ?? 1_000_000
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let catalog = try PolicyCatalog.shipped()
        let measures = CalendarMeasureProvider { name in try? catalog.calendar(named: name) }

        let (log, _, removeLog) = try openTemporaryLog("docket-bench-list", mapSize: 16 << 30, logger: logger)
        defer { removeLog() }

        var rng = SplitMix64(seed: 2026)
        let start = Date(timeIntervalSince1970: 1_704_096_000)  // 2024-01-01T08:00:00Z
        let policies = [try catalog.policy(named: "genesys-cloud"), try catalog.policy(named: "concur-standard")]
        var orgs: [OrganisationState] = []
        var setup: [StreamAppend] = []
        for i in 0..<200 {
            let id = "org\(i)"
            var events: [OrganisationEvent] = [.organisationRegistered(OrganisationRegistered(
                organisationID: id, name: "Organisation \(i)", policyName: policies[i % 2].name, at: start))]
            for c in 0..<10 {
                events.append(.contactAdded(ContactAdded(contactID: "\(id)-c\(c)", name: "Contact \(c)", email: "c\(c)@\(id).example",
                                                         access: .designated, at: start)))
            }
            events.append(.organisationTransitioned(OrganisationTransitioned(by: "m1", at: start)))
            setup.append(StreamAppend(stream: StreamName.organisation(id), expectedVersion: .noStream, events: try events.map { e in
                let m = try e.encoded()
                return NewEvent(id: rng.uuid(), type: m.type, schemaVersion: UInt32(m.schemaVersion), actor: "m1", payload: m.payload)
            }))
            orgs.append(OrganisationDecider.fold(events))
        }
        _ = try await log.append(setup)
        let teams = (0..<12).map { "team\($0)" }
        let regions = ["americas", "apac", "europe"]

        var t = now()
        var opened = start
        var chunk: [StreamAppend] = []
        var events = 0
        var closedCases = 0
        for n in 0..<total {
            opened = opened.addingTimeInterval(Double(rng.next(120_000)) / 1000)
            // Skewed organisation sizes: org0 is the largest, org199 the smallest.
            let u = Double(rng.next(1_000_000)) / 1_000_000
            let org = orgs[min(199, Int(u * u * 200))]
            let orgID = org.id ?? "org0"
            let policy = policies[(Int(orgID.dropFirst(3)) ?? 0) % 2]
            let contact = Principal.contact("\(orgID)-c\(rng.next(10))", organisation: orgID, access: .designated)
            let id = "L\(1_000_000 + n)"
            let type = [CaseType.support, .serviceRequest, .admin][rng.next(3)]
            var state = CaseState()
            var appended: [NewEvent] = []
            func act(_ command: CaseCommand, by actor: Principal, after seconds: Double) throws {
                let at = opened.addingTimeInterval(seconds)
                let context = DecisionContext(now: at, actor: actor, policy: policy, measures: measures, organisation: org)
                guard let decided = try? CaseDecider.decide(command, state: state, context: context) else { return }
                state = CaseDecider.fold(decided, into: state)
                for e in decided {
                    let m = try e.encoded()
                    appended.append(NewEvent(id: rng.uuid(), type: m.type, schemaVersion: UInt32(m.schemaVersion), actor: actor.id, payload: m.payload))
                }
            }
            try act(.openCase(OpenCase(
                caseID: id, organisationID: orgID, contactID: contact.id, subject: "Subject \(id)", description: "steps",
                topic: "topic", caseType: type, subType: type.subTypes.isEmpty ? nil : type.subTypes[rng.next(type.subTypes.count)],
                severity: policy.priorities[rng.next(policy.priorities.count)], region: regions[rng.next(regions.count)],
                site: "site-\(rng.next(500))", product: "Product", stage: .production, callMe: false, cc: [], channel: .portal)),
                by: contact, after: 0)
            let team = rng.next(teams.count)
            let staff = Principal.staff("s\(team * 10 + rng.next(10))", .tier2)
            let roll = rng.next(100)
            if roll < 85 {
                try act(.routeCase(RouteCase(team: teams[team], owner: staff.id, tier: .tier2)), by: staff, after: 600)
            }
            if roll % 7 == 0 { try act(.setPriority(SetPriority(priority: policy.priorities[rng.next(policy.priorities.count)], reason: "impact")), by: staff, after: 1_200) }
            if roll < 30 {
                try act(.requestInformation(RequestInformation(question: "Which report?")), by: staff, after: 3_600)
            } else if roll < 70 {
                try act(.proposeSolution(ProposeSolution(solution: "fixed")), by: staff, after: 86_400)
                if roll < 60 { try act(.closeCase(CloseCase(reason: .resolved)), by: staff, after: 2 * 86_400) }
            }
            events += appended.count
            if state.status == .closed { closedCases += 1 }
            chunk.append(StreamAppend(stream: StreamName.case(id), expectedVersion: .noStream, events: appended))
            if chunk.count == 2_000 {
                _ = try await log.append(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { _ = try await log.append(chunk) }
        print(String(format: "    (log: %d case events for %d cases, decided and appended in %.0f s; %@)",
                     events, total, now() - t, memoryNote() as NSString))

        // DOCKET_BENCH_LIST_BUDGET: the runner's resident file budget in MiB ("none": never
        // release the mapped pages); by default the runner's own.
        let budget = env["DOCKET_BENCH_LIST_BUDGET"].map { $0 == "none" ? Int.max : (Int($0) ?? 256) << 20 }
            ?? ProjectionRunner.defaultResidentFileBudget
        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: catalog)], logger: logger,
                                          residentFileBudget: budget)
        print("    (runner's resident file budget: \(budget == Int.max ? "none" : "\(budget >> 20) MiB"))")
        t = now()
        try await runner.catchUp(batchSize: 65_536)
        report(Measurement(name: "catch-up of `cases` (events/s)", count: events, seconds: now() - t), unit: "events")
        let queries = CaseQueries(runner: runner)

        // Each shape restarts from the first page every 10 pages with the next of its values.
        let mid = start.addingTimeInterval(Double(total) * 30)
        var shapes: [(String, [CaseQuery])] = []
        func shape(_ label: String, _ values: Int, _ make: (Int, inout CaseQuery) -> Void) {
            shapes.append((label, (0..<values).map { i in
                var q = CaseQuery()
                make(i, &q)
                return q
            }))
        }
        shape("org + status, by created", 20) { i, q in q.organisation = "org\(i * 7 % 200)"; q.status = i % 2 == 0 ? "closed" : "awaiting-customer" }
        shape("owner, by updated", 20) { i, q in q.owner = "s\(i * 6)"; q.sort = .updated }
        shape("team + created range", 12) { i, q in q.team = "team\(i)"; q.createdFrom = mid }
        shape("org, by closed", 20) { i, q in q.organisation = "org\(i * 9 % 200)"; q.sort = .closed }
        shape("status + priority (value filter)", 8) { i, q in
            q.status = ["investigating", "awaiting-customer", "solution-proposed", "closed"][i % 4]; q.priority = ["high", "P2"][i / 4]
        }
        shape("owner + team (value filter)", 20) { i, q in q.owner = "s\(i * 6)"; q.team = "team\(i * 6 / 10)" }
        shape("org + priority (value filter)", 20) { i, q in q.organisation = "org\(i * 7 % 200)"; q.priority = i % 2 == 0 ? "critical" : "P1" }
        shape("priority alone", 7) { i, q in q.priority = ["critical", "high", "medium", "low", "P1", "P2", "P3"][i] }
        shape("reportedBy alone (index r)", 20) { i, q in q.reportedBy = "org\(i * 3)-c\(i % 10)" }
        shape("org + reportedBy, my cases (index r)", 20) { i, q in q.organisation = "org\(i * 3)"; q.reportedBy = "org\(i * 3)-c\(i % 10)" }
        shape("status + created range, by updated (value filter)", 4) { i, q in
            q.status = ["investigating", "awaiting-customer", "solution-proposed", "closed"][i]; q.sort = .updated; q.createdFrom = mid
        }
        print(String(format: "    (load before pages: %@)", loadAverage() as NSString))
        // Per page: the first timing (what a caller sees) and the least of three (the page's
        // own cost, without the preemptions a shared machine adds to single samples).
        for (label, variants) in shapes {
            var samples: [Double] = []
            var least: [Double] = []
            var rows = 0
            var cursor: String?
            for i in 0..<1_000 {
                var next = variants[(i / 10) % variants.count]
                next.cursor = i % 10 == 0 ? nil : cursor
                var best = Double.infinity
                var page = (rows: [[UInt8]](), nextCursor: String?.none)
                for r in 0..<3 {
                    let s = now()
                    page = try queries.listJSON(next)
                    let ms = (now() - s) * 1000
                    if r == 0 { samples.append(ms) }
                    best = min(best, ms)
                }
                least.append(best)
                cursor = page.nextCursor
                rows += page.rows.count
            }
            let name = ("page of 50: " + label).padding(toLength: 62, withPad: " ", startingAt: 0)
            print(String(format: "  %@ p50 %.3f ms  p99 %.3f ms  | least of 3: p50 %.3f  p99 %.3f ms  (%.1f rows/page)", name as NSString,
                         percentile(samples, 50), percentile(samples, 99), percentile(least, 50), percentile(least, 99), Double(rows) / 1_000))
        }
        // The worst case of a value filter: nothing matches, so one page walks the whole
        // status index (every closed case), checking each entry's value.
        var none = CaseQuery()
        none.status = "closed"
        none.priority = "no-such-priority"
        var walks: [Double] = []
        for _ in 0..<5 {
            let s = now()
            _ = try queries.listJSON(none)
            walks.append(now() - s)
        }
        let walk = walks.min() ?? .nan
        print(String(format: "  %@ %.1f ms for %d entries (%.0f ns per entry)",
                     "empty page, status closed + a priority no case has".padding(toLength: 62, withPad: " ", startingAt: 0) as NSString,
                     walk * 1000, closedCases, walk * 1e9 / Double(max(1, closedCases))))
        print(String(format: "    (load after pages: %@)", loadAverage() as NSString))
    }
}

/// `/proc/loadavg`'s three load averages.
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "? ? ?"
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
