import Foundation
import Testing
@testable import CaseDomain

@Suite("Organisations (R1)")
struct OrganisationTests {
    typealias D = OrganisationDecider

    func decide(_ c: OrganisationCommand, _ state: OrganisationState, by actor: Principal = CaseFixture.manager) throws(DomainError) -> [OrganisationEvent] {
        try D.decide(c, state: state, context: CaseFixture.orgContext(actor))
    }

    func refusal(_ c: OrganisationCommand, _ state: OrganisationState, by actor: Principal = CaseFixture.manager) -> DomainError? {
        do { _ = try decide(c, state, by: actor); return nil } catch { return error }
    }

    func designated(_ id: String) -> OrganisationEvent {
        .contactAdded(ContactAdded(contactID: id, name: id, email: "\(id)@a.example", access: .designated, at: CaseFixture.monday))
    }

    @Test("R1.1 a registered organisation starts in implementation and transitions to support")
    func startsInImplementation() throws {
        let events = try decide(.registerOrganisation(RegisterOrganisation(organisationID: "org-z", name: "Zed", policyName: "test-sla")), OrganisationState())
        let state = D.fold(events)
        #expect(state.id == "org-z")
        #expect(state.phase == .implementation)
        let pre = D.fold(CaseFixture.organisationEvents(transitioned: false))
        let transition = try decide(.transitionToSupport(TransitionToSupport()), pre)
        #expect(D.fold(transition, into: pre).phase == .support)
        #expect(transition == [.organisationTransitioned(OrganisationTransitioned(by: "m1", at: CaseFixture.monday))])
    }

    @Test("R1.2 contacts carry basic, read-only or designated access and access can change")
    func accessLevels() throws {
        let org = CaseFixture.organisation
        #expect(org.contacts["d1"]?.access == .designated)
        #expect(org.contacts["b1"]?.access == .basic)
        #expect(org.contacts["r1"]?.access == .readOnly)
        let events = try decide(.changeContactAccess(ChangeContactAccess(contactID: "b1", access: .designated)), org)
        #expect(D.fold(events, into: org).contacts["b1"]?.access == .designated)
        let error = refusal(.addContact(AddContact(contactID: "n1", name: "N", email: "n@a.example", access: .basic)), org, by: CaseFixture.d1)
        #expect(error?.rule == "R1.2")
        let renamed = D.fold(try decide(.updateContact(UpdateContact(contactID: "b1", name: "Bo B", email: "bo.b@a.example")), org), into: org)
        #expect(renamed.contacts["b1"] == Contact(id: "b1", name: "Bo B", email: "bo.b@a.example", access: .basic))
    }

    @Test("R1.3 adding a 6th designated contact is refused")
    func sixthDesignatedRefused() throws {
        let org = D.fold(CaseFixture.organisationEvents() + ["d3", "d4", "d5"].map(designated))
        #expect(org.designatedCount == 5)
        let error = try #require(refusal(.addContact(AddContact(contactID: "d6", name: "Six", email: "six@a.example", access: .designated)), org))
        #expect(error.rule == "R1.3")
        #expect(error.message.contains("maximum is 5"))
        let upgrade = refusal(.changeContactAccess(ChangeContactAccess(contactID: "b1", access: .designated)), org)
        #expect(upgrade?.rule == "R1.3")
    }

    @Test("R1.3 removing or downgrading a designated contact below 2 is refused once transitioned")
    func belowMinimumRefused() throws {
        let org = CaseFixture.organisation
        #expect(org.designatedCount == 2)
        #expect(refusal(.removeContact(RemoveContact(contactID: "d1")), org)?.rule == "R1.3")
        #expect(refusal(.changeContactAccess(ChangeContactAccess(contactID: "d2", access: .basic)), org)?.rule == "R1.3")
        // Removing a basic contact is fine.
        #expect(try decide(.removeContact(RemoveContact(contactID: "b1")), org).count == 1)
        // Before the transition the minimum does not apply yet.
        #expect(try decide(.removeContact(RemoveContact(contactID: "d1")), CaseFixture.implementationOrganisation).count == 1)
    }

    @Test("R1.3 transition to support needs at least 2 designated contacts")
    func transitionNeedsTwo() throws {
        let one = D.fold([CaseFixture.organisationEvents(transitioned: false)[0], designated("d1")])
        let error = try #require(refusal(.transitionToSupport(TransitionToSupport()), one))
        #expect(error.rule == "R1.3")
        #expect(error.message == "transition needs 2 to 5 designated contacts; the organisation has 1")
    }

    @Test("R1.4 incident-report access is for designated contacts only and goes with the designation")
    func incidentReportAccess() throws {
        let org = CaseFixture.organisation
        #expect(refusal(.setIncidentReportAccess(SetIncidentReportAccess(contactID: "b1", granted: true)), org)?.rule == "R1.4")
        let granted = D.fold(try decide(.setIncidentReportAccess(SetIncidentReportAccess(contactID: "d1", granted: true)), org), into: org)
        #expect(granted.mayReadIncidentReport("d1"))
        #expect(!granted.mayReadIncidentReport("d2"))
        let plus = D.fold([designated("d3")], into: granted)
        let downgrade = try decide(.changeContactAccess(ChangeContactAccess(contactID: "d1", access: .basic)), plus)
        #expect(downgrade.map(\.type) == ["contact-access-changed", "incident-report-access-changed"])
        #expect(!D.fold(downgrade, into: plus).mayReadIncidentReport("d1"))
    }

    @Test("R1.5 a contact opts themself out of service alerts and drops out of the alert recipients")
    func alertOptOut() throws {
        let org = CaseFixture.organisation
        let events = try decide(.setAlertOptOut(SetAlertOptOut(contactID: "d2", optedOut: true)), org, by: CaseFixture.d2)
        let after = D.fold(events, into: org)
        #expect(after.contacts["d2"]?.alertOptOut == true)
        #expect(after.alertRecipients.map(\.id) == ["d1"])
        // Another contact cannot opt d2 out.
        #expect(refusal(.setAlertOptOut(SetAlertOptOut(contactID: "d2", optedOut: false)), after, by: CaseFixture.d1)?.rule == "R1.2")
    }

    @Test("R1.7 an auditor changes no organisation")
    func auditorChangesNothing() {
        let error = refusal(.transitionToSupport(TransitionToSupport()), CaseFixture.implementationOrganisation, by: CaseFixture.auditor)
        #expect(error?.rule == "R1.7")
    }
}
