import Foundation

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
