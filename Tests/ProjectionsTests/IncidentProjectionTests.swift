import CaseDomain
import EventLog
import Foundation
import Testing
@testable import Projections

@Suite struct IncidentProjectionTests {
    static let ops = Principal.staff("o1", .operations)

    static func send(_ log: EventLog, _ n: Int, _ state: inout IncidentState, _ command: IncidentCommand, at: String) async throws {
        let now = try #require(DomainTime.parse(at))
        let events = try IncidentDecider.decide(command, state: state, context: DecisionContext(now: now, actor: ops))
        let encoded = try events.map { e -> NewEvent in
            let m = try e.encoded()
            return NewEvent(type: m.type, actor: ops.id, payload: m.payload)
        }
        _ = try await log.append(to: StreamName.incident(n), events: encoded)
        state = IncidentDecider.fold(events, into: state)
    }

    @Test func timelinesColoursAndReportPeriods() async throws {
        try await withTempLog { log, _ in
            var a = IncidentState(), b = IncidentState(), c = IncidentState()
            try await Self.send(log, 1, &a, .declareIncident(DeclareIncident(incidentNumber: 1, title: "API down", affectedServices: ["api"],
                origin: .own, affectedOrganisations: ["org0"], subsetOfClients: false)), at: "2026-03-02T10:00:00.000Z")
            try await Self.send(log, 1, &a, .sendAlert(SendAlert(kind: .alert, message: "Investigating")), at: "2026-03-02T10:05:00.000Z")
            try await Self.send(log, 2, &b, .declareIncident(DeclareIncident(incidentNumber: 2, title: "Carrier outage", affectedServices: ["sms"],
                origin: .thirdParty, affectedOrganisations: [], subsetOfClients: true)), at: "2026-03-03T08:00:00.000Z")
            try await Self.send(log, 2, &b, .sendAlert(SendAlert(kind: .alert, message: "Carrier down")), at: "2026-03-03T08:01:00.000Z")
            try await Self.send(log, 1, &a, .sendAlert(SendAlert(kind: .alertUpdate, message: "Fix deploying")), at: "2026-03-02T11:00:00.000Z")
            try await Self.send(log, 3, &c, .declareIncident(DeclareIncident(incidentNumber: 3, title: "Old", affectedServices: ["ui"],
                origin: .own, affectedOrganisations: ["org1"], subsetOfClients: false)), at: "2026-01-10T08:00:00.000Z")
            try await Self.send(log, 3, &c, .sendAlert(SendAlert(kind: .afterTheFactResolved, message: "Fixed",
                occurredFrom: DomainTime.parse("2026-01-10T07:00:00.000Z"), occurredTo: DomainTime.parse("2026-01-10T07:30:00.000Z"))),
                at: "2026-01-10T09:00:00.000Z")
            try await Self.send(log, 3, &c, .publishRCA(PublishRCA(cause: "bad config", detection: "monitoring", prevention: "review")),
                                at: "2026-01-12T09:00:00.000Z")
            try await Self.send(log, 3, &c, .linkCase(LinkCase(caseID: "C1")), at: "2026-01-12T10:00:00.000Z")

            let runner = try ProjectionRunner(log: log, projections: [IncidentProjection()], logger: testLogger)
            try await runner.catchUp(batchSize: 3)
            let q = IncidentQueries(runner: runner)
            #expect(try q.timeline(1).map(\.type) == ["incident-declared", "alert-sent", "alert-sent"])
            #expect(try q.timeline(1).map(\.kind) == [nil, "alert", "alert-update"])
            #expect(try q.timeline(3).map(\.type) == ["incident-declared", "alert-sent", "rca-published", "case-linked"])
            let one = try #require(try q.incident(1))
            #expect(one.colour == "red" && one.currentAlert?.text == "Fix deploying")
            #expect(try q.incident(2)?.colour == "yellow")
            let three = try #require(try q.incident(3))
            #expect(three.colour == "green" && three.currentAlert == nil && three.state.rca?.cause == "bad config")

            let march = try q.report(.month(year: 2026, month: 3))
            #expect(march.current.compactMap(\.state.number) == [1, 2] && march.past.isEmpty && march.period == "2026-03")
            let january = try q.report(.month(year: 2026, month: 1))
            #expect(january.current.isEmpty && january.past.compactMap(\.state.number) == [3])
            let q1 = try q.report(.quarter(year: 2026, quarter: 1))
            #expect(q1.current.count == 2 && q1.past.count == 1)
            let day = try q.report(.day(try #require(DomainTime.parse("2026-01-10T12:00:00.000Z"))))
            #expect(day.past.count == 1 && day.current.isEmpty)
            let before = try q.report(.range(from: try #require(DomainTime.parse("2025-12-01T00:00:00.000Z")),
                                            to: try #require(DomainTime.parse("2025-12-31T00:00:00.000Z"))))
            #expect(before.past.isEmpty && before.current.isEmpty)
            let ytd = try q.report(.yearToDate(asOf: try #require(DomainTime.parse("2026-03-02T12:00:00.000Z"))))
            #expect(ytd.current.compactMap(\.state.number) == [1] && ytd.past.count == 1)
        }
    }
}
