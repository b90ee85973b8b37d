import Audit
import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import Testing

@Suite("Replay (R9.2)")
struct ReplayTests {
    @Test("every event in order with who, role, channel, and the state after it: clocks in the europe calendar, flags with their rule")
    func fullReplay() async throws {
        let log = try await AuditFixture.openWithHistory()
        defer { log.close() }
        let history = try AuditFixture.history
        let replay = try Replayer(log: log, catalog: AuditFixture.catalog, logger: auditQuietLogger).replay(.case, id: "c1")

        #expect(replay.stream == "case-c1")
        #expect(replay.steps.map(\.type) == history.map { $0.0.type })
        #expect(replay.steps.map(\.position) == replay.steps.map(\.position).sorted())
        #expect(replay.warnings.isEmpty)
        let first = try #require(replay.steps.first)
        #expect(first.type == "case-opened" && first.actor == "d1" && first.role == "contact" && first.channel == "portal")
        #expect(first.at == AuditFixture.t0)
        #expect(first.state.status == "new" && first.state.priority == "P2" && first.state.policy == "concur-standard@1")
        #expect(first.state.clocks.isEmpty)
        let started = try #require(replay.steps.first { $0.type == "clock-started" })
        let response = try #require(started.state.clocks.first { $0.target == "response" })
        // 4 business hours from Monday 10:00 Berlin: 14:00 Berlin = 13:00Z.
        #expect(response.calendar == "europe" && response.timeKind == "business" && response.targetSeconds == 4 * 3600)
        #expect(response.deadline == AuditFixture.at(4) && response.elapsedSeconds == 0)

        let routed = try #require(replay.steps.first { $0.type == "case-routed" })
        #expect(routed.state.owner == "s1" && routed.state.team == "expenses")
        #expect(routed.role == "staff" && routed.channel == "phone" && routed.actor == "s1")

        let breached = try #require(replay.steps.first { $0.type == "escalation-flag-raised" && $0.state.flags.contains { $0.kind == "response-breached" } })
        #expect(breached.actor == "system: deadline scheduler" && breached.role == "system")
        let flag = try #require(breached.state.flags.first { $0.kind == "response-breached" })
        #expect(flag.rule == "R3.4" && flag.current && flag.target == "response")
        #expect(breached.state.flags.contains { $0.kind == "at-risk" && $0.rule == "R3.5" })

        let paused = try #require(replay.steps.first { $0.type == "clock-paused" })
        #expect(paused.state.status == "awaiting-customer")
        #expect(paused.state.clocks.contains { $0.target == "resolution" && $0.paused && $0.deadline == nil })
        let last = try #require(replay.steps.last)
        #expect(replay.final == last.state)
        #expect(last.state.status == "solution-proposed")
        #expect(last.state.clocks.contains { $0.target == "resolution" && $0.metAt == AuditFixture.at(26) })
    }

    @Test("--as-of stops at that instant and computes elapsed time then; --at-position stops after that position")
    func asOfAndAtPosition() async throws {
        let log = try await AuditFixture.openWithHistory()
        defer { log.close() }
        let replayer = Replayer(log: log, catalog: AuditFixture.catalog, logger: auditQuietLogger)
        let full = try replayer.replay(.case, id: "c1")

        // 12:30Z = 13:30 Berlin Monday: between the at-risk record (12:00Z) and the deadline (13:00Z).
        let instant = AuditFixture.at(3.5)
        let asOf = try replayer.replay(.case, id: "c1", stop: .asOf(instant))
        #expect(asOf.stoppedBy == "as-of" && asOf.asOf == instant)
        #expect(asOf.steps == full.steps.filter { $0.at <= instant })
        #expect(!asOf.steps.isEmpty && asOf.steps.count < full.steps.count)
        let final = try #require(asOf.final)
        #expect(final.evaluatedAt == instant)
        let response = try #require(final.clocks.first { $0.target == "response" })
        #expect(response.elapsedSeconds == 3 * 3600 + 30 * 60 && response.remainingSeconds == 30 * 60)
        #expect(response.breachedAt == nil && response.atRiskAt == AuditFixture.at(3))
        #expect(!final.flags.contains { $0.kind == "response-breached" })

        // 13:30Z: the deadline passed at 13:00Z; the breach event carries that instant.
        let later = try #require(try replayer.replay(.case, id: "c1", stop: .asOf(AuditFixture.at(4.5))).final)
        let laterResponse = try #require(later.clocks.first { $0.target == "response" })
        #expect(laterResponse.elapsedSeconds == Int64(4 * 3600 + 30 * 60))

        let before = try replayer.replay(.case, id: "c1", stop: .asOf(AuditFixture.t0.addingTimeInterval(-1)))
        #expect(before.steps.isEmpty && before.final == nil)

        let cut = full.steps[3].position
        let atPosition = try replayer.replay(.case, id: "c1", stop: .atPosition(cut))
        #expect(atPosition.steps == Array(full.steps.prefix(4)))
        #expect(atPosition.final == full.steps[3].state)
    }

    @Test("small pages (many short read transactions) give the same replay; ids with the stream prefix work")
    func pagingAndIds() async throws {
        let log = try await AuditFixture.openWithHistory()
        defer { log.close() }
        let big = try Replayer(log: log, catalog: AuditFixture.catalog, logger: auditQuietLogger).replay(.case, id: "c1")
        let small = try Replayer(log: log, catalog: AuditFixture.catalog, pageSize: 2, logger: auditQuietLogger).replay(.case, id: "case-c1")
        #expect(big.steps == small.steps && small.stream == "case-c1")
        let org = try Replayer(log: log, catalog: AuditFixture.catalog, logger: auditQuietLogger).replay(.organisation, id: "org1")
        #expect(org.steps.count == 4 && org.final?.status == "support" && org.final?.policy == "concur-standard")
    }

    @Test("an unknown id is a not-found error naming the stream")
    func unknown() throws {
        let dir = auditDataDir()
        let log = try openAuditLog(dir)
        defer { log.close() }
        do {
            _ = try Replayer(log: log, catalog: AuditFixture.catalog, logger: auditQuietLogger).replay(.incident, id: "99")
            Issue.record("expected not-found")
        } catch {
            #expect(error.code == .notFound && error.message.contains("OPI-99"))
        }
    }

    @Test("replay works while another task appends to the same log")
    func liveAppends() async throws {
        let log = try await AuditFixture.openWithHistory()
        defer { log.close() }
        let replayer = Replayer(log: log, catalog: AuditFixture.catalog, pageSize: 3, logger: auditQuietLogger)
        let reference = try replayer.replay(.case, id: "c1")
        let writer = Task {
            for i in 0..<40 {
                try await AuditFixture.appendHistory(log, caseID: "live\(i)", withOrganisation: false)
            }
        }
        var replays = 0
        while !writer.isCancelled, replays < 200 {
            let replay = try replayer.replay(.case, id: "c1")
            #expect(replay.steps == reference.steps)
            replays += 1
            if replays > 20 { break }
            await Task.yield()
        }
        try await writer.value
        #expect(try replayer.replay(.case, id: "live39").steps.count == reference.steps.count)
    }

    @Test("a clock is measured with the calendar version in force where it finished, or at the step while it runs (R4.9)")
    func calendarVersionOfEachStep() async throws {
        let log = try openAuditLog(auditDataDir())
        defer { log.close() }
        // Europe version 2 closes Monday 2026-03-02, the day the cases run. Case c1 is
        // appended whole before it; case c3's response is met (step 4) before it, and its
        // resolution still runs after it; case c2 opens after it.
        let file = try #require(PolicyCatalog.shippedCalendarFiles.first { $0.name.hasSuffix("/europe.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = 2
        json["closures"] = [["from": "2026-03-02", "name": "strike"]]
        let content = String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
        let encoded = try VersionEvent.calendarVersionRecorded(CalendarVersionRecorded(
            name: "europe", version: 2, content: content, reason: "strike", by: "ops", at: AuditFixture.at(5.7))).encoded()
        let recordV2 = {
            _ = try await log.append(to: "calendar-europe", expectedVersion: .noStream, events: [
                NewEvent(type: encoded.type, schemaVersion: UInt32(encoded.schemaVersion), actor: "ops", payload: encoded.payload)])
        }
        try await AuditFixture.appendHistory(log)
        try await AuditFixture.appendHistory(log, caseID: "c3", withOrganisation: false) { step in if step == 5 { try await recordV2() } }
        try await AuditFixture.appendHistory(log, caseID: "c2", withOrganisation: false)
        let catalog = try PolicyCatalog.inForce(base: AuditFixture.catalog, log: log, logger: auditQuietLogger)
        #expect(try catalog.calendar(named: "europe").version == 2)

        let replayer = Replayer(log: log, catalog: catalog, logger: auditQuietLogger)
        func clock(_ id: String, _ type: String, _ target: String) throws -> ReplayClock {
            let step = try #require(try replayer.replay(.case, id: id).steps.first { $0.type == type })
            return try #require(step.state.clocks.first { $0.target == target })
        }
        // c1 is shown as it was measured: version 1, 4 business hours from Monday 10:00 Berlin.
        let first = try clock("c1", "clock-started", "response")
        #expect(first.calendar == "europe" && first.calendarVersion == 1 && first.deadline == AuditFixture.at(4))
        // c2 opened after version 2: Monday is closed, so Tuesday 09:00-13:00 Berlin (12:00Z).
        let second = try clock("c2", "clock-started", "response")
        #expect(second.calendarVersion == 2 && second.deadline == AuditFixture.at(27))
        // c3 after version 2: the response, met before it, keeps version 1; the running
        // resolution is measured with version 2.
        #expect(try clock("c3", "information-requested", "response").calendarVersion == 1)
        #expect(try clock("c3", "information-requested", "resolution").calendarVersion == 2)
        let text = try replayer.replay(.case, id: "c1").text()
        #expect(text.contains("(business, europe v1)"))
    }
}
