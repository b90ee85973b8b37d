import CaseDomain
import Foundation

/// One case as a support desk lists it (issue 4 item 2): the row of the case status
/// projection. Stored as compact JSON (``MessageCoding`` encoder: sorted keys, dates as
/// `YYYY-MM-DDTHH:MM:SS.sssZ`), so rebuilt rows are byte-identical.
public struct CaseRow: Codable, Sendable, Hashable {
    /// Case id (the stream is `case-<id>`).
    public var caseID: String
    /// Case number as shown to users: the case id.
    public var caseNumber: String
    /// Organisation.
    public var organisationID: String
    /// The contact who reported it (R8.1 "Reported By").
    public var reportedBy: String
    /// Subject.
    public var subject: String
    /// Case type (R2.2).
    public var caseType: String
    /// Sub-type.
    public var subType: String?
    /// Status (R2.4).
    public var status: String
    /// Sub-status: `pending-client-comment` (awaiting-customer), `pending-permanent-fix`
    /// (service-restored), `pending-client-confirmation` (solution-proposed), the close
    /// reason when closed, otherwise absent.
    public var subStatus: String?
    /// Current priority.
    public var priority: String
    /// Owner (R2.13).
    public var owner: String?
    /// Team.
    public var team: String?
    /// Tier.
    public var tier: String?
    /// Region.
    public var region: String
    /// Site/URL/account.
    public var site: String
    /// Product.
    public var product: String
    /// Policy name and version in force (R4.9).
    public var policy: String
    /// Policy version.
    public var policyVersion: Int
    /// When opened.
    public var createdAt: Date
    /// Last public comment or status change by either side (R2.14).
    public var lastUpdatedAt: Date
    /// When it last closed; absent while open.
    public var closedAt: Date?
    /// Close reason; absent while open.
    public var closeReason: String?
    /// Times reopened (R2.7).
    public var reopenCount: Int
    /// Every SLA clock (R4.8), in target order.
    public var clocks: [ClockRow]
    /// Kinds of the current escalation flags, sorted (R3).
    public var currentFlags: [String]
    /// Whether a breach flag is current (R3.6).
    public var breached: Bool
    /// Whether an at-risk flag is current (R3.5).
    public var atRisk: Bool
    /// Linked incident numbers (R6.4).
    public var linkedIncidents: [Int]
}

/// An SLA clock's stored state (R4.8). Elapsed and remaining time depend on "now" and are
/// derived at query time; the deadline is stored while the clock runs.
public struct ClockRow: Codable, Sendable, Hashable {
    /// `response`, `restoration`, `resolution` or `update`.
    public var target: String
    /// Target length in counted seconds.
    public var targetSeconds: Int64
    /// Whether it counts business time.
    public var businessTime: Bool
    /// When it (last) started.
    public var startedAt: Date
    /// Deadline while running; absent while paused, suspended, met or stopped.
    public var deadline: Date?
    /// Paused while awaiting the customer (R4.5).
    public var paused: Bool
    /// Suspended (R4.6).
    public var suspended: Bool
    /// When met.
    public var metAt: Date?
    /// When breached.
    public var breachedAt: Date?
    /// When at risk.
    public var atRiskAt: Date?
    /// When stopped without being met.
    public var stoppedAt: Date?
}

/// A satisfaction survey with what the survey report groups by (R5.4).
public struct SurveyRow: Codable, Sendable, Hashable {
    /// Survey id.
    public var surveyID: String
    /// Case id.
    public var caseID: String
    /// Organisation.
    public var organisationID: String
    /// Team at the time of the last change of the case.
    public var team: String?
    /// Owner.
    public var owner: String?
    /// Priority.
    public var priority: String
    /// Contact asked.
    public var contactID: String
    /// When sent.
    public var sentAt: Date
    /// Last instant to answer.
    public var answerBy: Date
    /// When answered.
    public var answeredAt: Date?
    /// When expired.
    public var expiredAt: Date?
    /// Knowledge score 1-5.
    public var knowledge: Int?
    /// Communication score 1-5.
    public var communication: Int?
    /// Timeliness score 1-5.
    public var timeliness: Int?
    /// Comment.
    public var comment: String?
}

extension CaseRow {
    /// The row of `state` (which must exist); deadlines from `measures` and `policy`.
    static func make(_ s: CaseState, id: String, measures: any TimeMeasureProvider, policy: SupportPolicy?) -> CaseRow {
        make(s, id: id, policy: policy) { clock, policy in measures.measure(region: s.region, policy: policy, duration: clock.duration) }
    }

    /// The row of `state` (which must exist); each clock measured in what `measuring` gives for
    /// it under `policy` (wall-clock time without a policy).
    static func make(_ s: CaseState, id: String, policy: SupportPolicy?,
                     measuring: (SLAClock, SupportPolicy) -> any TimeMeasure) -> CaseRow {
        let subStatus: String? = switch s.status {
        case .awaitingCustomer: "pending-client-comment"
        case .serviceRestored: "pending-permanent-fix"
        case .solutionProposed: "pending-client-confirmation"
        case .closed: s.closeReason?.rawValue
        default: nil
        }
        let clocks = s.orderedClocks.map { c -> ClockRow in
            let measure = policy.map { measuring(c, $0) } ?? WallClockTime()
            return ClockRow(target: c.target.rawValue, targetSeconds: c.targetSeconds(measure: measure),
                            businessTime: c.duration.isBusinessTime, startedAt: c.startedAt,
                            deadline: c.deadline(measure: measure), paused: c.isPaused, suspended: c.isSuspended,
                            metAt: c.metAt, breachedAt: c.breachedAt, atRiskAt: c.atRiskAt, stoppedAt: c.stoppedAt)
        }
        let current = s.currentFlags
        return CaseRow(
            caseID: id, caseNumber: id, organisationID: s.organisationID, reportedBy: s.contactID, subject: s.subject,
            caseType: s.caseType.rawValue, subType: s.subType, status: s.status.rawValue, subStatus: subStatus,
            priority: s.priority, owner: s.owner, team: s.team, tier: s.tier?.rawValue, region: s.region, site: s.site,
            product: s.product, policy: s.policyName, policyVersion: s.policyVersion,
            createdAt: s.openedAt ?? Date(timeIntervalSince1970: 0),
            lastUpdatedAt: s.lastModifiedAt ?? s.openedAt ?? Date(timeIntervalSince1970: 0),
            closedAt: s.status == .closed ? s.closedAt : nil, closeReason: s.closeReason?.rawValue,
            reopenCount: s.reopenCount, clocks: clocks, currentFlags: Set(current.map(\.kind.rawValue)).sorted(),
            breached: s.isCurrentlyBreached, atRisk: current.contains { $0.kind == .atRisk },
            linkedIncidents: s.linkedIncidents)
    }
}
