import Foundation
import Testing
@testable import CaseDomain

@Suite("Escalation flags (R3)")
struct CaseEscalationTests {
    let t0 = CaseFixture.monday
    func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }
    let press = CaseCommand.escalateCase(EscalateCase(kind: .customer, reason: "no answer yet"))

    @Test("R3.1 a contact may escalate once the response target passed without an answer")
    func customerEscalationAfterTarget() throws {
        var s = try CaseScenario.opened()  // response deadline Monday 13:00
        let early = try #require(s.refusal(press, by: CaseFixture.d1, at: at(3.9)))
        #expect(early.rule == "R3.1")
        #expect(early.message.contains("once the response or resolution target has passed"))
        let events = try s.send(press, by: CaseFixture.d1, at: at(4))
        #expect(events == [.escalationFlagRaised(EscalationFlagRaised(kind: .customerEscalated, rule: "R3.1", raisedBy: "d1", reason: "no answer yet", at: at(4)))])
        #expect(s.state.currentFlags.map(\.kind) == [.customerEscalated])
        #expect(s.refusal(press, by: CaseFixture.d1, at: at(5))?.message.contains("already customer-escalated") == true)
    }

    @Test("R3.1 a policy may let contacts escalate at any time")
    func customerEscalationAnyTime() throws {
        var policy = CaseFixture.policy
        policy.customerEscalationAnyTime = true
        var s = try CaseScenario.opened(policy: policy)
        try s.send(press, by: CaseFixture.d1, at: at(0.5))
        #expect(s.state.flags.first?.kind == .customerEscalated)
    }

    @Test("R3.2 a contact asks for a manager")
    func managerEscalation() throws {
        var s = try CaseScenario.opened()
        try s.send(.escalateCase(EscalateCase(kind: .manager, reason: "unhappy")), by: CaseFixture.d1, at: at(0.5))
        let flag = try #require(s.state.flags.first)
        #expect(flag.kind == .managerEscalated)
        #expect(flag.rule == "R3.2")
        #expect(flag.raisedBy == "d1")
    }

    @Test("R3.3 staff escalate to another tier, department or product management; contacts cannot")
    func tierEscalation() throws {
        var s = try CaseScenario.opened()
        #expect(s.refusal(.escalateCase(EscalateCase(kind: .tier, to: "tier2", reason: "x")), by: CaseFixture.d1, at: at(1))?.rule == "R3.3")
        #expect(s.refusal(.escalateCase(EscalateCase(kind: .department, reason: "x")), by: CaseFixture.staff, at: at(1))?.rule == "R3.3")
        try s.send(.escalateCase(EscalateCase(kind: .tier, to: "tier2", reason: "integration")), by: CaseFixture.staff, at: at(1))
        try s.send(.escalateCase(EscalateCase(kind: .department, to: "billing", reason: "invoice")), by: CaseFixture.staff, at: at(2))
        #expect(s.state.flags.map(\.kind) == [.tier, .tier])
        #expect(s.state.flags.map(\.participant) == ["tier2", "billing"])
        #expect(s.state.flags.allSatisfy { $0.rule == "R3.3" })
    }

    @Test("R3.4 a passed deadline raises a breach flag once; not before it is due")
    func breach() throws {
        var s = try CaseScenario.opened()
        let record = CaseCommand.recordClockBreached(RecordClockBreached(target: .response))
        let early = try #require(s.refusal(record, by: CaseFixture.scheduler, at: at(3.99)))
        #expect(early.rule == "R3.4")
        #expect(early.message == "the response deadline is 2026-03-02T13:00:00.000Z; not yet breached")
        let events = try s.send(record, by: CaseFixture.scheduler, at: at(4.1))
        #expect(events[0] == .clockBreached(ClockBreached(target: .response, at: at(4), recordedAt: at(4.1))))
        #expect(events[1] == .escalationFlagRaised(EscalationFlagRaised(kind: .responseBreached, rule: "R3.4", raisedBy: "system: deadline scheduler",
                                                                        reason: "response deadline 2026-03-02T13:00:00.000Z passed", target: .response, at: at(4.1))))
        #expect(s.state.isCurrentlyBreached)
        #expect(s.refusal(record, by: CaseFixture.scheduler, at: at(5))?.message == "the response breach is already recorded")
        let overdue = try s.send(.recordUpdateOverdue(RecordUpdateOverdue()), by: CaseFixture.scheduler, at: at(4.2))
        if case .escalationFlagRaised(let flag)? = overdue.last {
            #expect(flag.kind == .updateOverdue)
        } else {
            Issue.record("no update-overdue flag in \(overdue.types)")
        }
        #expect(s.refusal(.recordClockBreached(RecordClockBreached(target: .update)), by: CaseFixture.scheduler, at: at(5))?.allowed == ["record-update-overdue"])
    }

    @Test("R3.5 at-risk is raised at the policy share of the target and clears when the clock is met")
    func atRisk() throws {
        var policy = CaseFixture.policy
        policy.atRiskShare = 0.5
        var s = try CaseScenario.opened(policy: policy)
        let record = CaseCommand.recordClockAtRisk(RecordClockAtRisk(target: .response))
        #expect(s.refusal(record, by: CaseFixture.scheduler, at: at(1.9))?.rule == "R3.5")
        let events = try s.send(record, by: CaseFixture.scheduler, at: at(2))
        #expect(events.first == .clockAtRisk(ClockAtRisk(target: .response, at: at(2), recordedAt: at(2))))
        #expect(s.state.currentFlags.map(\.kind) == [.atRisk])
        let met = try s.send(caseComment("here"), by: CaseFixture.staff, at: at(2.5))
        #expect(met.contains(.escalationFlagCleared(EscalationFlagCleared(kind: .atRisk, target: .response, reason: "response target met", at: at(2.5)))))
        #expect(s.state.currentFlags.isEmpty)
        #expect(s.state.flags.first?.clearedAt == at(2.5))
    }

    @Test("R3.6 a flag records who raised it, when and which rule; a met breach stays as history but is no longer current")
    func flagHistory() throws {
        var s = try CaseScenario.opened()
        try s.send(.recordClockBreached(RecordClockBreached(target: .response)), by: CaseFixture.scheduler, at: at(5))
        try s.send(caseComment("late answer"), by: CaseFixture.staff, at: at(6))
        let flag = try #require(s.state.flags.first)
        #expect(flag == EscalationFlag(kind: .responseBreached, rule: "R3.4", raisedBy: "system: deadline scheduler",
                                       reason: "response deadline 2026-03-02T13:00:00.000Z passed", target: .response,
                                       raisedAt: at(5), clearedAt: at(6)))
        #expect(!s.state.isCurrentlyBreached)
        #expect(s.state.clocks[.response]?.breachedAt == at(4))
        // Closing clears whatever is still current.
        try s.send(.escalateCase(EscalateCase(kind: .manager, reason: "x")), by: CaseFixture.d1, at: at(7))
        try s.send(.closeCase(CloseCase(reason: .cancelled)), by: CaseFixture.d1, at: at(8))
        #expect(s.state.currentFlags.isEmpty)
        #expect(s.state.flags.count == 2)
    }
}
