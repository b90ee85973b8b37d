import Foundation
import Testing
@testable import CaseDomain

/// Drives every aggregate through every command type once (or more) and records the
/// commands sent and the events emitted: real samples for the schema and registry tests,
/// and a realistic history for the determinism test and the benchmark.
struct CaseDomainTour {
    var commands: [DomainCommand] = []
    var events: [DomainEvent] = []
    var caseHistory: [CaseEvent] = []

    static func run() throws -> CaseDomainTour {
        var tour = CaseDomainTour()
        try tour.organisation()
        try tour.caseStream()
        try tour.incident()
        try tour.featureAndVersions()
        return tour
    }

    private mutating func organisation() throws {
        var state = OrganisationState()
        let t0 = CaseFixture.monday
        let steps: [(OrganisationCommand, Principal)] = [
            (.registerOrganisation(RegisterOrganisation(organisationID: "org-t", name: "Tour", policyName: "test-sla")), CaseFixture.manager),
            (.addContact(AddContact(contactID: "t1", name: "T1", email: "t1@t.example", access: .designated)), CaseFixture.manager),
            (.addContact(AddContact(contactID: "t2", name: "T2", email: "t2@t.example", access: .basic)), CaseFixture.manager),
            (.addContact(AddContact(contactID: "t3", name: "T3", email: "t3@t.example", access: .designated)), CaseFixture.manager),
            (.changeContactAccess(ChangeContactAccess(contactID: "t2", access: .designated)), CaseFixture.manager),
            (.updateContact(UpdateContact(contactID: "t2", name: "T Two", email: "t.two@t.example")), CaseFixture.manager),
            (.setIncidentReportAccess(SetIncidentReportAccess(contactID: "t1", granted: true)), CaseFixture.manager),
            (.setAlertOptOut(SetAlertOptOut(contactID: "t3", optedOut: true)), Principal.contact("t3", organisation: "org-t", access: .designated)),
            (.transitionToSupport(TransitionToSupport()), CaseFixture.manager),
            (.removeContact(RemoveContact(contactID: "t3")), CaseFixture.manager),
        ]
        for (command, actor) in steps {
            let emitted = try OrganisationDecider.decide(command, state: state, context: CaseFixture.orgContext(actor, at: t0))
            state = OrganisationDecider.fold(emitted, into: state)
            commands.append(.organisation(command))
            events += emitted.map(DomainEvent.organisation)
        }
    }

    private mutating func caseStream() throws {
        let t0 = CaseFixture.monday
        func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }
        let sha = String(repeating: "0f", count: 32)
        var s = CaseScenario()
        let steps: [(CaseCommand, Principal, Date)] = [
            (CaseFixture.openCase(), CaseFixture.d1, t0),
            (.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), CaseFixture.staff, at(0.1)),
            (.requestPriorityChange(RequestPriorityChange(priority: "critical", reason: "payroll run")), CaseFixture.d1, at(0.2)),
            (.addAttachment(AddAttachment(attachmentID: "a1", name: "log.txt", mediaType: "text/plain", size: 2048, sha256: sha)), CaseFixture.d1, at(0.3)),
            (.recordClockAtRisk(RecordClockAtRisk(target: .response)), CaseFixture.scheduler, at(3)),
            (.recordClockBreached(RecordClockBreached(target: .response)), CaseFixture.scheduler, at(4.1)),
            (.recordUpdateOverdue(RecordUpdateOverdue()), CaseFixture.scheduler, at(4.2)),
            (.escalateCase(EscalateCase(kind: .customer, reason: "no answer")), CaseFixture.d1, at(4.3)),
            (caseComment("p1"), CaseFixture.staff, at(5)),
            (caseComment("i1", .internal), CaseFixture.engineer, at(5.2)),
            (.setPriority(SetPriority(priority: "critical", reason: "payroll run confirmed")), CaseFixture.staff, at(5.5)),
            (.escalateCase(EscalateCase(kind: .tier, to: "tier3", reason: "engineering")), CaseFixture.staff, at(5.7)),
            (.requestInformation(RequestInformation(question: "Which batch?")), CaseFixture.staff, at(6)),
            (caseComment("p2"), CaseFixture.d1, at(7)),
            (.suspendResolutionTarget(SuspendResolutionTarget(reason: "engineering fix")), CaseFixture.engineer, at(7.5)),
            (.resumeResolutionTarget(ResumeResolutionTarget(note: "fix deployed")), CaseFixture.engineer, at(8)),
            (.linkIncident(LinkIncident(incidentNumber: 7)), CaseFixture.staff, at(8.1)),
            (.convertToIncident(ConvertToIncident(incidentNumber: 8)), CaseFixture.operations, at(8.2)),
            (.restoreService(RestoreService(summary: "batch re-run")), CaseFixture.staff, at(8.3)),
            (.proposeSolution(ProposeSolution(solution: "patch 1")), CaseFixture.staff, at(8.4)),
            (.rejectSolution(RejectSolution(reason: "still slow")), CaseFixture.d1, at(8.5)),
            (.proposeSolution(ProposeSolution(solution: "patch 2")), CaseFixture.engineer, at(9)),
            (.confirmSolution(ConfirmSolution(note: "works")), CaseFixture.d1, at(9.5)),
            (.answerSurvey(AnswerSurvey(surveyID: "c1-survey-1", knowledge: 5, communication: 4, timeliness: 3, comment: "ok")), CaseFixture.d1, at(10)),
            (.reopenCase(ReopenCase(reason: "slow again")), CaseFixture.d1, at(11)),
            (.proposeSolution(ProposeSolution(solution: "patch 3")), CaseFixture.engineer, at(12)),
            (.autoCloseCase(AutoCloseCase()), CaseFixture.scheduler, CaseFixture.days(10, after: at(12))),
            (.expireSurvey(ExpireSurvey(surveyID: "c1-survey-2")), CaseFixture.scheduler, CaseFixture.days(40, after: at(12))),
        ]
        for (command, actor, now) in steps {
            try s.send(command, by: actor, at: now)
            commands.append(.case(command))
        }
        caseHistory = s.history
        events += s.history.map(DomainEvent.case)
        var cancelled = CaseScenario()
        try cancelled.send(CaseFixture.openCase(id: "c2", related: "c0"), by: CaseFixture.d1, at: t0)
        let close = CaseCommand.closeCase(CloseCase(reason: .cancelled, note: "solved myself"))
        try cancelled.send(close, by: CaseFixture.d1, at: at(1))
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
            .scheduleMaintenance(ScheduleMaintenance(windowID: "w1", start: CaseFixture.date("2026-03-06T21:00:00.000Z"),
                                                     end: CaseFixture.date("2026-03-07T01:00:00.000Z"), expectedOutageMinutes: 90, description: "upgrade")),
        ]
        for command in steps {
            let emitted = try IncidentDecider.decide(command, state: state, context: DecisionContext(
                now: CaseFixture.monday, actor: CaseFixture.operations, organisations: ["org-a": CaseFixture.organisation]))
            state = IncidentDecider.fold(emitted, into: state)
            commands.append(.incident(command))
            events += emitted.map(DomainEvent.incident)
        }
        // After-the-fact alert carries the optional dates.
        let atf = SendAlert(kind: .afterTheFactResolved, message: "fixed overnight", occurredFrom: CaseFixture.date("2026-03-01T02:00:00.000Z"),
                            occurredTo: CaseFixture.date("2026-03-01T02:40:00.123Z"))
        let declared = IncidentDecider.fold([.incidentDeclared(IncidentDeclared(incidentNumber: 9, title: "t", affectedServices: ["s"], origin: .own,
                                                                                 affectedOrganisations: [], subsetOfClients: true, by: "o1", at: CaseFixture.monday))])
        let emitted = try IncidentDecider.decide(.sendAlert(atf), state: declared, context: DecisionContext(now: CaseFixture.monday, actor: CaseFixture.operations))
        commands.append(.incident(.sendAlert(atf)))
        events += emitted.map(DomainEvent.incident)
    }

    private mutating func featureAndVersions() throws {
        var state = FeatureRequestState()
        let steps: [(FeatureRequestCommand, Principal)] = [
            (.submitFeatureRequest(SubmitFeatureRequest(featureID: "f1", organisationID: "org-a", subject: "Bulk approve", description: "d", product: "Expense")), CaseFixture.d1),
            (.changeFeatureRequestStatus(ChangeFeatureRequestStatus(status: .openProductManagement, subStatus: .underReview, note: "to PM")), CaseFixture.staff),
            (.closeFeatureRequest(CloseFeatureRequest(reason: "declined")), CaseFixture.staff),
        ]
        for (command, actor) in steps {
            let emitted = try FeatureRequestDecider.decide(command, state: state, context: DecisionContext(now: CaseFixture.monday, actor: actor))
            state = FeatureRequestDecider.fold(emitted, into: state)
            commands.append(.featureRequest(command))
            events += emitted.map(DomainEvent.featureRequest)
        }
        let versions: [VersionCommand] = [
            .recordPolicyVersion(RecordPolicyVersion(name: "test-sla", version: 3, content: "{\"name\":\"test-sla\"}")),
            .recordCalendarVersion(RecordCalendarVersion(name: "office", version: 2, content: "{\"closures\":[\"2026-03-03\"]}", reason: "office move")),
        ]
        for command in versions {
            let emitted = try PolicyDecider.decide(command, state: VersionState(), context: DecisionContext(now: CaseFixture.monday, actor: .deadlineScheduler))
            commands.append(.version(command))
            events += emitted.map(DomainEvent.version)
        }
    }
}
