import Foundation
import Testing
@testable import CaseDomain

@Suite("Satisfaction surveys (R5)")
struct SurveyTests {
    let t0 = CaseFixture.monday
    func at(_ h: Double) -> Date { CaseFixture.hours(h, after: t0) }
    func answer(_ id: String = "c1-survey-1", _ k: Int = 5, _ c: Int = 4, _ t: Int = 3, comment: String? = "quick") -> CaseCommand {
        .answerSurvey(AnswerSurvey(surveyID: id, knowledge: k, communication: c, timeliness: t, comment: comment))
    }

    /// A case proposed by staff and confirmed by d2 (not the opener) at +2 h.
    func closed() throws -> CaseScenario {
        var s = try CaseScenario.opened()
        try s.send(.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), by: CaseFixture.staff, at: at(0.5))
        try s.send(.proposeSolution(ProposeSolution(solution: "x")), by: CaseFixture.staff, at: at(1))
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d2, at: at(2))
        return s
    }

    @Test("R5.1 every close sends a survey to the contact who opened the case")
    func surveyOnClose() throws {
        let s = try closed()
        let sent = s.history.filter { $0.type == "survey-sent" }
        #expect(sent == [.surveySent(SurveySent(surveyID: "c1-survey-1", contactID: "d1", answerBy: CaseFixture.days(30, after: at(2)), at: at(2)))])
        #expect(s.history.last == .notificationQueued(NotificationQueued(reason: .survey, recipients: ["contact:d1"], reference: "c1-survey-1", at: at(2))))
        // Auto-close and staff close send one too.
        var auto = try CaseScenario.opened()
        try auto.send(.proposeSolution(ProposeSolution(solution: "x")), by: CaseFixture.staff, at: at(1))
        try auto.send(.autoCloseCase(AutoCloseCase()), by: CaseFixture.scheduler, at: CaseFixture.days(11, after: at(1)))
        #expect(auto.state.surveys.map(\.contactID) == ["d1"])
        var staffClose = try CaseScenario.opened()
        try staffClose.send(.closeCase(CloseCase(reason: .resolved)), by: CaseFixture.staff, at: at(1))
        #expect(staffClose.state.surveys.count == 1)
    }

    @Test("R5.2 a survey scores knowledge, communication and timeliness from 1 to 5 with an optional comment")
    func scores() throws {
        var s = try closed()
        let error = try #require(s.refusal(answer("c1-survey-1", 6, 4, 3), by: CaseFixture.d1, at: at(3)))
        #expect(error.rule == "R5.2")
        #expect(error.message == "knowledge score must be 1 to 5, got 6")
        #expect(s.refusal(answer("c1-survey-1", 5, 0, 3), by: CaseFixture.d1, at: at(3))?.rule == "R5.2")
        try s.send(answer(comment: nil), by: CaseFixture.d1, at: at(3))
        let survey = try #require(s.state.surveys.first)
        #expect([survey.knowledge, survey.communication, survey.timeliness] == [5, 4, 3])
        #expect(survey.comment == nil)
        #expect(survey.answeredAt == at(3))
    }

    @Test("R5.3 a survey is answered once, within 30 days; later or repeated answers are refused")
    func answerOnceInTime() throws {
        var s = try closed()
        #expect(s.refusal(answer(), by: CaseFixture.d2, at: at(3))?.rule == "R5.1")
        #expect(s.refusal(answer(), by: CaseFixture.stranger, at: at(3))?.rule == "R1.9")
        let late = try #require(s.refusal(answer(), by: CaseFixture.d1, at: CaseFixture.days(30, after: at(2))))
        #expect(late.rule == "R5.3")
        try s.send(answer(), by: CaseFixture.d1, at: CaseFixture.days(29, after: at(2)))
        let again = try #require(s.refusal(answer(), by: CaseFixture.d1, at: CaseFixture.days(29.5, after: at(2))))
        #expect(again.rule == "R5.3")
        #expect(again.message.contains("answered once"))
    }

    @Test("R5.3 an unanswered survey expires when due; reopening keeps it and the next close sends a new one")
    func expiryAndReopen() throws {
        var s = try closed()
        try s.send(.reopenCase(ReopenCase(reason: "back")), by: CaseFixture.d1, at: at(3))
        #expect(s.state.surveys.count == 1)
        #expect(s.refusal(.expireSurvey(ExpireSurvey(surveyID: "c1-survey-1")), by: CaseFixture.scheduler, at: at(4))?.rule == "R5.3")
        try s.send(.proposeSolution(ProposeSolution(solution: "y")), by: CaseFixture.staff, at: at(4))
        try s.send(.confirmSolution(ConfirmSolution()), by: CaseFixture.d1, at: at(5))
        #expect(s.state.surveys.map(\.id) == ["c1-survey-1", "c1-survey-2"])
        let expired = try s.send(.expireSurvey(ExpireSurvey(surveyID: "c1-survey-1")), by: CaseFixture.scheduler, at: CaseFixture.days(30, after: at(2)))
        #expect(expired == [.surveyExpired(SurveyExpired(surveyID: "c1-survey-1", at: CaseFixture.days(30, after: at(2))))])
        #expect(s.refusal(answer(), by: CaseFixture.d1, at: CaseFixture.days(30, after: at(2)))?.rule == "R5.3")
        try s.send(answer("c1-survey-2"), by: CaseFixture.d1, at: CaseFixture.days(30, after: at(2)))
    }

    @Test("R5.4 answered surveys keep the facts reports group by: scores, owner, team, priority, organisation, period")
    func reportFacts() throws {
        var s = try closed()
        try s.send(answer(), by: CaseFixture.d1, at: at(3))
        let survey = try #require(s.state.surveys.first)
        #expect(survey.sentAt == at(2))
        #expect(survey.answeredAt == at(3))
        #expect(s.state.owner == "s1")
        #expect(s.state.team == "expenses")
        #expect(s.state.priority == "high")
        #expect(s.state.organisationID == "org-a")
        #expect(s.history.contains(.surveyAnswered(SurveyAnswered(surveyID: "c1-survey-1", knowledge: 5, communication: 4, timeliness: 3, comment: "quick", at: at(3)))))
    }
}
