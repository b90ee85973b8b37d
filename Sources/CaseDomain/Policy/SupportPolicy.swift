import Foundation

/// A support policy [policy]: data, not code (DOMAIN.md §4). Loaded from
/// `schemas/policies/*.json`; a case keeps the policy version in force when it opened (R4.9).
///
/// This is the shape the case domain reads. The JSON loader, the JSON Schema and the
/// four shipped policies live beside it (issue 3).
public struct SupportPolicy: Codable, Sendable, Hashable {
    /// Policy name, e.g. `concur-standard`.
    public var name: String
    /// Version number; a change is recorded as an event (R4.9).
    public var version: Int
    /// The priority scale in order, highest first (R2.11), e.g. `["P1","P2","P3"]`.
    public var priorities: [String]
    /// Priorities a contact may not choose at opening, and what they open as instead (R2.12),
    /// e.g. `["critical": "high"]`.
    public var contactOpeningCaps: [String: String]
    /// Calendar name per case region; key `"*"` is the default for any region.
    public var calendarByRegion: [String: String]
    /// Targets per priority; a missing target has no clock (DOMAIN.md §4).
    public var targets: [String: [SLATarget: TargetDuration]]
    /// Whether clocks pause while the case is `awaiting-customer` (R4.5, default true).
    public var pauseWhileAwaitingCustomer: Bool
    /// Share of a target after which the case is at risk (R3.5, default 0.75).
    public var atRiskShare: Double
    /// Calendar days after `solution-proposed` before auto-close (R2.6, default 10).
    public var autoCloseDays: Int
    /// Calendar days after closing within which a reopen is allowed (R2.7, default 7).
    public var reopenWindowDays: Int
    /// Days within which a survey may be answered (R5.3, default 30).
    public var surveyAnswerDays: Int
    /// Minimum and maximum designated contacts once transitioned (R1.3, default 2 and 5).
    public var designatedContactsMin: Int
    public var designatedContactsMax: Int
    /// Largest attachment in bytes (R2.3, default 25 MB).
    public var attachmentMaxBytes: Int64
    /// Whether a contact may escalate at any time, not only after a missed target (R3.1).
    public var customerEscalationAnyTime: Bool

    /// Creates a policy; every rule not given takes DOMAIN.md's default.
    public init(
        name: String, version: Int = 1, priorities: [String],
        contactOpeningCaps: [String: String] = [:],
        calendarByRegion: [String: String],
        targets: [String: [SLATarget: TargetDuration]],
        pauseWhileAwaitingCustomer: Bool = true, atRiskShare: Double = 0.75,
        autoCloseDays: Int = 10, reopenWindowDays: Int = 7, surveyAnswerDays: Int = 30,
        designatedContactsMin: Int = 2, designatedContactsMax: Int = 5,
        attachmentMaxBytes: Int64 = 25 * 1_000_000, customerEscalationAnyTime: Bool = false
    ) {
        self.name = name
        self.version = version
        self.priorities = priorities
        self.contactOpeningCaps = contactOpeningCaps
        self.calendarByRegion = calendarByRegion
        self.targets = targets
        self.pauseWhileAwaitingCustomer = pauseWhileAwaitingCustomer
        self.atRiskShare = atRiskShare
        self.autoCloseDays = autoCloseDays
        self.reopenWindowDays = reopenWindowDays
        self.surveyAnswerDays = surveyAnswerDays
        self.designatedContactsMin = designatedContactsMin
        self.designatedContactsMax = designatedContactsMax
        self.attachmentMaxBytes = attachmentMaxBytes
        self.customerEscalationAnyTime = customerEscalationAnyTime
    }

    /// The calendar name for a case region, falling back to `"*"`.
    public func calendarName(forRegion region: String?) -> String? {
        if let region, let name = calendarByRegion[region] { return name }
        return calendarByRegion["*"]
    }
}
