import Foundation
import Testing
@testable import CaseDomain

@Suite("Feature requests (R7)")
struct FeatureRequestTests {
    let t0 = CaseFixture.monday

    func move(_ status: FeatureRequestStatus, _ sub: FeatureRequestSubStatus) -> FeatureRequestCommand {
        .changeFeatureRequestStatus(ChangeFeatureRequestStatus(status: status, subStatus: sub))
    }

    func run(_ commands: [FeatureRequestCommand], by actor: Principal = CaseFixture.staff,
             from state: FeatureRequestState = FeatureRequestState()) throws(DomainError) -> FeatureRequestState {
        var state = state
        for command in commands {
            state = FeatureRequestDecider.fold(try FeatureRequestDecider.decide(command, state: state, context: DecisionContext(now: t0, actor: actor)), into: state)
        }
        return state
    }

    func refusal(_ command: FeatureRequestCommand, from state: FeatureRequestState, by actor: Principal = CaseFixture.staff) -> DomainError? {
        do { _ = try run([command], by: actor, from: state); return nil } catch { return error }
    }

    let submit = FeatureRequestCommand.submitFeatureRequest(SubmitFeatureRequest(featureID: "f1", organisationID: CaseFixture.orgID,
                                                                                  subject: "Bulk approve", description: "…", product: "Expense"))

    @Test("R7 feature requests move forward through customer care and product management to closed")
    func lifecycle() throws {
        #expect(FeatureRequestStage.lifecycle.map(\.description) == [
            "open-customer-care/new", "open-customer-care/investigation", "open-customer-care/info-required",
            "open-customer-care/solution-proposed", "open-product-management/new", "open-product-management/info-required",
            "open-product-management/under-review", "open-product-management/future-candidate",
            "open-product-management/planned", "open-product-management/committed",
        ])
        var state = try run([submit], by: CaseFixture.d1)
        #expect(state.stage == FeatureRequestStage(.openCustomerCare, .new))
        state = try run([move(.openCustomerCare, .investigation), move(.openCustomerCare, .infoRequired),
                         move(.openCustomerCare, .investigation), move(.openProductManagement, .new),
                         move(.openProductManagement, .underReview), move(.openProductManagement, .infoRequired),
                         move(.openProductManagement, .underReview), move(.openProductManagement, .planned),
                         move(.openProductManagement, .committed)], from: state)
        #expect(state.stage == FeatureRequestStage(.openProductManagement, .committed))
        state = try run([.closeFeatureRequest(CloseFeatureRequest(reason: "released in 24.3"))], from: state)
        #expect(state.stage.status == .closed)
        #expect(refusal(move(.openProductManagement, .committed), from: state)?.message == "the feature request is closed")
    }

    @Test("R7 moving backwards outside the listed transitions is refused with the allowed stages")
    func backwardsRefused() throws {
        let state = try run([submit, move(.openProductManagement, .planned)], by: CaseFixture.staff)
        let error = try #require(refusal(move(.openCustomerCare, .investigation), from: state))
        #expect(error.rule == "R7")
        #expect(error.allowed == ["open-product-management/info-required", "open-product-management/committed"])
        #expect(refusal(move(.openCustomerCare, .underReview), from: state)?.message.hasPrefix("open-customer-care/under-review is not a feature-request stage") == true)
        #expect(refusal(move(.openProductManagement, .committed), from: state, by: CaseFixture.d1)?.rule == "R7")
    }

    @Test("R7 only designated contacts of the organisation and staff submit feature requests")
    func submitters() throws {
        #expect(refusal(submit, from: FeatureRequestState(), by: CaseFixture.basic)?.rule == "R1.2")
        #expect(refusal(submit, from: FeatureRequestState(), by: CaseFixture.stranger)?.rule == "R1.9")
        #expect(refusal(submit, from: FeatureRequestState(), by: CaseFixture.auditor)?.rule == "R1.7")
        #expect(try run([submit], by: CaseFixture.staff).id == "f1")
    }
}
