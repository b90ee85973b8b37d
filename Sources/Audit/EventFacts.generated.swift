// Which payload fields say when, who and through which channel, per event type (derived
// from the generated message structs; regenerate when an event gains such a field).
// Reading them from the decoded payload saves parsing every payload a second time.

import CaseDomain
import Foundation

/// A payload that carries some of the facts a replay shows.
protocol EventFactsCarrying {
    /// When it happened.
    var factAt: Date? { get }
    /// Who did it.
    var factActor: String? { get }
    /// The actor's role.
    var factRole: String? { get }
    /// The channel.
    var factChannel: String? { get }
}

extension EventFactsCarrying {
    var factActor: String? { nil }
    var factRole: String? { nil }
    var factChannel: String? { nil }
}

extension CaseOpened: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { openedBy }; var factChannel: String? { channel.rawValue } }
extension CaseRouted: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension PriorityChanged: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension PriorityChangeRequested: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CommentAdded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { authorID }; var factRole: String? { authorRole.rawValue } }
extension InvestigationStarted: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension InformationRequested: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CustomerResponded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension ServiceRestored: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension SolutionProposed: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension SolutionRejected: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CaseClosed: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CaseReopened: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension EscalationFlagRaised: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { raisedBy } }
extension EscalationFlagCleared: EventFactsCarrying { var factAt: Date? { at } }
extension ClockStarted: EventFactsCarrying { var factAt: Date? { at } }
extension ClockPaused: EventFactsCarrying { var factAt: Date? { at } }
extension ClockResumed: EventFactsCarrying { var factAt: Date? { at } }
extension ClockSuspended: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension ClockSuspensionEnded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension ClockMet: EventFactsCarrying { var factAt: Date? { at } }
extension ClockStopped: EventFactsCarrying { var factAt: Date? { at } }
extension ClockRetargeted: EventFactsCarrying { var factAt: Date? { at } }
extension ClockAtRisk: EventFactsCarrying { var factAt: Date? { at } }
extension ClockBreached: EventFactsCarrying { var factAt: Date? { at } }
extension IncidentLinked: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CaseConvertedToIncident: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension AttachmentAdded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension NotificationQueued: EventFactsCarrying { var factAt: Date? { at } }
extension SurveySent: EventFactsCarrying { var factAt: Date? { at } }
extension SurveyAnswered: EventFactsCarrying { var factAt: Date? { at } }
extension SurveyExpired: EventFactsCarrying { var factAt: Date? { at } }
extension IncidentDeclared: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension AlertSent: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension RCAPublished: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CaseLinked: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension MaintenanceScheduled: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension OrganisationRegistered: EventFactsCarrying { var factAt: Date? { at } }
extension OrganisationTransitioned: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension ContactAdded: EventFactsCarrying { var factAt: Date? { at } }
extension ContactUpdated: EventFactsCarrying { var factAt: Date? { at } }
extension ContactRemoved: EventFactsCarrying { var factAt: Date? { at } }
extension ContactAccessChanged: EventFactsCarrying { var factAt: Date? { at } }
extension IncidentReportAccessChanged: EventFactsCarrying { var factAt: Date? { at } }
extension AlertOptOutChanged: EventFactsCarrying { var factAt: Date? { at } }
extension PolicyVersionRecorded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension CalendarVersionRecorded: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension FeatureRequestSubmitted: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension FeatureRequestStatusChanged: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
extension FeatureRequestClosed: EventFactsCarrying { var factAt: Date? { at }; var factActor: String? { by } }
