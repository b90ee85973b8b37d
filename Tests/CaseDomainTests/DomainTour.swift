import Foundation
import Testing
@testable import CaseDomain

/// Drives every aggregate through every command type once (or more) and records the
/// commands sent and the events emitted: real samples for the schema and registry tests,
/// and a realistic history for the determinism test and the benchmark.
struct DomainTour {
    var commands: [DomainCommand] = []
    var events: [DomainEvent] = []
    var caseHistory: [CaseEvent] = []

    static func run() throws -> DomainTour {
        var tour = DomainTour()
        try tour.organisation()
        try tour.caseStream()
        try tour.incident()
        try tour.featureAndVersions()
        return tour
    }

    private mutating func organisation() throws {
        var state = OrganisationState()
        let t0 = Fixture.monday
        let steps: [(OrganisationCommand, Principal)] = [
            (.registerOrganisation(RegisterOrganisation(organisationID: "org-t", name: "Tour", policyName: "test-sla")), Fixture.manager),
            (.addContact(AddContact(contactID: "t1", name: "T1", email: "t1@t.example", access: .designated)), Fixture.manager),
            (.addContact(AddContact(contactID: "t2", name: "T2", email: "t2@t.example", access: .basic)), Fixture.manager),
            (.addContact(AddContact(contactID: "t3", name: "T3", email: "t3@t.example", access: .designated)), Fixture.manager),
            (.changeContactAccess(ChangeContactAccess(contactID: "t2", access: .designated)), Fixture.manager),
            (.updateContact(UpdateContact(contactID: "t2", name: "T Two", email: "t.two@t.example")), Fixture.manager),
            (.setIncidentReportAccess(SetIncidentReportAccess(contactID: "t1", granted: true)), Fixture.manager),
            (.setAlertOptOut(SetAlertOptOut(contactID: "t3", optedOut: true)), Principal.contact("t3", organisation: "org-t", access: .designated)),
            (.transitionToSupport(TransitionToSupport()), Fixture.manager),
            (.removeContact(RemoveContact(contactID: "t3")), Fixture.manager),
        ]
        for (command, actor) in steps {
            let emitted = try OrganisationDecider.decide(command, state: state, context: Fixture.orgContext(actor, at: t0))
            state = OrganisationDecider.fold(emitted, into: state)
            commands.append(.organisation(command))
            events += emitted.map(DomainEvent.organisation)
        }
    }

    private mutating func caseStream() throws {
        let t0 = Fixture.monday
        func at(_ h: Double) -> Date { Fixture.hours(h, after: t0) }
        let sha = String(repeating: "0f", count: 32)
        var s = CaseScenario()
        let steps: [(CaseCommand, Principal, Date)] = [
            (Fixture.openCase(), Fixture.d1, t0),
            (.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), Fixture.staff, at(0.1)),
            (.requestPriorityChange(RequestPriorityChange(priority: "critical", reason: "payroll run")), Fixture.d1, at(0.2)),
            (.addAttachment(AddAttachment(attachmentID: "a1", name: "log.txt", mediaType: "text/plain", size: 2048, sha256: sha)), Fixture.d1, at(0.3)),
            (.recordClockAtRisk(RecordClockAtRisk(target: .response)), Fixture.scheduler, at(3)),
            (.recordClockBreached(RecordClockBreached(target: .response)), Fixture.scheduler, at(4.1)),
            (.recordUpdateOverdue(RecordUpdateOverdue()), Fixture.scheduler, at(4.2)),
            (.escalateCase(EscalateCase(kind: .customer, reason: "no answer")), Fixture.d1, at(4.3)),
            (comment("p1"), Fixture.staff, at(5)),
            (comment("i1", .internal), Fixture.engineer, at(5.2)),
            (.setPriority(SetPriority(priority: "critical", reason: "payroll run confirmed")), Fixture.staff, at(5.5)),
            (.escalateCase(EscalateCase(kind: .tier, to: "tier3", reason: "engineering")), Fixture.staff, at(5.7)),
            (.requestInformation(RequestInformation(question: "Which batch?")), Fixture.staff, at(6)),
            (comment("p2"), Fixture.d1, at(7)),
            (.suspendResolutionTarget(SuspendResolutionTarget(reason: "engineering fix")), Fixture.engineer, at(7.5)),
            (.resumeResolutionTarget(ResumeResolutionTarget(note: "fix deployed")), Fixture.engineer, at(8)),
            (.linkIncident(LinkIncident(incidentNumber: 7)), Fixture.staff, at(8.1)),
            (.convertToIncident(ConvertToIncident(incidentNumber: 8)), Fixture.operations, at(8.2)),
            (.restoreService(RestoreService(summary: "batch re-run")), Fixture.staff, at(8.3)),
            (.proposeSolution(ProposeSolution(solution: "patch 1")), Fixture.staff, at(8.4)),
            (.rejectSolution(RejectSolution(reason: "still slow")), Fixture.d1, at(8.5)),
            (.proposeSolution(ProposeSolution(solution: "patch 2")), Fixture.engineer, at(9)),
            (.confirmSolution(ConfirmSolution(note: "works")), Fixture.d1, at(9.5)),
            (.answerSurvey(AnswerSurvey(surveyID: "c1-survey-1", knowledge: 5, communication: 4, timeliness: 3, comment: "ok")), Fixture.d1, at(10)),
            (.reopenCase(ReopenCase(reason: "slow again")), Fixture.d1, at(11)),
            (.proposeSolution(ProposeSolution(solution: "patch 3")), Fixture.engineer, at(12)),
            (.autoCloseCase(AutoCloseCase()), Fixture.scheduler, Fixture.days(10, after: at(12))),
            (.expireSurvey(ExpireSurvey(surveyID: "c1-survey-2")), Fixture.scheduler, Fixture.days(40, after: at(12))),
        ]
        for (command, actor, now) in steps {
            try s.send(command, by: actor, at: now)
            commands.append(.case(command))
        }
        caseHistory = s.history
        events += s.history.map(DomainEvent.case)
        var cancelled = CaseScenario()
        try cancelled.send(Fixture.openCase(id: "c2", related: "c0"), by: Fixture.d1, at: t0)
        let close = CaseCommand.closeCase(CloseCase(reason: .cancelled, note: "solved myself"))
        try cancelled.send(close, by: Fixture.d1, at: at(1))
        commands.append(.case(close))
    }

    private mutating func incident() throws {
        var state = IncidentState()
        let steps: [IncidentCommand] = [
            .declareIncident(DeclareIncident(incidentNumber: 7, title: "Export outage", affectedServices: ["export"], origin: .thirdParty,
                                             affectedOrganisations: ["org-a"], subsetOfClients: false)),
            .sendAlert(SendAlert(kind: .alert, message: "Exports fail")),
            .linkCase(LinkCase(caseID: "c1")),
            .sendAlert(SendAlert(kind: .alertResolved, message: "Exports work")),
            .publishRCA(PublishRCA(cause: "carrier", detection: "monitoring", prevention: "second carrier")),
            .scheduleMaintenance(ScheduleMaintenance(windowID: "w1", start: Fixture.date("2026-03-06T21:00:00.000Z"),
                                                     end: Fixture.date("2026-03-07T01:00:00.000Z"), expectedOutageMinutes: 90, description: "upgrade")),
        ]
        for command in steps {
            let emitted = try IncidentDecider.decide(command, state: state, context: DecisionContext(
                now: Fixture.monday, actor: Fixture.operations, organisations: ["org-a": Fixture.organisation]))
            state = IncidentDecider.fold(emitted, into: state)
            commands.append(.incident(command))
            events += emitted.map(DomainEvent.incident)
        }
        // After-the-fact alert carries the optional dates.
        let atf = SendAlert(kind: .afterTheFactResolved, message: "fixed overnight", occurredFrom: Fixture.date("2026-03-01T02:00:00.000Z"),
                            occurredTo: Fixture.date("2026-03-01T02:40:00.123Z"))
        let declared = IncidentDecider.fold([.incidentDeclared(IncidentDeclared(incidentNumber: 9, title: "t", affectedServices: ["s"], origin: .own,
                                                                                 affectedOrganisations: [], subsetOfClients: true, by: "o1", at: Fixture.monday))])
        let emitted = try IncidentDecider.decide(.sendAlert(atf), state: declared, context: DecisionContext(now: Fixture.monday, actor: Fixture.operations))
        commands.append(.incident(.sendAlert(atf)))
        events += emitted.map(DomainEvent.incident)
    }

    private mutating func featureAndVersions() throws {
        var state = FeatureRequestState()
        let steps: [(FeatureRequestCommand, Principal)] = [
            (.submitFeatureRequest(SubmitFeatureRequest(featureID: "f1", organisationID: "org-a", subject: "Bulk approve", description: "d", product: "Expense")), Fixture.d1),
            (.changeFeatureRequestStatus(ChangeFeatureRequestStatus(status: .openProductManagement, subStatus: .underReview, note: "to PM")), Fixture.staff),
            (.closeFeatureRequest(CloseFeatureRequest(reason: "declined")), Fixture.staff),
        ]
        for (command, actor) in steps {
            let emitted = try FeatureRequestDecider.decide(command, state: state, context: DecisionContext(now: Fixture.monday, actor: actor))
            state = FeatureRequestDecider.fold(emitted, into: state)
            commands.append(.featureRequest(command))
            events += emitted.map(DomainEvent.featureRequest)
        }
        let versions: [VersionCommand] = [
            .recordPolicyVersion(RecordPolicyVersion(name: "test-sla", version: 3, content: "{\"name\":\"test-sla\"}")),
            .recordCalendarVersion(RecordCalendarVersion(name: "office", version: 2, content: "{\"closures\":[\"2026-03-03\"]}", reason: "office move")),
        ]
        for command in versions {
            let emitted = try PolicyDecider.decide(command, state: VersionState(), context: DecisionContext(now: Fixture.monday, actor: .deadlineScheduler))
            commands.append(.version(command))
            events += emitted.map(DomainEvent.version)
        }
    }
}
