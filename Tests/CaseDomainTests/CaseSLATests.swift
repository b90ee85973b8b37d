import Foundation
import Testing
@testable import CaseDomain

@Suite("SLA clocks in the case stream (R4)")
struct CaseSLATests {
    let t0 = CaseFixture.monday  // Monday 09:00 UTC
    func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }
    func d(_ s: String) -> Date { CaseFixture.date(s) }

    @Test("R4.1 a business-hours target counts open time only and starts at the next opening")
    func businessHours() throws {
        // Friday 16:00: one hour on Friday, three on Monday.
        let friday = try CaseScenario.opened(at: d("2026-03-06T16:00:00.000Z"))
        #expect(friday.clock(.response, at: d("2026-03-06T16:00:00.000Z"))?.deadline == d("2026-03-09T12:00:00.000Z"))
        // Saturday: the clock starts at Monday 09:00.
        let saturday = try CaseScenario.opened(at: d("2026-03-07T10:00:00.000Z"))
        let state = try #require(saturday.clock(.response, at: d("2026-03-08T10:00:00.000Z")))
        #expect(state.deadline == d("2026-03-09T13:00:00.000Z"))
        #expect(state.elapsedSeconds == 0)
        #expect(state.businessTime)
    }

    @Test("R4.2 a wall-clock target counts every hour, day or night")
    func wallClock() throws {
        let s = try CaseScenario.opened(severity: "critical", at: d("2026-03-07T22:00:00.000Z"), by: CaseFixture.staff, channel: .phone)
        #expect(s.clock(.response, at: d("2026-03-07T22:00:00.000Z"))?.deadline == d("2026-03-07T23:00:00.000Z"))
        #expect(s.clock(.resolution, at: d("2026-03-07T22:00:00.000Z"))?.deadline == d("2026-03-08T06:00:00.000Z"))
        #expect(s.clock(.response, at: d("2026-03-07T22:00:00.000Z"))?.businessTime == false)
    }

    @Test("R4.3 a target in business days counts N x standardDayHours of business time")
    func businessDays() throws {
        let s = try CaseScenario.opened()
        let resolution = try #require(s.clock(.resolution, at: t0))
        #expect(resolution.targetSeconds == 2 * 8 * 3600)
        #expect(resolution.deadline == d("2026-03-03T17:00:00.000Z"))
    }

    @Test("R4.4 response is met by the first public staff comment, not internal or contact comments")
    func responseMet() throws {
        var s = try CaseScenario.opened()
        try s.send(caseComment("i", .internal), by: CaseFixture.staff, at: at(1))
        try s.send(caseComment("c", .public), by: CaseFixture.d1, at: at(1.5))
        #expect(s.state.clocks[.response]?.metAt == nil)
        let events = try s.send(caseComment("p", .public), by: CaseFixture.staff, at: at(2))
        #expect(events.contains(.clockMet(ClockMet(target: .response, at: at(2)))))
        #expect(s.clock(.response, at: at(3))?.metAt == at(2))
        #expect(s.clock(.response, at: at(3))?.deadline == nil)
    }

    @Test("R4.4 restoration is met at service-restored, resolution at solution-proposed, update cadence restarts and stops at close")
    func otherTargetsMet() throws {
        var s = try CaseScenario.opened(severity: "critical", by: CaseFixture.staff, channel: .phone)
        #expect(s.clock(.update, at: t0)?.deadline == at(2))
        try s.send(caseComment("p1"), by: CaseFixture.staff, at: at(1))
        #expect(s.clock(.update, at: at(1))?.deadline == at(3))
        try s.send(.restoreService(RestoreService(summary: "failover")), by: CaseFixture.staff, at: at(1.5))
        #expect(s.state.clocks[.restoration]?.metAt == at(1.5))
        #expect(s.clock(.update, at: at(1.5))?.deadline == at(3.5))
        try s.send(.proposeSolution(ProposeSolution(solution: "fix")), by: CaseFixture.staff, at: at(2))
        #expect(s.state.clocks[.resolution]?.metAt == at(2))
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d1, at: at(2.5))
        #expect(s.state.clocks[.update]?.stoppedAt == at(2.5))
        #expect(s.state.clocks[.update]?.metAt == nil)
    }

    @Test("R4.5 clocks pause while awaiting the customer and the pause intervals can be queried")
    func pauseWhileAwaiting() throws {
        var s = try CaseScenario.opened()
        let asked = try s.send(.requestInformation(RequestInformation(question: "Logs?")), by: CaseFixture.staff, at: at(1))
        #expect(asked.contains(.clockPaused(ClockPaused(target: .resolution, reason: "awaiting-customer", at: at(1)))))
        #expect(s.clock(.resolution, at: at(5))?.deadline == nil)
        #expect(s.clock(.resolution, at: at(5))?.paused == true)
        // Answer on Tuesday 10:00: 1 h used, 15 h left from Tuesday 10:00 → Wednesday 17:00.
        let tuesday = d("2026-03-03T10:00:00.000Z")
        try s.send(caseComment("logs"), by: CaseFixture.d1, at: tuesday)
        #expect(s.clock(.resolution, at: tuesday)?.deadline == d("2026-03-04T17:00:00.000Z"))
        #expect(s.state.pauseIntervals(.resolution) == [ClockInterval(start: at(1), end: tuesday, reason: "awaiting-customer")])
        #expect(s.state.pauseIntervals() == [ClockInterval(start: at(1), end: tuesday, reason: "awaiting-customer")])

        var policy = CaseFixture.policy
        policy.pauseWhileAwaitingCustomer = false
        var noPause = try CaseScenario.opened(policy: policy)
        let events = try noPause.send(.requestInformation(RequestInformation(question: "?")), by: CaseFixture.staff, at: at(1))
        #expect(!events.types.contains("clock-paused"))
        #expect(noPause.clock(.resolution, at: at(2))?.deadline == d("2026-03-03T17:00:00.000Z"))
    }

    @Test("R4.6 staff suspend the resolution target with a reason; it has no deadline until resumed")
    func suspension() throws {
        var s = try CaseScenario.opened()
        #expect(s.refusal(.suspendResolutionTarget(SuspendResolutionTarget(reason: "eng")), by: CaseFixture.d1, at: at(1))?.rule == "R1.2")
        #expect(s.refusal(.suspendResolutionTarget(SuspendResolutionTarget(reason: "")), by: CaseFixture.staff, at: at(1))?.rule == "R4.6")
        try s.send(.suspendResolutionTarget(SuspendResolutionTarget(reason: "engineering fix")), by: CaseFixture.engineer, at: at(1))
        let suspended = try #require(s.clock(.resolution, at: at(2)))
        #expect(suspended.suspended)
        #expect(suspended.deadline == nil)
        #expect(s.state.clocks[.resolution]?.suspensions.first?.reason == "engineering fix")
        #expect(s.refusal(.suspendResolutionTarget(SuspendResolutionTarget(reason: "again")), by: CaseFixture.staff, at: at(2))?.rule == "R4.6")
        try s.send(.resumeResolutionTarget(ResumeResolutionTarget()), by: CaseFixture.engineer, at: d("2026-03-03T10:00:00.000Z"))
        #expect(s.clock(.resolution, at: d("2026-03-03T10:00:00.000Z"))?.deadline == d("2026-03-04T17:00:00.000Z"))
        #expect(s.refusal(.resumeResolutionTarget(ResumeResolutionTarget()), by: CaseFixture.staff, at: at(30))?.rule == "R4.6")
    }

    @Test("R4.6 suspension and the awaiting-customer pause never overlap, so no time is credited twice")
    func suspensionDuringWait() throws {
        var s = try CaseScenario.opened()
        try s.send(.requestInformation(RequestInformation(question: "?")), by: CaseFixture.staff, at: at(1))
        let suspended = try s.send(.suspendResolutionTarget(SuspendResolutionTarget(reason: "eng")), by: CaseFixture.engineer, at: at(2))
        #expect(suspended.types == ["clock-resumed", "clock-suspended"])
        let resumed = try s.send(.resumeResolutionTarget(ResumeResolutionTarget()), by: CaseFixture.engineer, at: at(3))
        #expect(resumed.types == ["clock-suspension-ended", "clock-paused"])
        try s.send(caseComment("answer"), by: CaseFixture.d1, at: at(4))
        let clock = try #require(s.state.clocks[.resolution])
        #expect(clock.pauses.map(\.start) == [at(1), at(3)])
        #expect(clock.suspensions.map(\.start) == [at(2)])
        // Only 09:00-10:00 and 13:00-14:00 count.
        #expect(s.clock(.resolution, at: at(5))?.elapsedSeconds == 7200)
    }

    @Test("R4.7 a priority change recomputes every deadline under the new targets and elapsed time still counts")
    func retarget() throws {
        var s = try CaseScenario.opened(severity: "medium")
        #expect(s.clock(.response, at: t0)?.deadline == at(8))
        let events = try s.send(.setPriority(SetPriority(priority: "high", reason: "payroll")), by: CaseFixture.staff, at: at(2))
        #expect(events.types == ["priority-changed", "clock-retargeted", "clock-retargeted", "clock-started"])
        #expect(events[1] == .clockRetargeted(ClockRetargeted(target: .response, duration: .businessTime(seconds: 4 * 3600), priority: "high", at: at(2))))
        let response = try #require(s.clock(.response, at: at(2)))
        #expect(response.elapsedSeconds == 7200)
        #expect(response.deadline == at(4))
        #expect(s.clock(.resolution, at: at(2))?.deadline == d("2026-03-03T17:00:00.000Z"))
        #expect(s.clock(.update, at: at(2))?.deadline == at(6))
        // Down to low: no resolution or update target any more.
        let lowered = try s.send(.setPriority(SetPriority(priority: "low", reason: "workaround")), by: CaseFixture.staff, at: at(3))
        #expect(lowered.types == ["priority-changed", "clock-retargeted", "clock-stopped", "clock-stopped"])
        #expect(s.clock(.response, at: at(3))?.deadline == at(8))
    }

    @Test("R4.8 a clock shows target, elapsed, remaining, deadline, paused, met, breached and at-risk; transitions are events")
    func clockState() throws {
        var s = try CaseScenario.opened()
        let response = try #require(s.clock(.response, at: at(2)))
        #expect(response == SLAClockState(target: .response, targetSeconds: 14400, businessTime: true, elapsedSeconds: 7200,
                                          remainingSeconds: 7200, deadline: at(4), paused: false, suspended: false,
                                          metAt: nil, breachedAt: nil, atRiskAt: nil))
        try s.send(.recordClockAtRisk(RecordClockAtRisk(target: .response)), by: CaseFixture.scheduler, at: at(3))
        try s.send(.recordClockBreached(RecordClockBreached(target: .response)), by: CaseFixture.scheduler, at: at(4.5))
        try s.send(caseComment("sorry"), by: CaseFixture.staff, at: at(5))
        let after = try #require(s.clock(.response, at: at(6)))
        #expect(after.atRiskAt == at(3))
        #expect(after.breachedAt == at(4))
        #expect(after.metAt == at(5))
        #expect(after.remainingSeconds == -3600)
        let clockEvents = s.history.types.filter { $0.hasPrefix("clock-") }
        #expect(clockEvents == ["clock-started", "clock-started", "clock-started", "clock-at-risk", "clock-breached", "clock-met", "clock-started"])
    }

    @Test("R4.9 a case keeps the policy version it opened under and refuses another")
    func policyVersionKept() throws {
        var s = try CaseScenario.opened()
        #expect(s.state.policyName == "test-sla")
        #expect(s.state.policyVersion == 3)
        var newer = CaseFixture.policy
        newer.version = 4
        s.policy = newer
        let error = try #require(s.refusal(caseComment("x"), by: CaseFixture.staff, at: at(1)))
        #expect(error.rule == "R4.9")
        #expect(error.message == "case opened under policy test-sla v3; supply that version, not test-sla v4")
    }

    @Test("R4.9 policy and calendar versions are events; a calendar closure moves the deadlines of running clocks")
    func versions() throws {
        let ctx = DecisionContext(now: t0, actor: CaseFixture.manager)
        let v1 = try PolicyDecider.decide(.recordPolicyVersion(RecordPolicyVersion(name: "test-sla", version: 1, content: "{\"v\":1}")), state: PolicyDecider.initialState, context: ctx)
        let state = PolicyDecider.fold(v1)
        #expect(state.version == 1)
        #expect(state.content == "{\"v\":1}")
        do {
            _ = try PolicyDecider.decide(.recordPolicyVersion(RecordPolicyVersion(name: "test-sla", version: 1, content: "{}")), state: state, context: ctx)
            Issue.record("same version accepted")
        } catch {
            #expect(error.rule == "R4.9")
        }
        let closure = try PolicyDecider.decide(.recordCalendarVersion(RecordCalendarVersion(name: "office", version: 2, content: "{\"closures\":[\"2026-03-03\"]}", reason: "office move")),
                                               state: PolicyDecider.initialState, context: ctx)
        #expect(closure == [.calendarVersionRecorded(CalendarVersionRecorded(name: "office", version: 2, content: "{\"closures\":[\"2026-03-03\"]}", reason: "office move", by: "m1", at: t0))])
        do {
            _ = try PolicyDecider.decide(.recordPolicyVersion(RecordPolicyVersion(name: "x", version: 9, content: "{}")), state: PolicyDecider.initialState,
                                         context: DecisionContext(now: t0, actor: CaseFixture.d1))
            Issue.record("contact recorded a policy")
        } catch {
            #expect(error.rule == "R4.9")
        }
        // The same case under the changed calendar: Tuesday closed, the resolution deadline moves to Wednesday.
        var s = try CaseScenario.opened()
        #expect(s.clock(.resolution, at: t0)?.deadline == d("2026-03-03T17:00:00.000Z"))
        let tuesday = Int64(d("2026-03-03T00:00:00.000Z").timeIntervalSince1970) / 86_400
        s.measures = CalendarMeasureProvider { _ in CaseTestOfficeHours(closedDays: [tuesday]) }
        #expect(s.clock(.resolution, at: t0)?.deadline == d("2026-03-04T17:00:00.000Z"))
    }

    @Test("dueTimeDrivenCommands lists every deadline and each command is accepted exactly when due")
    func dueCommands() throws {
        var s = try CaseScenario.opened()
        let due = CaseDecider.dueTimeDrivenCommands(s.state, measures: s.measures, policy: s.policy)
        #expect(due.map(\.due) == [at(3), at(3), at(4), at(4), d("2026-03-03T13:00:00.000Z"), d("2026-03-03T17:00:00.000Z")])
        #expect(due.map(\.command) == [
            .recordClockAtRisk(RecordClockAtRisk(target: .response)), .recordClockAtRisk(RecordClockAtRisk(target: .update)),
            .recordClockBreached(RecordClockBreached(target: .response)), .recordUpdateOverdue(RecordUpdateOverdue()),
            .recordClockAtRisk(RecordClockAtRisk(target: .resolution)), .recordClockBreached(RecordClockBreached(target: .resolution)),
        ])
        for item in due {
            #expect(s.refusal(item.command, by: CaseFixture.scheduler, at: item.due.addingTimeInterval(-1)) != nil)
            #expect(s.refusal(item.command, by: CaseFixture.scheduler, at: item.due) == nil)
        }
        try s.send(.proposeSolution(ProposeSolution(solution: "x")), by: CaseFixture.staff, at: at(1))
        let later = CaseDecider.dueTimeDrivenCommands(s.state, measures: s.measures, policy: s.policy)
        #expect(later.map(\.command.type) == ["record-clock-at-risk", "record-update-overdue", "auto-close-case"])
        #expect(later.last?.due == CaseFixture.days(10, after: at(1)))
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d1, at: at(2))
        let closed = CaseDecider.dueTimeDrivenCommands(s.state, measures: s.measures, policy: s.policy)
        #expect(closed == [DueCommand(due: CaseFixture.days(30, after: at(2)), command: .expireSurvey(ExpireSurvey(surveyID: "c1-survey-1")))])
    }

    @Test("R4.9 where each clock finished: noted once when it is met or stopped, dropped when it runs again or goes")
    func clockFinishes() {
        var state = CaseState()
        state.clocks[.response] = SLAClock(target: .response, duration: .businessDays(1), startedAt: t0)
        state.clocks[.resolution] = SLAClock(target: .resolution, duration: .businessDays(2), startedAt: t0)
        var finishes = ClockFinishes()
        state.noteClockFinishes(&finishes, at: 3)
        #expect(finishes.isEmpty)
        state.clocks[.response]?.meet(at: at(1))
        state.noteClockFinishes(&finishes, at: 5)
        state.noteClockFinishes(&finishes, at: 7)  // still met: keeps where it finished
        #expect(finishes[.response] == 5 && finishes[.resolution] == nil)
        state.clocks[.resolution]?.stop(at: at(2))
        state.noteClockFinishes(&finishes, at: 9)
        #expect(finishes[.response] == 5 && finishes[.resolution] == 9)
        // A restarted clock runs again; a clock no longer held has no position.
        state.clocks[.response] = SLAClock(target: .response, duration: .businessDays(1), startedAt: at(3))
        state.clocks[.resolution] = nil
        state.noteClockFinishes(&finishes, at: 11)
        #expect(finishes.isEmpty)
        #expect(finishes == ClockFinishes())
    }
}
