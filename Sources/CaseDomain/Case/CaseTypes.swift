import Foundation

/// A case's status (R2.4).
public enum CaseStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Opened, nobody in support has acted publicly yet.
    case new
    /// Support is working on it.
    case investigating
    /// Support needs information; nothing progresses until the contact comments (R2.5).
    case awaitingCustomer = "awaiting-customer"
    /// The contact answered (pending client comment, R2.5).
    case customerResponded = "customer-responded"
    /// Service restored, pending permanent fix or RCA.
    case serviceRestored = "service-restored"
    /// Final status before closing: pending client confirmation (R2.6).
    case solutionProposed = "solution-proposed"
    /// Closed with a ``CloseReason``.
    case closed
}

/// Case types and their sub-types (R2.2).
public enum CaseType: String, Codable, Sendable, Hashable, CaseIterable {
    /// Sub-types `question`, `problem`.
    case support
    /// Sub-types `password-reset`, `change-request`, `new-project`.
    case serviceRequest = "service-request"
    /// Problems with the support portal itself, access changes; no sub-type.
    case admin
    /// Own lifecycle (§7, ``FeatureRequestDecider``); no sub-type.
    case featureRequest = "feature-request"
    /// Not opened by customers: a case becomes one by ``ConvertToIncident`` (R6.4).
    case incident

    /// The sub-types this type accepts; empty when it takes none (R2.2).
    public var subTypes: [String] {
        switch self {
        case .support: ["question", "problem"]
        case .serviceRequest: ["password-reset", "change-request", "new-project"]
        case .admin, .featureRequest, .incident: []
        }
    }
}

/// Where the customer's affected system runs (§2).
public enum ImplementationStage: String, Codable, Sendable, Hashable, CaseIterable {
    /// Production.
    case production
    /// User-acceptance testing.
    case uat
}

/// Why a case closed (R2.4).
public enum CloseReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// Solution confirmed, or closed by support after a solution.
    case resolved
    /// No answer to the proposed solution within the auto-close window (R2.6).
    case autoClosed = "auto-closed"
    /// The contact closed it before a solution was proposed (R2.8).
    case cancelled
    /// Staff redirected it elsewhere (R2.9), or the organisation is not in support (R1.1).
    case redirected
}

/// Whether a comment is visible to the contact (R2.14).
public enum Visibility: String, Codable, Sendable, Hashable, CaseIterable {
    /// The contact sees it.
    case `public`
    /// Staff only.
    case `internal`
}

/// The support tier a case is routed to (R1.6, R2.13).
public enum SupportTier: String, Codable, Sendable, Hashable, CaseIterable {
    /// Intake, first assessment, application support.
    case tier1
    /// Installations, integrations, upgrades.
    case tier2
    /// Engineering.
    case tier3
}

/// What a party asks for with ``EscalateCase`` (R3.1-R3.3).
public enum EscalationRequest: String, Codable, Sendable, Hashable, CaseIterable {
    /// A contact pressed *Escalate* (R3.1).
    case customer
    /// The contact asked for a manager (R3.2).
    case manager
    /// Staff moved it to another tier (R3.3).
    case tier
    /// Staff involved another department (R3.3).
    case department
    /// Staff involved product management (R3.3).
    case productManagement = "product-management"
}

/// Kinds of escalation flags a case carries (R3).
public enum EscalationKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// R3.1.
    case customerEscalated = "customer-escalated"
    /// R3.2.
    case managerEscalated = "manager-escalated"
    /// R3.3 (tier, department or product management).
    case tier
    /// R3.4.
    case responseBreached = "response-breached"
    /// R3.4.
    case restorationBreached = "restoration-breached"
    /// R3.4.
    case resolutionBreached = "resolution-breached"
    /// R3.4: communication cadence missed.
    case updateOverdue = "update-overdue"
    /// R3.5.
    case atRisk = "at-risk"

    /// The breach flag of a target (R3.4).
    public static func breach(of target: SLATarget) -> EscalationKind {
        switch target {
        case .response: .responseBreached
        case .restoration: .restorationBreached
        case .resolution: .resolutionBreached
        case .update: .updateOverdue
        }
    }

    /// Whether this is a breach flag (kept as history once met, R3.6).
    public var isBreach: Bool {
        switch self {
        case .responseBreached, .restorationBreached, .resolutionBreached, .updateOverdue: true
        default: false
        }
    }
}

/// An escalation flag as a case keeps it (R3.6): who or what raised it, when, which rule
/// fired, and when it cleared.
public struct EscalationFlag: Codable, Sendable, Hashable {
    /// The kind.
    public var kind: EscalationKind
    /// The rule that fired, e.g. `"R3.4"`.
    public var rule: String
    /// Actor id, or `"system: deadline scheduler"`.
    public var raisedBy: String
    /// Why.
    public var reason: String
    /// The clock the flag concerns, for breach and at-risk flags.
    public var target: SLATarget?
    /// The participant added by a tier/department escalation (R2.13).
    public var participant: String?
    /// When it was raised.
    public var raisedAt: Date
    /// When the condition ended; `nil` while current.
    public var clearedAt: Date?

    /// Creates a flag.
    public init(kind: EscalationKind, rule: String, raisedBy: String, reason: String, target: SLATarget? = nil,
                participant: String? = nil, raisedAt: Date, clearedAt: Date? = nil) {
        self.kind = kind; self.rule = rule; self.raisedBy = raisedBy; self.reason = reason; self.target = target
        self.participant = participant; self.raisedAt = raisedAt; self.clearedAt = clearedAt
    }

    /// Whether the flag is current.
    public var isCurrent: Bool { clearedAt == nil }
}

/// Attachment metadata (R2.3); the file itself is out of scope.
public struct Attachment: Codable, Sendable, Hashable {
    /// Attachment id.
    public var id: String
    /// File name.
    public var name: String
    /// Media type, e.g. `image/png`.
    public var mediaType: String
    /// Size in bytes.
    public var size: Int64
    /// SHA-256 of the content, 64 lowercase hex digits.
    public var sha256: String
    /// Who attached it.
    public var by: String
    /// When.
    public var at: Date
}

/// Why a notification is queued in the outbox (R2.14, R5.1, R6).
public enum NotificationReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// A public update by support: to the contact and CC addresses.
    case supportUpdate = "support-update"
    /// A contact comment: to the owner.
    case contactComment = "contact-comment"
    /// A satisfaction survey was sent (R5.1).
    case survey
}

/// A satisfaction survey of one close of a case (R5).
public struct Survey: Codable, Sendable, Hashable {
    /// Survey id, `<caseID>-survey-<n>`.
    public var id: String
    /// The contact who opened the case (R5.1).
    public var contactID: String
    /// When it was sent.
    public var sentAt: Date
    /// The last instant it may be answered (R5.3).
    public var answerBy: Date
    /// Scores 1-5 once answered (R5.2).
    public var knowledge: Int?
    /// Communication score.
    public var communication: Int?
    /// Timeliness score.
    public var timeliness: Int?
    /// Optional comment.
    public var comment: String?
    /// When answered.
    public var answeredAt: Date?
    /// When it expired unanswered.
    public var expiredAt: Date?

    /// Whether the survey still awaits an answer.
    public var isOutstanding: Bool { answeredAt == nil && expiredAt == nil }
}
