import Foundation

/// A feature request's status (R7).
public enum FeatureRequestStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// With customer care.
    case openCustomerCare = "open-customer-care"
    /// With product management.
    case openProductManagement = "open-product-management"
    /// Closed.
    case closed
}

/// A feature request's sub-status (R7).
public enum FeatureRequestSubStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Both phases start here.
    case new
    /// Customer care investigates.
    case investigation
    /// Information required from the customer (both phases).
    case infoRequired = "info-required"
    /// Customer care proposed a solution.
    case solutionProposed = "solution-proposed"
    /// Product management reviews it.
    case underReview = "under-review"
    /// A candidate for a future release.
    case futureCandidate = "future-candidate"
    /// Planned.
    case planned
    /// Committed.
    case committed
}

/// A status with its sub-status: one step of the feature-request lifecycle (R7).
public struct FeatureRequestStage: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Status.
    public var status: FeatureRequestStatus
    /// Sub-status.
    public var subStatus: FeatureRequestSubStatus

    /// Creates a stage.
    public init(_ status: FeatureRequestStatus, _ subStatus: FeatureRequestSubStatus) {
        self.status = status
        self.subStatus = subStatus
    }

    /// Every open stage in lifecycle order, exactly as DOMAIN.md §7 lists them.
    public static let lifecycle: [FeatureRequestStage] =
        [.new, .investigation, .infoRequired, .solutionProposed].map { FeatureRequestStage(.openCustomerCare, $0) }
        + [.new, .infoRequired, .underReview, .futureCandidate, .planned, .committed].map { FeatureRequestStage(.openProductManagement, $0) }

    /// Position in ``lifecycle``; `nil` for combinations §7 does not list.
    public var index: Int? { Self.lifecycle.firstIndex(of: self) }

    /// Whether a request may move from `self` to `next`: forward to any later stage; within
    /// a phase into and out of `info-required`; and from a proposed solution back to
    /// investigation when the customer does not accept it.
    public func mayMove(to next: FeatureRequestStage) -> Bool {
        guard let from = index, let to = next.index, from != to else { return false }
        if to > from { return true }
        if status == next.status, subStatus == .infoRequired || next.subStatus == .infoRequired { return true }
        return self == FeatureRequestStage(.openCustomerCare, .solutionProposed)
            && next == FeatureRequestStage(.openCustomerCare, .investigation)
    }

    /// `status/sub-status`.
    public var description: String { "\(status.rawValue)/\(subStatus.rawValue)" }
}

/// The state of a feature-request stream (R7).
public struct FeatureRequestState: Codable, Sendable, Hashable {
    /// Id; `nil` before submission.
    public var id: String?
    /// Organisation.
    public var organisationID: String = ""
    /// Subject.
    public var subject: String = ""
    /// Product.
    public var product: String = ""
    /// Current stage (status `closed` keeps the last open sub-status).
    public var stage = FeatureRequestStage(.openCustomerCare, .new)
    /// When submitted.
    public var submittedAt: Date?
    /// When closed.
    public var closedAt: Date?
    /// The empty state.
    public init() {}
}

/// Decides feature-request commands (R7).
public enum FeatureRequestDecider: Decider {
    /// The commands this decider accepts.
    public typealias Command = FeatureRequestCommand
    /// The events it emits.
    public typealias Event = FeatureRequestEvent
    /// The state it folds.
    public typealias State = FeatureRequestState

    /// No request yet.
    public static var initialState: FeatureRequestState { FeatureRequestState() }

    /// Designated contacts of the organisation and staff submit; staff move and close.
    public static func decide(_ command: FeatureRequestCommand, state: FeatureRequestState,
                              context: DecisionContext) throws(DomainError) -> [FeatureRequestEvent] {
        let actor = context.actor, now = context.now
        let status = state.id == nil ? "unsubmitted" : state.stage.description
        try Guard.mayChange(actor, status: status)
        switch command {
        case .submitFeatureRequest(let c):
            guard state.id == nil else {
                throw DomainError(rule: "R7", status: status, message: "feature request \(state.id ?? "") already exists")
            }
            if actor.role == .contact {
                guard actor.organisationID == c.organisationID else {
                    throw DomainError(rule: "R1.9", status: status, message: "contact \(actor.id) cannot submit for organisation \(c.organisationID)")
                }
                guard actor.access == .designated else {
                    throw DomainError(rule: "R1.2", status: status, message: "only designated contacts may submit feature requests; \(actor.id) is \(actor.access?.rawValue ?? "unknown")")
                }
            } else {
                try Guard.staff(actor, rule: "R1.2", status: status, doing: "submit a feature request")
            }
            return [.featureRequestSubmitted(FeatureRequestSubmitted(
                featureID: c.featureID, organisationID: c.organisationID, subject: c.subject,
                description: c.description, product: c.product, by: actor.id, at: now))]
        case .changeFeatureRequestStatus(let c):
            try Guard.staff(actor, rule: "R7", status: status, doing: "change a feature request's status")
            try requireOpen(state, status: status)
            let next = FeatureRequestStage(c.status, c.subStatus)
            guard next.index != nil else {
                throw DomainError(rule: "R7", status: status, message: "\(next) is not a feature-request stage; stages: "
                                  + FeatureRequestStage.lifecycle.map(\.description).joined(separator: ", "))
            }
            guard state.stage.mayMove(to: next) else {
                let allowed = FeatureRequestStage.lifecycle.filter { state.stage.mayMove(to: $0) }.map(\.description)
                throw DomainError(rule: "R7", status: status, allowed: allowed,
                                  message: "a feature request cannot move from \(state.stage) to \(next); allowed: \(allowed.joined(separator: ", "))")
            }
            return [.featureRequestStatusChanged(FeatureRequestStatusChanged(
                fromStatus: state.stage.status, fromSubStatus: state.stage.subStatus, status: c.status,
                subStatus: c.subStatus, note: c.note, by: actor.id, at: now))]
        case .closeFeatureRequest(let c):
            try Guard.staff(actor, rule: "R7", status: status, doing: "close a feature request")
            try requireOpen(state, status: status)
            return [.featureRequestClosed(FeatureRequestClosed(reason: c.reason, by: actor.id, at: now))]
        }
    }

    private static func requireOpen(_ state: FeatureRequestState, status: String) throws(DomainError) {
        guard state.id != nil else {
            throw DomainError(rule: "R7", status: status, allowed: [SubmitFeatureRequest.type], message: "no such feature request; submit it first")
        }
        guard state.stage.status != .closed else {
            throw DomainError(rule: "R7", status: status, message: "the feature request is closed")
        }
    }

    /// Folds a feature-request event.
    public static func evolve(_ state: inout FeatureRequestState, _ event: FeatureRequestEvent) {
        switch event {
        case .featureRequestSubmitted(let e):
            state.id = e.featureID; state.organisationID = e.organisationID; state.subject = e.subject
            state.product = e.product; state.submittedAt = e.at
        case .featureRequestStatusChanged(let e):
            state.stage = FeatureRequestStage(e.status, e.subStatus)
        case .featureRequestClosed(let e):
            state.stage.status = .closed; state.closedAt = e.at
        }
    }
}
