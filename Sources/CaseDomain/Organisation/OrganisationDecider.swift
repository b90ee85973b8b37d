import Foundation

/// An organisation's lifecycle phase (R1.1).
public enum OrganisationPhase: String, Codable, Sendable, Hashable, CaseIterable {
    /// Not yet in support: cases are redirected to the implementation project manager.
    case implementation
    /// Transitioned to support.
    case support
}

/// A contact of an organisation (R1.2, R1.4, R1.5).
public struct Contact: Codable, Sendable, Hashable {
    /// Contact id.
    public var id: String
    /// Name.
    public var name: String
    /// E-mail address.
    public var email: String
    /// Access level.
    public var access: ContactAccess
    /// Whether the incident report is visible to this contact (R1.4).
    public var incidentReport: Bool
    /// Whether the contact opted out of service alerts (R1.5).
    public var alertOptOut: Bool

    /// Creates a contact.
    public init(id: String, name: String, email: String, access: ContactAccess,
                incidentReport: Bool = false, alertOptOut: Bool = false) {
        self.id = id; self.name = name; self.email = email; self.access = access
        self.incidentReport = incidentReport; self.alertOptOut = alertOptOut
    }
}

/// The state of an organisation stream.
public struct OrganisationState: Codable, Sendable, Hashable {
    /// Organisation id; `nil` before registration.
    public var id: String?
    /// Display name.
    public var name: String = ""
    /// Policy name.
    public var policyName: String = ""
    /// Phase (R1.1).
    public var phase: OrganisationPhase = .implementation
    /// Contacts by id.
    public var contacts: [String: Contact] = [:]

    /// The empty state.
    public init() {}

    /// Number of designated contacts (R1.3).
    public var designatedCount: Int { contacts.values.count { $0.access == .designated } }

    /// Designated contacts who have not opted out of alerts, sorted by id (R6.2).
    public var alertRecipients: [Contact] {
        contacts.values.filter { $0.access == .designated && !$0.alertOptOut }.sorted { $0.id < $1.id }
    }

    /// Whether `contactID` may see the incident report (R1.4, R6.6).
    public func mayReadIncidentReport(_ contactID: String) -> Bool {
        guard let c = contacts[contactID] else { return false }
        return c.access == .designated && c.incidentReport
    }
}

/// Decides organisation commands (R1.1-R1.5).
public enum OrganisationDecider: Decider {
    /// The commands this decider accepts.
    public typealias Command = OrganisationCommand
    /// The events it emits.
    public typealias Event = OrganisationEvent
    /// The state it folds.
    public typealias State = OrganisationState

    /// An unregistered organisation.
    public static var initialState: OrganisationState { OrganisationState() }

    /// Decides an organisation command. Staff manage organisations and contacts;
    /// a contact may change their own alert opt-out (R1.5).
    public static func decide(_ command: OrganisationCommand, state: OrganisationState,
                              context: DecisionContext) throws(DomainError) -> [OrganisationEvent] {
        let now = context.now
        let status = state.id == nil ? "unregistered" : state.phase.rawValue
        let actor = context.actor
        if case .setAlertOptOut(let c) = command, actor.role == .contact, actor.id == c.contactID,
           actor.organisationID == state.id {
            // R1.5: a contact may opt themself out.
        } else {
            try Guard.staff(actor, rule: "R1.2", status: status, doing: command.type)
        }
        if case .registerOrganisation(let c) = command {
            guard state.id == nil else {
                throw DomainError(rule: "R1.1", status: status, message: "organisation \(state.id ?? "") is already registered")
            }
            return [.organisationRegistered(OrganisationRegistered(organisationID: c.organisationID, name: c.name, policyName: c.policyName, at: now))]
        }
        guard state.id != nil else {
            throw DomainError(rule: "R1.1", status: status, allowed: [RegisterOrganisation.type],
                              message: "organisation is not registered; send register-organisation first")
        }
        let policy = try context.requirePolicy(rule: "R1.3")
        let minimum = policy.designatedContactsMin, maximum = policy.designatedContactsMax
        let transitioned = state.phase == .support

        func contact(_ id: String) throws(DomainError) -> Contact {
            guard let c = state.contacts[id] else {
                throw DomainError(rule: "R1.2", status: status, message: "no contact \(id) in organisation \(state.id ?? "")")
            }
            return c
        }
        /// Refuses a change that would leave fewer than the minimum designated contacts once transitioned.
        func keepMinimum(losing c: Contact) throws(DomainError) {
            if transitioned, c.access == .designated, state.designatedCount <= minimum {
                throw DomainError(rule: "R1.3", status: status, message:
                    "organisation has \(state.designatedCount) designated contacts, the minimum is \(minimum); add another designated contact before removing or downgrading \(c.id)")
            }
        }
        func keepMaximum() throws(DomainError) {
            if state.designatedCount >= maximum {
                throw DomainError(rule: "R1.3", status: status, message:
                    "organisation already has \(state.designatedCount) designated contacts, the maximum is \(maximum); remove or downgrade one first")
            }
        }

        switch command {
        case .registerOrganisation:
            return []
        case .transitionToSupport:
            guard !transitioned else {
                throw DomainError(rule: "R1.1", status: status, message: "organisation is already transitioned to support")
            }
            guard (minimum...maximum).contains(state.designatedCount) else {
                throw DomainError(rule: "R1.3", status: status, message:
                    "transition needs \(minimum) to \(maximum) designated contacts; the organisation has \(state.designatedCount)")
            }
            return [.organisationTransitioned(OrganisationTransitioned(by: actor.id, at: now))]
        case .addContact(let c):
            guard state.contacts[c.contactID] == nil else {
                throw DomainError(rule: "R1.2", status: status, message: "contact \(c.contactID) already exists; use change-contact-access")
            }
            if c.access == .designated { try keepMaximum() }
            return [.contactAdded(ContactAdded(contactID: c.contactID, name: c.name, email: c.email, access: c.access, at: now))]
        case .updateContact(let c):
            let existing = try contact(c.contactID)
            guard existing.name != c.name || existing.email != c.email else { return [] }
            return [.contactUpdated(ContactUpdated(contactID: c.contactID, name: c.name, email: c.email, at: now))]
        case .removeContact(let c):
            try keepMinimum(losing: try contact(c.contactID))
            return [.contactRemoved(ContactRemoved(contactID: c.contactID, at: now))]
        case .changeContactAccess(let c):
            let existing = try contact(c.contactID)
            guard existing.access != c.access else { return [] }
            if existing.access == .designated { try keepMinimum(losing: existing) }
            if c.access == .designated { try keepMaximum() }
            var events: [OrganisationEvent] = [.contactAccessChanged(ContactAccessChanged(contactID: c.contactID, from: existing.access, to: c.access, at: now))]
            if existing.incidentReport {
                events.append(.incidentReportAccessChanged(IncidentReportAccessChanged(contactID: c.contactID, granted: false, at: now)))
            }
            return events
        case .setIncidentReportAccess(let c):
            let existing = try contact(c.contactID)
            if c.granted, existing.access != .designated {
                throw DomainError(rule: "R1.4", status: status, message:
                    "incident-report access is for designated contacts; \(c.contactID) is \(existing.access.rawValue)")
            }
            guard existing.incidentReport != c.granted else { return [] }
            return [.incidentReportAccessChanged(IncidentReportAccessChanged(contactID: c.contactID, granted: c.granted, at: now))]
        case .setAlertOptOut(let c):
            let existing = try contact(c.contactID)
            guard existing.alertOptOut != c.optedOut else { return [] }
            return [.alertOptOutChanged(AlertOptOutChanged(contactID: c.contactID, optedOut: c.optedOut, at: now))]
        }
    }

    /// Folds an organisation event.
    public static func evolve(_ state: inout OrganisationState, _ event: OrganisationEvent) {
        switch event {
        case .organisationRegistered(let e):
            state.id = e.organisationID; state.name = e.name; state.policyName = e.policyName; state.phase = .implementation
        case .organisationTransitioned:
            state.phase = .support
        case .contactAdded(let e):
            state.contacts[e.contactID] = Contact(id: e.contactID, name: e.name, email: e.email, access: e.access)
        case .contactUpdated(let e):
            state.contacts[e.contactID]?.name = e.name
            state.contacts[e.contactID]?.email = e.email
        case .contactRemoved(let e):
            state.contacts[e.contactID] = nil
        case .contactAccessChanged(let e):
            state.contacts[e.contactID]?.access = e.to
        case .incidentReportAccessChanged(let e):
            state.contacts[e.contactID]?.incidentReport = e.granted
        case .alertOptOutChanged(let e):
            state.contacts[e.contactID]?.alertOptOut = e.optedOut
        }
    }
}
