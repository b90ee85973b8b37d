import Foundation
import Testing
@testable import CaseDomain

@Suite("Operations incidents (R6)")
struct IncidentTests {
    let t0 = CaseFixture.monday
    func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }

    /// org-a (d1, d2 designated; d2 opted out) and org-b (e1, e2 designated).
    var organisations: [String: OrganisationState] {
        var a = CaseFixture.organisation
        a.contacts["d2"]?.alertOptOut = true
        var b = OrganisationDecider.fold(CaseFixture.organisationEvents(id: "org-b"))
        b.contacts = ["e1": Contact(id: "e1", name: "E", email: "e1@b.example", access: .designated),
                      "e2": Contact(id: "e2", name: "F", email: "e2@b.example", access: .designated),
                      "e3": Contact(id: "e3", name: "G", email: "e3@b.example", access: .basic)]
        return ["org-a": a, "org-b": b]
    }

    func declare(_ orgs: [String] = ["org-a"], subset: Bool = false, origin: IncidentOrigin = .own) -> IncidentCommand {
        .declareIncident(DeclareIncident(incidentNumber: 7, title: "Export outage", affectedServices: ["expense-export"],
                                         origin: origin, affectedOrganisations: orgs, subsetOfClients: subset))
    }

    func run(_ commands: [IncidentCommand], by actor: Principal = CaseFixture.operations, from state: IncidentState = IncidentState())
        throws(DomainError) -> (IncidentState, [IncidentEvent]) {
        var state = state, all: [IncidentEvent] = []
        for (i, command) in commands.enumerated() {
            let events = try IncidentDecider.decide(command, state: state, context: DecisionContext(
                now: at(Double(i)), actor: actor, organisations: organisations))
            state = IncidentDecider.fold(events, into: state)
            all += events
        }
        return (state, all)
    }

    func refusal(_ commands: [IncidentCommand], by actor: Principal = CaseFixture.operations) -> DomainError? {
        do { _ = try run(commands, by: actor); return nil } catch { return error }
    }

    func alert(_ kind: AlertKind, from: Date? = nil, to: Date? = nil) -> IncidentCommand {
        .sendAlert(SendAlert(kind: kind, message: kind.rawValue, occurredFrom: from, occurredTo: to))
    }

    @Test("R6.1 operations staff declare OPI-<n> with services, origin and affected organisations or a subset of clients")
    func declareIncident() throws {
        let (state, events) = try run([declare()])
        #expect(StreamName.incident(7) == "OPI-7")
        #expect(events == [.incidentDeclared(IncidentDeclared(incidentNumber: 7, title: "Export outage", affectedServices: ["expense-export"], origin: .own,
                                                              affectedOrganisations: ["org-a"], subsetOfClients: false, by: "o1", at: t0))])
        #expect(state.number == 7)
        #expect(try run([declare([], subset: true)]).0.subsetOfClients)
        #expect(refusal([declare(["org-a"], subset: true)])?.rule == "R6.1")
        #expect(refusal([declare([])])?.rule == "R6.1")
        #expect(refusal([declare()], by: CaseFixture.staff)?.message == "only staff with role operations may declare-incident; staff s1 may not")
        #expect(refusal([declare()], by: CaseFixture.d1)?.rule == "R6.1")
    }

    @Test("R6.2 alerts of four kinds notify the designated contacts of affected organisations who have not opted out")
    func alerts() throws {
        let (state, events) = try run([declare(["org-a", "org-b"]), alert(.alert), alert(.alertUpdate), alert(.alertResolved)])
        let recipients = events.compactMap { if case .alertSent(let a) = $0 { a.recipients } else { nil } }
        #expect(recipients == Array(repeating: ["contact:d1", "contact:e1", "contact:e2"], count: 3))
        #expect(state.alerts == [.alert, .alertUpdate, .alertResolved])
        #expect(state.isResolved)
        #expect(refusal([declare(), alert(.alertUpdate)])?.rule == "R6.2")
        #expect(refusal([declare(), alert(.alert), alert(.afterTheFactResolved, from: t0, to: at(1))])?.rule == "R6.2")
        // Subset of clients: every organisation supplied counts.
        let subset = try run([declare([], subset: true), alert(.alert)]).0
        #expect(subset.alertRecipients == ["contact:d1", "contact:e1", "contact:e2"])
    }

    @Test("R6.2 an after-the-fact resolution carries when the problem occurred")
    func afterTheFact() throws {
        #expect(refusal([declare(), alert(.afterTheFactResolved)])?.rule == "R6.2")
        let (state, events) = try run([declare(), alert(.afterTheFactResolved, from: CaseFixture.date("2026-03-01T02:00:00.000Z"), to: CaseFixture.date("2026-03-01T02:40:00.000Z"))])
        #expect(state.occurredFrom == CaseFixture.date("2026-03-01T02:00:00.000Z"))
        #expect(state.occurredTo == CaseFixture.date("2026-03-01T02:40:00.000Z"))
        #expect(state.isResolved)
        #expect(events.last.map(\.type) == "alert-sent")
    }

    @Test("R6.3 the root-cause analysis is published after resolution to the contacts who received alerts")
    func rca() throws {
        let rca = IncidentCommand.publishRCA(PublishRCA(cause: "disk full", detection: "monitoring", prevention: "quota alarms"))
        #expect(refusal([declare(), alert(.alert), rca])?.rule == "R6.3")
        let (state, events) = try run([declare(), alert(.alert), alert(.alertResolved), rca])
        #expect(events.last == .rcaPublished(RCAPublished(cause: "disk full", detection: "monitoring", prevention: "quota alarms",
                                                          recipients: ["contact:d1"], by: "o1", at: at(3))))
        #expect(state.rca?.cause == "disk full")
    }

    @Test("R6.4 cases are linked to an incident and a support case can be converted into one")
    func linkAndConvert() throws {
        let (state, _) = try run([declare(), .linkCase(LinkCase(caseID: "c1")), .linkCase(LinkCase(caseID: "c1"))])
        #expect(state.linkedCases == ["c1"])
        var s = try CaseScenario.opened()
        #expect(s.refusal(.linkIncident(LinkIncident(incidentNumber: 7)), by: CaseFixture.d1, at: at(1))?.rule == "R1.2")
        try s.send(.linkIncident(LinkIncident(incidentNumber: 7)), by: CaseFixture.staff, at: at(1))
        try s.send(.convertToIncident(ConvertToIncident(incidentNumber: 8)), by: CaseFixture.staff, at: at(2))
        #expect(s.state.linkedIncidents == [7, 8])
        #expect(s.state.caseType == .incident)
        #expect(s.state.convertedToIncident == 8)
        #expect(s.refusal(.convertToIncident(ConvertToIncident(incidentNumber: 9)), by: CaseFixture.staff, at: at(3))?.rule == "R6.4")
    }

    @Test("R6.5 planned maintenance with 60 minutes or more of outage notifies the affected contacts")
    func maintenance() throws {
        func window(_ minutes: Int) -> IncidentCommand {
            .scheduleMaintenance(ScheduleMaintenance(windowID: "w\(minutes)", start: CaseFixture.date("2026-03-06T21:00:00.000Z"),
                                                     end: CaseFixture.date("2026-03-07T01:00:00.000Z"), expectedOutageMinutes: minutes, description: "upgrade"))
        }
        let (state, _) = try run([declare(["org-a", "org-b"]), window(60), window(59)])
        #expect(state.maintenance.map(\.recipients) == [["contact:d1", "contact:e1", "contact:e2"], []])
        #expect(refusal([declare(), .scheduleMaintenance(ScheduleMaintenance(windowID: "w", start: at(2), end: at(1), expectedOutageMinutes: 0, description: ""))])?.rule == "R6.5")
    }

    @Test("R6.6 the report colour follows origin and resolution, the RCA is kept, and report access follows R1.4")
    func reportFacts() throws {
        #expect(try run([declare(origin: .own)]).0.colour == .red)
        #expect(try run([declare(origin: .thirdParty)]).0.colour == .yellow)
        let resolved = try run([declare(origin: .thirdParty), alert(.alert), alert(.alertResolved),
                                .publishRCA(PublishRCA(cause: "carrier", detection: "customers", prevention: "second carrier"))]).0
        #expect(resolved.colour == .green)
        #expect(resolved.rca == RootCauseAnalysis(cause: "carrier", detection: "customers", prevention: "second carrier", publishedAt: at(3)))
        #expect(resolved.resolvedAt == at(2))
        var org = CaseFixture.organisation
        org.contacts["d1"]?.incidentReport = true
        #expect(org.mayReadIncidentReport("d1"))
        #expect(!org.mayReadIncidentReport("b1"))
    }
}
