import Foundation
import Testing
@testable import CaseDomain

@Suite("Case lifecycle and access (R1, R2)")
struct CaseLifecycleTests {
    let t0 = CaseFixture.monday
    func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }

    @Test("R1.1 a case opened before the organisation is transitioned is closed at once as redirected")
    func implementationRedirect() throws {
        var s = CaseScenario()
        s.organisation = CaseFixture.implementationOrganisation
        let events = try s.send(CaseFixture.openCase(), by: CaseFixture.d1, at: t0)
        #expect(events.types == ["case-opened", "case-closed"])
        #expect(events[1] == .caseClosed(CaseClosed(reason: .redirected, note: "contact implementation project manager", by: "d1", at: t0)))
        #expect(s.state.status == .closed)
        #expect(s.state.closeReason == .redirected)
        #expect(s.state.clocks.isEmpty)
    }

    @Test("R1.2 read-only contacts cannot act, basic contacts act only on their own cases, designated act on any")
    func accessLevels() throws {
        var s = try CaseScenario.opened()
        #expect(s.refusal(caseComment("x"), by: CaseFixture.readOnly, at: at(1))?.rule == "R1.2")
        let basic = try #require(s.refusal(caseComment("x"), by: CaseFixture.basic, at: at(1)))
        #expect(basic.rule == "R1.2")
        #expect(basic.message.contains("own cases"))
        try s.send(caseComment("by-d2"), by: CaseFixture.d2, at: at(1))
        // Only designated contacts open cases themselves.
        var other = CaseScenario()
        #expect(other.refusal(CaseFixture.openCase(for: "b1"), by: CaseFixture.basic, at: t0)?.rule == "R1.2")
        // Staff open for the basic contact, who then acts on their own case.
        try other.send(CaseFixture.openCase(for: "b1", channel: .phone), by: CaseFixture.staff, at: t0)
        try other.send(caseComment("mine"), by: CaseFixture.basic, at: at(1))
        #expect(other.state.publicComments == 1)
    }

    @Test("R1.6 only staff set priority, assign, restore service and propose solutions")
    func staffOnly() throws {
        let s = try CaseScenario.opened()
        for command in [CaseCommand.setPriority(SetPriority(priority: "low", reason: "r")),
                        .routeCase(RouteCase(team: "t", owner: "s1", tier: .tier1)),
                        .restoreService(RestoreService(summary: "x")), .proposeSolution(ProposeSolution(solution: "x"))] {
            let error = try #require(s.refusal(command, by: CaseFixture.d1, at: at(1)))
            #expect(error.rule == "R1.2")
            #expect(error.message.contains("only staff"))
        }
        #expect(s.refusal(.autoCloseCase(AutoCloseCase()), by: CaseFixture.staff, at: at(1))?.rule == "R1.6")
    }

    @Test("R1.7 an auditor changes no case")
    func auditor() throws {
        let s = try CaseScenario.opened()
        let error = try #require(s.refusal(caseComment("x"), by: CaseFixture.auditor, at: at(1)))
        #expect(error.rule == "R1.7")
        #expect(CaseScenario().refusal(CaseFixture.openCase(), by: CaseFixture.auditor, at: t0)?.rule == "R1.7")
    }

    @Test("R1.8 a reporting job changes nothing")
    func reportingJob() throws {
        let s = try CaseScenario.opened()
        #expect(s.refusal(caseComment("x"), by: CaseFixture.reporting, at: at(1))?.rule == "R1.8")
    }

    @Test("R1.9 a contact of another organisation is refused")
    func otherOrganisation() throws {
        let s = try CaseScenario.opened()
        let error = try #require(s.refusal(caseComment("x"), by: CaseFixture.stranger, at: at(1)))
        #expect(error.rule == "R1.9")
        #expect(CaseScenario().refusal(CaseFixture.openCase(for: "x1"), by: CaseFixture.stranger, at: t0)?.rule == "R1.9")
    }

    @Test("R2.1 on chat and phone staff open the case on the contact's behalf")
    func onBehalf() throws {
        var s = CaseScenario()
        let refused = try #require(s.refusal(CaseFixture.openCase(channel: .phone), by: CaseFixture.d1, at: t0))
        #expect(refused.rule == "R2.1")
        try s.send(CaseFixture.openCase(channel: .chat), by: CaseFixture.staff, at: t0)
        #expect(s.state.contactID == "d1")
        #expect(s.state.openedBy == "s1")
        #expect(s.state.channel == .chat)
        #expect(CaseScenario().refusal(CaseFixture.openCase(for: "r1", channel: .phone), by: CaseFixture.staff, at: t0)?.rule == "R2.1")
    }

    @Test("R2.2 case types and sub-types are validated")
    func typesAndSubTypes() throws {
        let empty = CaseScenario()
        #expect(empty.refusal(CaseFixture.openCase(type: .support, subType: nil), by: CaseFixture.d1, at: t0)?.allowed == ["question", "problem"])
        #expect(empty.refusal(CaseFixture.openCase(type: .support, subType: "password-reset"), by: CaseFixture.d1, at: t0)?.rule == "R2.2")
        #expect(empty.refusal(CaseFixture.openCase(type: .admin, subType: "question"), by: CaseFixture.d1, at: t0)?.rule == "R2.2")
        #expect(empty.refusal(CaseFixture.openCase(type: .incident, subType: nil), by: CaseFixture.d1, at: t0)?.rule == "R2.2")
        #expect(empty.refusal(CaseFixture.openCase(type: .featureRequest, subType: nil), by: CaseFixture.d1, at: t0)?.allowed == ["submit-feature-request"])
        var ok = CaseScenario()
        try ok.send(CaseFixture.openCase(type: .serviceRequest, subType: "password-reset"), by: CaseFixture.d1, at: t0)
        #expect(ok.state.caseType == .serviceRequest)
        #expect(ok.state.subType == "password-reset")
        var admin = CaseScenario()
        try admin.send(CaseFixture.openCase(type: .admin, subType: nil), by: CaseFixture.d1, at: t0)
        #expect(admin.state.caseType == .admin)
    }

    @Test("R2.3 attachments are metadata of at most 25 MB with a SHA-256")
    func attachments() throws {
        var s = try CaseScenario.opened()
        let sha = String(repeating: "ab", count: 32)
        let tooBig = AddAttachment(attachmentID: "a1", name: "dump.zip", mediaType: "application/zip", size: 25_000_001, sha256: sha)
        let error = try #require(s.refusal(.addAttachment(tooBig), by: CaseFixture.d1, at: at(1)))
        #expect(error.rule == "R2.3")
        #expect(error.message == "attachment dump.zip is 25000001 bytes; the limit is 25000000 bytes")
        var badHash = tooBig; badHash.size = 10; badHash.sha256 = "XYZ"
        #expect(s.refusal(.addAttachment(badHash), by: CaseFixture.d1, at: at(1))?.rule == "R2.3")
        var ok = tooBig; ok.size = 25_000_000
        try s.send(.addAttachment(ok), by: CaseFixture.d1, at: at(1))
        #expect(s.state.attachments.map(\.size) == [25_000_000])
        #expect(s.state.attachments.first?.sha256 == sha)
    }

    @Test("R2.4 a case walks new, investigating, awaiting, responded, restored, proposed, closed")
    func fullLifecycle() throws {
        var s = try CaseScenario.opened(severity: "critical", policy: CaseFixture.policy)
        #expect(s.state.status == .new)
        try s.send(caseComment("c1"), by: CaseFixture.staff, at: at(0.1))
        #expect(s.state.status == .investigating)
        try s.send(.requestInformation(RequestInformation(question: "Which report?")), by: CaseFixture.staff, at: at(0.2))
        #expect(s.state.status == .awaitingCustomer)
        try s.send(caseComment("c2"), by: CaseFixture.d1, at: at(0.3))
        #expect(s.state.status == .customerResponded)
        try s.send(.restoreService(RestoreService(summary: "restarted")), by: CaseFixture.staff, at: at(0.4))
        #expect(s.state.status == .serviceRestored)
        try s.send(.proposeSolution(ProposeSolution(solution: "patch")), by: CaseFixture.staff, at: at(0.5))
        #expect(s.state.status == .solutionProposed)
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d1, at: at(0.6))
        #expect(s.state.status == .closed)
        #expect(s.state.closeReason == .resolved)
    }

    @Test("R2.5 a contact comment on an awaiting-customer case moves it to customer-responded")
    func contactAnswers() throws {
        var s = try CaseScenario.opened()
        try s.send(.requestInformation(RequestInformation(question: "Logs?")), by: CaseFixture.staff, at: at(1))
        let events = try s.send(caseComment("logs"), by: CaseFixture.d1, at: at(2))
        #expect(events.types.prefix(2) == ["comment-added", "customer-responded"])
        #expect(s.state.status == .customerResponded)
        #expect(s.state.awaitingCustomer == [ClockInterval(start: at(1), end: at(2), reason: "awaiting-customer")])
    }

    @Test("R2.6 the contact confirms (resolved) or rejects (investigating) a proposed solution")
    func confirmOrReject() throws {
        var s = try CaseScenario.opened()
        try s.send(.proposeSolution(ProposeSolution(solution: "A")), by: CaseFixture.staff, at: at(1))
        let rejected = try s.send(.rejectSolution(RejectSolution(reason: "still broken")), by: CaseFixture.d1, at: at(2))
        #expect(rejected.first == .solutionRejected(SolutionRejected(reason: "still broken", by: "d1", at: at(2))))
        #expect(s.state.status == .investigating)
        try s.send(.proposeSolution(ProposeSolution(solution: "B")), by: CaseFixture.staff, at: at(3))
        let confirmed = try s.send(.confirmSolution(ConfirmSolution(note: "thanks")), by: CaseFixture.d1, at: at(4))
        #expect(confirmed.first == .caseClosed(CaseClosed(reason: .resolved, note: "thanks", by: "d1", at: at(4))))
    }

    @Test("R2.6 with no answer the case auto-closes 10 calendar days after the solution was proposed")
    func autoClose() throws {
        var s = try CaseScenario.opened()
        try s.send(.proposeSolution(ProposeSolution(solution: "A")), by: CaseFixture.staff, at: at(1))
        let early = try #require(s.refusal(.autoCloseCase(AutoCloseCase()), by: CaseFixture.scheduler, at: CaseFixture.days(9.9, after: at(1))))
        #expect(early.rule == "R2.6")
        #expect(early.message.contains("2026-03-12T10:00:00.000Z"))
        let events = try s.send(.autoCloseCase(AutoCloseCase()), by: CaseFixture.scheduler, at: CaseFixture.days(10, after: at(1)))
        #expect(events.first == .caseClosed(CaseClosed(reason: .autoClosed, by: "system: deadline scheduler", at: CaseFixture.days(10, after: at(1)))))
        #expect(s.state.closeReason == .autoClosed)
    }

    @Test("R2.7 reopen within 7 days goes back to investigating")
    func reopenInWindow() throws {
        var s = try CaseScenario.opened()
        try s.send(.closeCase(CloseCase(reason: .cancelled)), by: CaseFixture.d1, at: at(1))
        try s.send(.reopenCase(ReopenCase(reason: "came back")), by: CaseFixture.d1, at: CaseFixture.days(7, after: at(1)))
        #expect(s.state.status == .investigating)
        #expect(s.state.reopenCount == 1)
    }

    @Test("R2.7 reopen after 7 days is refused and tells the caller to open a new case")
    func reopenTooLate() throws {
        var s = try CaseScenario.opened()
        try s.send(.closeCase(CloseCase(reason: .cancelled)), by: CaseFixture.d1, at: at(1))
        let error = try #require(s.refusal(.reopenCase(ReopenCase(reason: "again")), by: CaseFixture.d1, at: CaseFixture.days(7.01, after: at(1))))
        #expect(error.rule == "R2.7")
        #expect(error.message.contains("open a new case that references case c1"))
        #expect(error.allowed == ["open-case"])
        // The follow-up case references the old one.
        var followUp = CaseScenario()
        try followUp.send(CaseFixture.openCase(id: "c9", related: "c1"), by: CaseFixture.d1, at: CaseFixture.days(8, after: at(1)))
        #expect(followUp.state.relatedCaseID == "c1")
    }

    @Test("R2.8 a contact closes their own case as cancelled when no solution was proposed")
    func contactCancels() throws {
        var s = try CaseScenario.opened()
        #expect(s.refusal(.closeCase(CloseCase(reason: .resolved)), by: CaseFixture.d1, at: at(1))?.allowed == ["cancelled"])
        let events = try s.send(.closeCase(CloseCase(reason: .cancelled, note: "found it")), by: CaseFixture.d1, at: at(1))
        #expect(events.first == .caseClosed(CaseClosed(reason: .cancelled, note: "found it", by: "d1", at: at(1))))
        #expect(s.state.closeReason == .cancelled)
    }

    @Test("R2.9 staff close a case as redirected; staff cannot cancel")
    func staffRedirects() throws {
        var s = try CaseScenario.opened()
        #expect(s.refusal(.closeCase(CloseCase(reason: .cancelled)), by: CaseFixture.staff, at: at(1))?.rule == "R2.8")
        try s.send(.closeCase(CloseCase(reason: .redirected, note: "billing desk")), by: CaseFixture.staff, at: at(1))
        #expect(s.state.closeReason == .redirected)
    }

    @Test("R2.10 a command that does not fit the status is refused naming the status and the allowed commands")
    func wrongStatus() throws {
        var s = try CaseScenario.opened()
        try s.send(.proposeSolution(ProposeSolution(solution: "A")), by: CaseFixture.staff, at: at(1))
        let before = s.history
        let error = try #require(s.refusal(.requestInformation(RequestInformation(question: "?")), by: CaseFixture.staff, at: at(2)))
        #expect(error.rule == "R2.10")
        #expect(error.status == "solution-proposed")
        #expect(error.allowed == ["confirm-solution", "reject-solution", "add-comment", "close-case", "add-attachment"])
        #expect(error.message == "case is solution-proposed; request-information is not allowed; allowed: confirm-solution, reject-solution, add-comment, close-case, add-attachment")
        #expect(s.history == before)
        // Closed cases accept only reopen (and survey answers).
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d1, at: at(3))
        #expect(s.refusal(caseComment("late"), by: CaseFixture.d1, at: at(4))?.allowed == ["reopen-case", "answer-survey"])
        #expect(CaseRules.allowed(in: .solutionProposed, for: .contact) == ["confirm-solution", "reject-solution", "add-comment", "close-case", "add-attachment", "answer-survey"])
        #expect(CaseRules.allowed(in: .awaitingCustomer, for: .system) == ["record-clock-at-risk", "record-clock-breached", "record-update-overdue", "expire-survey"])
    }

    @Test("R2.11 staff set the priority with a reason; a contact may only ask for a change")
    func priority() throws {
        var s = try CaseScenario.opened(severity: "medium")
        #expect(s.refusal(.setPriority(SetPriority(priority: "high", reason: " ")), by: CaseFixture.staff, at: at(1))?.rule == "R2.11")
        #expect(s.refusal(.setPriority(SetPriority(priority: "P1", reason: "x")), by: CaseFixture.staff, at: at(1))?.allowed == ["critical", "high", "medium", "low"])
        let asked = try s.send(.requestPriorityChange(RequestPriorityChange(priority: "high", reason: "payroll blocked")), by: CaseFixture.d1, at: at(1))
        #expect(asked == [.priorityChangeRequested(PriorityChangeRequested(priority: "high", reason: "payroll blocked", by: "d1", at: at(1)))])
        #expect(s.state.priority == "medium")
        let changed = try s.send(.setPriority(SetPriority(priority: "high", reason: "payroll blocked")), by: CaseFixture.staff, at: at(2))
        #expect(changed.first == .priorityChanged(PriorityChanged(from: "medium", to: "high", reason: "payroll blocked", by: "s1", at: at(2))))
        #expect(s.state.priority == "high")
    }

    @Test("R2.12 a contact cannot choose critical at opening: it opens as high and staff raise it")
    func criticalCapped() throws {
        var s = CaseScenario()
        let events = try s.send(CaseFixture.openCase(severity: "critical"), by: CaseFixture.d1, at: t0)
        guard case .caseOpened(let opened) = events.first else { Issue.record("no case-opened"); return }
        #expect(opened.severity == "critical")
        #expect(opened.priority == "high")
        #expect(opened.requestedPriority == "critical")
        try s.send(.setPriority(SetPriority(priority: "critical", reason: "confirmed by phone")), by: CaseFixture.staff, at: at(0.5))
        #expect(s.state.priority == "critical")
        // Staff opening on the contact's behalf may choose critical.
        var phone = CaseScenario()
        try phone.send(CaseFixture.openCase(severity: "critical", channel: .phone), by: CaseFixture.staff, at: t0)
        #expect(phone.state.priority == "critical")
    }

    @Test("R2.13 routing assigns team and owner; escalation adds participants and keeps the owner")
    func ownership() throws {
        var s = try CaseScenario.opened()
        try s.send(.routeCase(RouteCase(team: "expenses-emea", owner: "s1", tier: .tier1)), by: CaseFixture.staff, at: at(1))
        try s.send(.escalateCase(EscalateCase(kind: .tier, to: "tier3", reason: "needs engineering")), by: CaseFixture.staff, at: at(2))
        try s.send(.escalateCase(EscalateCase(kind: .productManagement, to: "pm-expenses", reason: "design gap")), by: CaseFixture.staff, at: at(3))
        #expect(s.state.owner == "s1")
        #expect(s.state.team == "expenses-emea")
        #expect(s.state.participants == ["tier3", "pm-expenses"])
        try s.send(.routeCase(RouteCase(team: "expenses-emea", owner: "s3", tier: .tier3)), by: CaseFixture.manager, at: at(4))
        #expect(s.state.owner == "s3")
    }

    @Test("R2.14 public support updates notify contact and CC, contact comments notify the owner, internal comments notify nobody")
    func conversation() throws {
        var s = try CaseScenario.opened()
        try s.send(.routeCase(RouteCase(team: "t", owner: "s1", tier: .tier1)), by: CaseFixture.staff, at: at(0.5))
        let internalNote = try s.send(caseComment("i1", .internal), by: CaseFixture.staff, at: at(1))
        #expect(internalNote.types == ["comment-added"])
        #expect(s.state.lastModifiedAt == t0)
        let update = try s.send(caseComment("p1"), by: CaseFixture.staff, at: at(2))
        #expect(update.contains(.notificationQueued(NotificationQueued(reason: .supportUpdate, recipients: ["contact:d1", "email:boss@a.example"], reference: "p1", at: at(2)))))
        #expect(s.state.lastModifiedAt == at(2))
        let reply = try s.send(caseComment("p2"), by: CaseFixture.d1, at: at(3))
        #expect(reply.last == .notificationQueued(NotificationQueued(reason: .contactComment, recipients: ["staff:s1"], reference: "p2", at: at(3))))
        #expect(s.refusal(caseComment("p3", .internal), by: CaseFixture.d1, at: at(4))?.rule == "R2.14")
        #expect(s.state.publicComments == 2)
        #expect(s.state.internalComments == 1)
    }
}
