import Foundation
import Testing
@testable import CaseDomain

@Suite("Determinism")
struct CaseDeterminismTests {
    @Test("Determinism: folding the same events twice, or after an encode/decode round trip, gives equal states")
    func foldTwice() throws {
        let history = try CaseDomainTour.run().caseHistory
        #expect(history.count >= 50)
        let first = CaseDecider.fold(history), second = CaseDecider.fold(history)
        #expect(first == second)
        let replayed = try history.map { event in
            let e = try event.encoded()
            return try CaseEvent.decode(type: e.type, schemaVersion: e.schemaVersion, payload: e.payload)
        }
        #expect(CaseDecider.fold(replayed) == first)
        // evolve one by one equals fold.
        #expect(history.reduce(CaseDecider.initialState, CaseDecider.evolve) == first)
    }

    @Test("Determinism: deciding the same command on the same state and context gives the same events")
    func decideTwice() throws {
        let s = try CaseScenario.opened()
        let ctx = s.context(CaseFixture.staff, CaseFixture.hours(1, after: CaseFixture.monday))
        let a = try CaseDecider.decide(caseComment("x"), state: s.state, context: ctx)
        let b = try CaseDecider.decide(caseComment("x"), state: s.state, context: ctx)
        #expect(a == b)
    }

    @Test("R2.10 a refused command emits nothing and leaves the state as it was")
    func refusedEmitsNothing() throws {
        var s = try CaseScenario.opened()
        let before = s.state, history = s.history
        var emitted: [CaseEvent]? = nil
        do {
            emitted = try CaseDecider.decide(.confirmSolution(ConfirmSolution()), state: s.state, context: s.context(CaseFixture.d1, CaseFixture.monday))
        } catch {
            #expect(error.rule == "R2.10")
            #expect(error.status == "new")
        }
        #expect(emitted == nil)
        #expect(s.state == before)
        #expect(s.history == history)
        try s.send(caseComment("ok"), by: CaseFixture.staff, at: CaseFixture.monday)
        #expect(s.history.count > history.count)
    }
}
