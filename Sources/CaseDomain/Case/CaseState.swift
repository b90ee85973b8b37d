import Foundation

/// The state of a case stream, folded from its events: fields of §2, status, routing,
/// SLA clocks (R4), escalation flags (R3), surveys (R5), attachments and incident links.
///
/// Kept cheap to fold (value types, appends, no sorting, no `Calendar`): deadlines are
/// derived on demand from the clocks with a ``TimeMeasure``.
public struct CaseState: Codable, Sendable, Hashable {
    /// Case id; `nil` before `case-opened`.
    public var id: String?
    /// Organisation.
    public var organisationID: String = ""
    /// The contact who opened it or for whom it was opened (R2.1, R5.1).
    public var contactID: String = ""
    /// Who opened it.
    public var openedBy: String = ""
    /// Subject.
    public var subject: String = ""
    /// Topic.
    public var topic: String = ""
    /// Case type (R2.2).
    public var caseType: CaseType = .support
    /// Sub-type.
    public var subType: String?
    /// Severity as the customer judged it.
    public var severity: String = ""
    /// Current priority (R2.11).
    public var priority: String = ""
    /// Region (picks the calendar).
    public var region: String = ""
    /// Site/account.
    public var site: String = ""
    /// Product.
    public var product: String = ""
    /// CC addresses.
    public var cc: [String] = []
    /// Channel it was opened through.
    public var channel: Channel = .portal
    /// The earlier case this one follows up (R2.7).
    public var relatedCaseID: String?
    /// Status (R2.4).
    public var status: CaseStatus = .new
    /// Close reason while closed.
    public var closeReason: CloseReason?
    /// When opened.
    public var openedAt: Date?
    /// When it last closed.
    public var closedAt: Date?
    /// When the pending solution was proposed (R2.6); `nil` when none is pending.
    public var solutionProposedAt: Date?
    /// "Date modified": last public comment or status change by either side (R2.14).
    public var lastModifiedAt: Date?
    /// Policy in force at opening (R4.9).
    public var policyName: String = ""
    /// Its version (R4.9).
    public var policyVersion: Int = 0
    /// Team (R2.13).
    public var team: String?
    /// Owner (R2.13); escalation never changes it.
    public var owner: String?
    /// Tier.
    public var tier: SupportTier?
    /// Participants added by escalations (R2.13, R3.3).
    public var participants: [String] = []
    /// SLA clocks by target (R4).
    public var clocks: [SLATarget: SLAClock] = [:]
    /// Intervals spent awaiting the customer (R4.5); the last may be open.
    public var awaitingCustomer: [ClockInterval] = []
    /// Escalation flags, current and past (R3).
    public var flags: [EscalationFlag] = []
    /// Surveys, one per close (R5).
    public var surveys: [Survey] = []
    /// Attachment metadata (R2.3).
    public var attachments: [Attachment] = []
    /// Linked incident numbers (R6.4).
    public var linkedIncidents: [Int] = []
    /// The incident the case was converted into (R6.4).
    public var convertedToIncident: Int?
    /// Public comments so far.
    public var publicComments = 0
    /// Internal comments so far.
    public var internalComments = 0
    /// Times reopened (R2.7).
    public var reopenCount = 0

    /// The empty state.
    public init() {}

    /// Whether the case exists.
    public var exists: Bool { id != nil }

    /// Current flags.
    public var currentFlags: [EscalationFlag] { flags.filter(\.isCurrent) }

    /// Whether any breach flag is current (R3.6).
    public var isCurrentlyBreached: Bool { flags.contains { $0.kind.isBreach && $0.isCurrent } }

    /// Clocks in target order.
    public var orderedClocks: [SLAClock] { SLATarget.allCases.compactMap { clocks[$0] } }

    /// Notes in `finishes`, after this state's event at log `position` was folded, where each
    /// clock finished (R4.9: a calendar change applies to clocks still running, so a finished
    /// clock is measured with the calendar in force where it finished): a finished clock
    /// without a position finished there; a running clock has none (a restarted clock runs
    /// again). Call it after every event, in log order.
    public func noteClockFinishes(_ finishes: inout ClockFinishes, at position: UInt64) {
        for (target, clock) in clocks {
            if clock.isFinished {
                if finishes[target] == nil { finishes[target] = position }
            } else if finishes[target] != nil {
                finishes[target] = nil
            }
        }
        // A clock no longer held keeps no position.
        if clocks.count < SLATarget.allCases.count, !finishes.isEmpty {
            for target in SLATarget.allCases where finishes[target] != nil && clocks[target] == nil { finishes[target] = nil }
        }
    }

    /// The pause intervals of a clock (R4.5), or of the case when `target` is `nil`.
    public func pauseIntervals(_ target: SLATarget? = nil) -> [ClockInterval] {
        guard let target else { return awaitingCustomer }
        return clocks[target]?.pauses ?? []
    }

    /// Every clock's state at `now` (R4.8), in target order.
    public func clockStates(at now: Date, measures: any TimeMeasureProvider, policy: SupportPolicy) -> [SLAClockState] {
        orderedClocks.map { $0.state(at: now, measure: measures.measure(region: region, policy: policy, duration: $0.duration)) }
    }
}

extension CaseDecider {
    /// Folds one case event in place.
    public static func evolve(_ s: inout CaseState, _ event: CaseEvent) {
        switch event {
        case .caseOpened(let e):
            s.id = e.caseID; s.organisationID = e.organisationID; s.contactID = e.contactID; s.openedBy = e.openedBy
            s.subject = e.subject; s.topic = e.topic; s.caseType = e.caseType; s.subType = e.subType
            s.severity = e.severity; s.priority = e.priority; s.region = e.region; s.site = e.site
            s.product = e.product; s.cc = e.cc; s.channel = e.channel; s.relatedCaseID = e.relatedCaseID; s.policyName = e.policyName
            s.policyVersion = e.policyVersion; s.status = .new; s.openedAt = e.at; s.lastModifiedAt = e.at
        case .caseRouted(let e):
            s.team = e.team; s.owner = e.owner; s.tier = e.tier
        case .priorityChanged(let e):
            s.priority = e.to
        case .priorityChangeRequested:
            break
        case .commentAdded(let e):
            if e.visibility == .public {
                s.publicComments += 1; s.lastModifiedAt = e.at
            } else {
                s.internalComments += 1
            }
        case .investigationStarted(let e):
            s.status = .investigating; s.lastModifiedAt = e.at
        case .informationRequested(let e):
            s.status = .awaitingCustomer; s.lastModifiedAt = e.at
            s.awaitingCustomer.append(ClockInterval(start: e.at, reason: CaseStatus.awaitingCustomer.rawValue))
        case .customerResponded(let e):
            s.status = .customerResponded; s.lastModifiedAt = e.at
            endAwaiting(&s, at: e.at)
        case .serviceRestored(let e):
            s.status = .serviceRestored; s.lastModifiedAt = e.at
        case .solutionProposed(let e):
            s.status = .solutionProposed; s.lastModifiedAt = e.at; s.solutionProposedAt = e.at
        case .solutionRejected(let e):
            s.status = .investigating; s.lastModifiedAt = e.at; s.solutionProposedAt = nil
        case .caseClosed(let e):
            endAwaiting(&s, at: e.at)
            s.status = .closed; s.closeReason = e.reason; s.closedAt = e.at; s.lastModifiedAt = e.at
            s.solutionProposedAt = nil
        case .caseReopened(let e):
            s.status = .investigating; s.closeReason = nil; s.lastModifiedAt = e.at; s.reopenCount += 1
        case .escalationFlagRaised(let e):
            s.flags.append(EscalationFlag(kind: e.kind, rule: e.rule, raisedBy: e.raisedBy, reason: e.reason,
                                          target: e.target, participant: e.participant, raisedAt: e.at))
            if let p = e.participant, !s.participants.contains(p) { s.participants.append(p) }
        case .escalationFlagCleared(let e):
            for i in s.flags.indices where s.flags[i].kind == e.kind && s.flags[i].target == e.target && s.flags[i].isCurrent {
                s.flags[i].clearedAt = e.at
            }
        case .clockStarted(let e):
            s.clocks[e.target] = SLAClock(target: e.target, duration: e.duration, startedAt: e.at)
        case .clockPaused(let e):
            s.clocks[e.target]?.pause(at: e.at, reason: e.reason)
        case .clockResumed(let e):
            s.clocks[e.target]?.resume(at: e.at)
        case .clockSuspended(let e):
            s.clocks[e.target]?.suspend(at: e.at, reason: e.reason)
        case .clockSuspensionEnded(let e):
            s.clocks[e.target]?.endSuspension(at: e.at)
        case .clockMet(let e):
            s.clocks[e.target]?.meet(at: e.at)
        case .clockStopped(let e):
            s.clocks[e.target]?.stop(at: e.at)
        case .clockRetargeted(let e):
            s.clocks[e.target]?.duration = e.duration
        case .clockAtRisk(let e):
            s.clocks[e.target]?.atRiskAt = e.at
        case .clockBreached(let e):
            s.clocks[e.target]?.breachedAt = e.at
        case .incidentLinked(let e):
            if !s.linkedIncidents.contains(e.incidentNumber) { s.linkedIncidents.append(e.incidentNumber) }
        case .caseConvertedToIncident(let e):
            s.convertedToIncident = e.incidentNumber; s.caseType = .incident; s.subType = nil
            if !s.linkedIncidents.contains(e.incidentNumber) { s.linkedIncidents.append(e.incidentNumber) }
        case .attachmentAdded(let e):
            s.attachments.append(Attachment(id: e.attachmentID, name: e.name, mediaType: e.mediaType, size: e.size,
                                            sha256: e.sha256, by: e.by, at: e.at))
        case .notificationQueued:
            break
        case .surveySent(let e):
            s.surveys.append(Survey(id: e.surveyID, contactID: e.contactID, sentAt: e.at, answerBy: e.answerBy))
        case .surveyAnswered(let e):
            if let i = s.surveys.firstIndex(where: { $0.id == e.surveyID }) {
                s.surveys[i].knowledge = e.knowledge; s.surveys[i].communication = e.communication
                s.surveys[i].timeliness = e.timeliness; s.surveys[i].comment = e.comment; s.surveys[i].answeredAt = e.at
            }
        case .surveyExpired(let e):
            if let i = s.surveys.firstIndex(where: { $0.id == e.surveyID }) { s.surveys[i].expiredAt = e.at }
        }
    }

    private static func endAwaiting(_ s: inout CaseState, at instant: Date) {
        if let last = s.awaitingCustomer.indices.last, s.awaitingCustomer[last].end == nil {
            s.awaitingCustomer[last].end = instant
        }
    }
}

/// Where each finished clock of a case finished: the log position of the event that met or
/// stopped it (R4.9), per target. A value type without allocation: it is noted after every
/// folded event of a rebuild.
public struct ClockFinishes: Sendable, Hashable {
    private var positions: (response: UInt64, restoration: UInt64, resolution: UInt64, update: UInt64) = (0, 0, 0, 0)

    /// No clock finished.
    public init() {}

    /// Where the clock of `target` finished; `nil` while it runs (or when the case has none).
    public subscript(target: SLATarget) -> UInt64? {
        get {
            let p = switch target {
            case .response: positions.response
            case .restoration: positions.restoration
            case .resolution: positions.resolution
            case .update: positions.update
            }
            return p == 0 ? nil : p
        }
        set {
            let p = newValue ?? 0
            switch target {
            case .response: positions.response = p
            case .restoration: positions.restoration = p
            case .resolution: positions.resolution = p
            case .update: positions.update = p
            }
        }
    }

    /// Whether no clock has a position.
    public var isEmpty: Bool { positions == (0, 0, 0, 0) }

    public static func == (a: ClockFinishes, b: ClockFinishes) -> Bool { a.positions == b.positions }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(positions.response)
        hasher.combine(positions.restoration)
        hasher.combine(positions.resolution)
        hasher.combine(positions.update)
    }
}
