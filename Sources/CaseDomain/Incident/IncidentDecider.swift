import Foundation

/// Whose fault an incident is (R6.1); decides its report colour (R6.6).
public enum IncidentOrigin: String, Codable, Sendable, Hashable, CaseIterable {
    /// The vendor's own service.
    case own
    /// A third party's service.
    case thirdParty = "third-party"
}

/// The four kinds of service alert (R6.2).
public enum AlertKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// First alert of an incident.
    case alert
    /// A follow-up to an alert.
    case alertUpdate = "alert-update"
    /// The incident an alert announced is resolved.
    case alertResolved = "alert-resolved"
    /// Found and fixed before an alert went out; carries when the problem occurred.
    case afterTheFactResolved = "after-the-fact-resolved"
}

/// The status colour of an incident in the incident report (R6.6).
public enum IncidentColour: String, Codable, Sendable, Hashable, CaseIterable {
    /// Available (resolved).
    case green
    /// A third-party incident is current.
    case yellow
    /// An own incident is current.
    case red
}

/// Root-cause analysis (R6.3).
public struct RootCauseAnalysis: Codable, Sendable, Hashable {
    /// Cause.
    public var cause: String
    /// How it was detected.
    public var detection: String
    /// How it will be prevented.
    public var prevention: String
    /// When published.
    public var publishedAt: Date
}

/// A planned maintenance window (R6.5).
public struct MaintenanceWindow: Codable, Sendable, Hashable {
    /// Window id.
    public var id: String
    /// Start.
    public var start: Date
    /// End.
    public var end: Date
    /// Planned outage in minutes.
    public var expectedOutageMinutes: Int
    /// Contacts notified.
    public var recipients: [String]
}

/// The state of an incident stream `OPI-<n>` (R6).
public struct IncidentState: Codable, Sendable, Hashable {
    /// n; `nil` before declaration.
    public var number: Int?
    /// Title.
    public var title: String = ""
    /// Affected services.
    public var affectedServices: [String] = []
    /// Origin.
    public var origin: IncidentOrigin = .own
    /// Affected organisations (empty with ``subsetOfClients``).
    public var affectedOrganisations: [String] = []
    /// Whether the affected organisations are unknown.
    public var subsetOfClients = false
    /// When declared.
    public var declaredAt: Date?
    /// Alerts sent, in order.
    public var alerts: [AlertKind] = []
    /// When resolved (alert-resolved or after-the-fact-resolved).
    public var resolvedAt: Date?
    /// After-the-fact: when the problem occurred.
    public var occurredFrom: Date?
    /// After-the-fact: when it ended.
    public var occurredTo: Date?
    /// Everyone who received an alert, sorted (R6.3).
    public var alertRecipients: [String] = []
    /// Root-cause analysis, once published.
    public var rca: RootCauseAnalysis?
    /// Linked case ids (R6.4).
    public var linkedCases: [String] = []
    /// Maintenance windows (R6.5).
    public var maintenance: [MaintenanceWindow] = []
    /// The empty state.
    public init() {}

    /// Whether the incident is resolved.
    public var isResolved: Bool { resolvedAt != nil }

    /// The report colour (R6.6): green when resolved, else red for own and yellow for third-party incidents.
    public var colour: IncidentColour {
        isResolved ? .green : (origin == .own ? .red : .yellow)
    }

    /// The recipients of a notification to the affected organisations: designated contacts
    /// who have not opted out (R1.5, R6.2), as `contact:<id>`, sorted and unique. With
    /// "a subset of clients" every organisation in `organisations` counts as affected.
    public func recipients(in organisations: [String: OrganisationState]) -> [String] {
        let orgs = subsetOfClients ? Array(organisations.values) : affectedOrganisations.compactMap { organisations[$0] }
        return Set(orgs.flatMap { $0.alertRecipients.map { "contact:\($0.id)" } }).sorted()
    }
}

/// Decides incident commands (R6); operations staff declare, alert, publish and plan.
public enum IncidentDecider: Decider {
    /// The commands this decider accepts.
    public typealias Command = IncidentCommand
    /// The events it emits.
    public typealias Event = IncidentEvent
    /// The state it folds.
    public typealias State = IncidentState

    /// No incident yet.
    public static var initialState: IncidentState { IncidentState() }

    /// Minimum planned outage that notifies the affected contacts (R6.5).
    public static let maintenanceNotificationMinutes = 60

    /// Decides an incident command; recipients come from ``DecisionContext/organisations``.
    public static func decide(_ command: IncidentCommand, state: IncidentState,
                              context: DecisionContext) throws(DomainError) -> [IncidentEvent] {
        let actor = context.actor, now = context.now
        let status = state.number == nil ? "undeclared" : (state.isResolved ? "resolved" : "current")
        if case .linkCase = command {
            try Guard.staff(actor, rule: "R6.4", status: status, doing: "link cases to incidents")
        } else {
            try Guard.staff(actor, [.operations], rule: "R6.1", status: status, doing: command.type)
        }
        if case .declareIncident(let c) = command {
            guard state.number == nil else {
                throw DomainError(rule: "R6.1", status: status, message: "OPI-\(state.number ?? 0) is already declared")
            }
            guard !c.affectedServices.isEmpty else {
                throw DomainError(rule: "R6.1", status: status, message: "name at least one affected service")
            }
            guard c.subsetOfClients == c.affectedOrganisations.isEmpty else {
                throw DomainError(rule: "R6.1", status: status, message:
                    "give either a list of affected organisations or subsetOfClients=true, exactly one of them")
            }
            return [.incidentDeclared(IncidentDeclared(
                incidentNumber: c.incidentNumber, title: c.title, affectedServices: c.affectedServices, origin: c.origin,
                affectedOrganisations: c.affectedOrganisations, subsetOfClients: c.subsetOfClients, by: actor.id, at: now))]
        }
        guard state.number != nil else {
            throw DomainError(rule: "R6.1", status: status, allowed: [DeclareIncident.type], message: "no such incident; declare it first")
        }
        switch command {
        case .declareIncident:
            return []
        case .sendAlert(let c):
            try checkAlert(c, state: state, status: status)
            return [.alertSent(AlertSent(kind: c.kind, message: c.message, occurredFrom: c.occurredFrom.map(DomainTime.normalised),
                                         occurredTo: c.occurredTo.map(DomainTime.normalised),
                                         recipients: state.recipients(in: context.organisations), by: actor.id, at: now))]
        case .publishRCA(let c):
            guard state.isResolved else {
                throw DomainError(rule: "R6.3", status: status, allowed: [SendAlert.type],
                                  message: "the root-cause analysis is published after the incident is resolved")
            }
            guard state.rca == nil else {
                throw DomainError(rule: "R6.3", status: status, message: "the root-cause analysis is already published")
            }
            return [.rcaPublished(RCAPublished(cause: c.cause, detection: c.detection, prevention: c.prevention,
                                               recipients: state.alertRecipients, by: actor.id, at: now))]
        case .linkCase(let c):
            guard !state.linkedCases.contains(c.caseID) else { return [] }
            return [.caseLinked(CaseLinked(caseID: c.caseID, by: actor.id, at: now))]
        case .scheduleMaintenance(let c):
            guard c.end > c.start, c.expectedOutageMinutes >= 0 else {
                throw DomainError(rule: "R6.5", status: status, message: "a maintenance window needs end after start and a non-negative outage")
            }
            let notify = c.expectedOutageMinutes >= maintenanceNotificationMinutes
            return [.maintenanceScheduled(MaintenanceScheduled(
                windowID: c.windowID, start: DomainTime.normalised(c.start), end: DomainTime.normalised(c.end),
                expectedOutageMinutes: c.expectedOutageMinutes,
                description: c.description, recipients: notify ? state.recipients(in: context.organisations) : [],
                by: actor.id, at: now))]
        }
    }

    /// R6.2: updates and resolutions follow an alert; after-the-fact needs no alert and carries its times.
    private static func checkAlert(_ c: SendAlert, state: IncidentState, status: String) throws(DomainError) {
        guard !state.isResolved else {
            throw DomainError(rule: "R6.2", status: status, allowed: [PublishRCA.type, LinkCase.type, ScheduleMaintenance.type],
                              message: "the incident is resolved; no further alerts")
        }
        let alerted = state.alerts.contains(.alert)
        switch c.kind {
        case .alert:
            guard !alerted else {
                throw DomainError(rule: "R6.2", status: status, message: "an alert already went out; send alert-update or alert-resolved")
            }
        case .alertUpdate, .alertResolved:
            guard alerted else {
                throw DomainError(rule: "R6.2", status: status, message: "\(c.kind.rawValue) follows an alert; send alert first, or after-the-fact-resolved")
            }
        case .afterTheFactResolved:
            guard !alerted else {
                throw DomainError(rule: "R6.2", status: status, message: "an alert already went out; resolve it with alert-resolved")
            }
            guard let from = c.occurredFrom, let to = c.occurredTo, from <= to else {
                throw DomainError(rule: "R6.2", status: status, message: "after-the-fact-resolved carries occurredFrom and occurredTo (from <= to)")
            }
        }
    }

    /// Folds an incident event.
    public static func evolve(_ state: inout IncidentState, _ event: IncidentEvent) {
        switch event {
        case .incidentDeclared(let e):
            state.number = e.incidentNumber; state.title = e.title; state.affectedServices = e.affectedServices
            state.origin = e.origin; state.affectedOrganisations = e.affectedOrganisations
            state.subsetOfClients = e.subsetOfClients; state.declaredAt = e.at
        case .alertSent(let e):
            state.alerts.append(e.kind)
            if e.kind == .alertResolved || e.kind == .afterTheFactResolved { state.resolvedAt = e.at }
            if e.kind == .afterTheFactResolved { state.occurredFrom = e.occurredFrom; state.occurredTo = e.occurredTo }
            if !e.recipients.isEmpty { state.alertRecipients = Set(state.alertRecipients + e.recipients).sorted() }
        case .rcaPublished(let e):
            state.rca = RootCauseAnalysis(cause: e.cause, detection: e.detection, prevention: e.prevention, publishedAt: e.at)
        case .caseLinked(let e):
            state.linkedCases.append(e.caseID)
        case .maintenanceScheduled(let e):
            state.maintenance.append(MaintenanceWindow(id: e.windowID, start: e.start, end: e.end,
                                                       expectedOutageMinutes: e.expectedOutageMinutes, recipients: e.recipients))
        }
    }
}
