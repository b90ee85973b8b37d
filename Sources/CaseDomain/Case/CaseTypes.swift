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
