import Foundation

/// Decides case commands (R1-R5 for the case stream): status lifecycle, access, priority,
/// conversation and notifications, escalation flags, SLA clocks and surveys.
///
/// Context: ``DecisionContext/policy`` must be the policy version the case opened under
/// (R4.9); `open-case` also needs ``DecisionContext/organisation``.
public enum CaseDecider: Decider {
    /// The commands this decider accepts.
    public typealias Command = CaseCommand
    /// The events it emits.
    public typealias Event = CaseEvent
    /// The state it folds.
    public typealias State = CaseState

    /// No case yet.
    public static var initialState: CaseState { CaseState() }

    /// Note of a case redirected because its organisation is not in support yet (R1.1).
    public static let implementationRedirectNote = "contact implementation project manager"

    /// Decides a case command; on refusal nothing is emitted.
    public static func decide(_ command: CaseCommand, state: CaseState, context: DecisionContext) throws(DomainError) -> [CaseEvent] {
        if case .openCase(let c) = command { return try open(c, state: state, context: context) }
        guard state.exists else {
            throw DomainError(rule: "R2.4", status: "none", allowed: [OpenCase.type], message: "no such case; send open-case first")
        }
        try CaseRules.checkActor(command.type, context.actor, state)
        try CaseRules.checkStatus(command.type, state.status, role: context.actor.role)
        let policy = try context.requirePolicy(rule: "R4.9")
        guard policy.name == state.policyName, policy.version == state.policyVersion else {
            throw DomainError(rule: "R4.9", status: state.status.rawValue, message:
                "case opened under policy \(state.policyName) v\(state.policyVersion); supply that version, not \(policy.name) v\(policy.version)")
        }
        var d = CaseDecision(state: state, context: context, policy: policy)
        try d.apply(command)
        return d.events
    }

    /// R1.1, R1.2, R2.1, R2.2, R2.11, R2.12, R4.4: opens a case and starts its clocks.
    private static func open(_ c: OpenCase, state: CaseState, context: DecisionContext) throws(DomainError) -> [CaseEvent] {
        let actor = context.actor
        try Guard.mayChange(actor, status: state.exists ? state.status.rawValue : nil)
        guard !state.exists else {
            throw DomainError(rule: "R2.4", status: state.status.rawValue, message: "case \(state.id ?? "") is already open")
        }
        guard let org = context.organisation, org.id == c.organisationID else {
            throw DomainError(rule: "R1.1", message: "open-case needs the state of organisation \(c.organisationID) in the context")
        }
        let policy = try context.requirePolicy(rule: "R4.9")
        switch actor.role {
        case .contact:
            guard actor.organisationID == c.organisationID else {
                throw DomainError(rule: "R1.9", message: "contact \(actor.id) cannot open a case for organisation \(c.organisationID)")
            }
            guard actor.access == .designated else {
                throw DomainError(rule: "R1.2", message: "only designated contacts may open cases; \(actor.id) is \(actor.access?.rawValue ?? "unknown")")
            }
            guard c.contactID == actor.id else {
                throw DomainError(rule: "R1.2", message: "contact \(actor.id) opens cases for themself, not for \(c.contactID)")
            }
            guard c.channel == .portal || c.channel == .email else {
                throw DomainError(rule: "R2.1", message: "on \(c.channel.rawValue) a support representative opens the case on the contact's behalf")
            }
        case .staff:
            guard let contact = org.contacts[c.contactID], contact.access != .readOnly else {
                throw DomainError(rule: "R2.1", message: "staff open cases on behalf of a contact of \(c.organisationID) who may act on cases; \(c.contactID) is not one")
            }
        default:
            throw DomainError(rule: "R1.6", message: "\(actor.role.rawValue) \(actor.id) cannot open cases")
        }
        switch c.caseType {
        case .incident:
            throw DomainError(rule: "R2.2", message: "incidents are not opened by customers; staff convert a support case (convert-to-incident)")
        case .featureRequest:
            throw DomainError(rule: "R2.2", allowed: [SubmitFeatureRequest.type], message: "feature requests have their own lifecycle; send submit-feature-request")
        default:
            let subTypes = c.caseType.subTypes
            if subTypes.isEmpty, let s = c.subType {
                throw DomainError(rule: "R2.2", message: "\(c.caseType.rawValue) takes no sub-type, got \(s)")
            }
            if !subTypes.isEmpty, !subTypes.contains(c.subType ?? "") {
                throw DomainError(rule: "R2.2", allowed: subTypes, message:
                    "\(c.caseType.rawValue) needs a sub-type of \(subTypes.joined(separator: ", ")), got \(c.subType ?? "none")")
            }
        }
        guard policy.priorities.contains(c.severity) else {
            throw DomainError(rule: "R2.11", allowed: policy.priorities, message:
                "severity \(c.severity) is not on the \(policy.name) scale \(policy.priorities.joined(separator: ", "))")
        }
        var priority = c.severity
        var requested: String?
        if actor.role == .contact, let cap = policy.contactOpeningCaps[c.severity] {
            priority = cap
            requested = c.severity
        }
        let now = context.now
        var d = CaseDecision(state: state, context: context, policy: policy)
        d.emit(.caseOpened(CaseOpened(
            caseID: c.caseID, organisationID: c.organisationID, contactID: c.contactID, openedBy: actor.id,
            subject: c.subject, description: c.description, topic: c.topic, caseType: c.caseType, subType: c.subType,
            severity: c.severity, priority: priority, requestedPriority: requested, region: c.region, site: c.site,
            product: c.product, stage: c.stage, callMe: c.callMe, cc: c.cc, channel: c.channel,
            relatedCaseID: c.relatedCaseID, policyName: policy.name, policyVersion: policy.version, at: now)))
        if org.phase == .implementation {
            d.close(.redirected, note: implementationRedirectNote, sendSurvey: false)
            return d.events
        }
        let targets = policy.targets[priority] ?? [:]
        for target in SLATarget.allCases {
            if let duration = targets[target] {
                d.emit(.clockStarted(ClockStarted(target: target, duration: duration, at: now)))
            }
        }
        return d.events
    }
}

/// One decision in progress: emits events and folds them into a working state, so each
/// step sees the effect of the steps before it.
struct CaseDecision {
    /// The state as it would be after ``events``.
    var working: CaseState
    let context: DecisionContext
    let policy: SupportPolicy
    /// Events emitted so far.
    var events: [CaseEvent] = []

    init(state: CaseState, context: DecisionContext, policy: SupportPolicy) {
        self.working = state
        self.context = context
        self.policy = policy
    }

    var now: Date { context.now }
    var actor: Principal { context.actor }
    var by: String { actor.recordedName }
    var status: String { working.status.rawValue }
    var isContact: Bool { actor.role == .contact }

    mutating func emit(_ event: CaseEvent) {
        events.append(event)
        CaseDecider.evolve(&working, event)
    }

    func refuse(_ rule: String, _ message: String, allowed: [String] = []) -> DomainError {
        DomainError(rule: rule, status: status, allowed: allowed, message: message)
    }

    func measure(_ clock: SLAClock) -> any TimeMeasure {
        context.measures.measure(region: working.region, policy: policy, duration: clock.duration)
    }

    // MARK: commands

    mutating func apply(_ command: CaseCommand) throws(DomainError) {
        switch command {
        case .openCase:
            return
        case .routeCase(let c):
            emit(.caseRouted(CaseRouted(team: c.team, owner: c.owner, tier: c.tier, by: by, at: now)))
        case .setPriority(let c):
            try setPriority(c)
        case .requestPriorityChange(let c):
            try checkPriority(c.priority, reason: c.reason)
            emit(.priorityChangeRequested(PriorityChangeRequested(priority: c.priority, reason: c.reason, by: by, at: now)))
        case .addComment(let c):
            try comment(c)
        case .requestInformation(let c):
            emit(.informationRequested(InformationRequested(question: c.question, by: by, at: now)))
            publicStaffUpdate(reference: CaseStatus.awaitingCustomer.rawValue)
            if policy.pauseWhileAwaitingCustomer {
                // A suspended clock already stands still; pausing it too would overlap intervals.
                for clock in working.orderedClocks where !clock.isFinished && !clock.isPaused && !clock.isSuspended {
                    emit(.clockPaused(ClockPaused(target: clock.target, reason: CaseStatus.awaitingCustomer.rawValue, at: now)))
                }
            }
        case .escalateCase(let c):
            try escalate(c)
        case .restoreService(let c):
            emit(.serviceRestored(ServiceRestored(summary: c.summary, by: by, at: now)))
            meet(.restoration)
            publicStaffUpdate(reference: CaseStatus.serviceRestored.rawValue)
        case .proposeSolution(let c):
            emit(.solutionProposed(SolutionProposed(solution: c.solution, by: by, at: now)))
            meet(.resolution)
            publicStaffUpdate(reference: CaseStatus.solutionProposed.rawValue)
        case .confirmSolution(let c):
            close(.resolved, note: c.note, sendSurvey: true)
        case .rejectSolution(let c):
            emit(.solutionRejected(SolutionRejected(reason: c.reason, by: by, at: now)))
            notifyOwner(reference: SolutionRejected.type)
        case .closeCase(let c):
            try checkClose(c.reason)
            close(c.reason, note: c.note, sendSurvey: true)
        case .reopenCase(let c):
            try reopen(c)
        case .suspendResolutionTarget(let c):
            guard let clock = working.clocks[.resolution], !clock.isFinished, !clock.isSuspended else {
                throw refuse("R4.6", "the resolution target is not running (absent, met, or already suspended); nothing to suspend")
            }
            guard !c.reason.isEmpty else { throw refuse("R4.6", "suspending the resolution target needs a reason") }
            // Pause and suspension intervals never overlap: a suspension takes over from a pause.
            if clock.isPaused { emit(.clockResumed(ClockResumed(target: .resolution, at: now))) }
            emit(.clockSuspended(ClockSuspended(target: .resolution, reason: c.reason, by: by, at: now)))
        case .resumeResolutionTarget:
            guard working.clocks[.resolution]?.isSuspended == true else {
                throw refuse("R4.6", "the resolution target is not suspended", allowed: [SuspendResolutionTarget.type])
            }
            emit(.clockSuspensionEnded(ClockSuspensionEnded(target: .resolution, by: by, at: now)))
            if working.status == .awaitingCustomer, policy.pauseWhileAwaitingCustomer {
                emit(.clockPaused(ClockPaused(target: .resolution, reason: CaseStatus.awaitingCustomer.rawValue, at: now)))
            }
        case .linkIncident(let c):
            guard !working.linkedIncidents.contains(c.incidentNumber) else { return }
            emit(.incidentLinked(IncidentLinked(incidentNumber: c.incidentNumber, by: by, at: now)))
        case .convertToIncident(let c):
            if let n = working.convertedToIncident {
                throw refuse("R6.4", "the case was already converted into \(StreamName.incident(n))")
            }
            emit(.caseConvertedToIncident(CaseConvertedToIncident(incidentNumber: c.incidentNumber, by: by, at: now)))
        case .addAttachment(let c):
            try attach(c)
        case .recordClockAtRisk(let c):
            try recordAtRisk(c.target)
        case .recordClockBreached(let c):
            guard c.target != .update else {
                throw refuse("R3.4", "the update cadence is recorded with record-update-overdue", allowed: [RecordUpdateOverdue.type])
            }
            try recordBreach(c.target)
        case .recordUpdateOverdue:
            try recordBreach(.update)
        case .autoCloseCase:
            let due = DomainTime.adding(days: policy.autoCloseDays, to: working.solutionProposedAt ?? now)
            guard now >= due else {
                throw refuse("R2.6", "auto-close is due at \(DomainTime.format(due)), \(policy.autoCloseDays) days after the solution was proposed")
            }
            close(.autoClosed, note: nil, sendSurvey: true)
        case .answerSurvey(let c):
            try answer(c)
        case .expireSurvey(let c):
            let survey = try survey(c.surveyID)
            guard survey.isOutstanding else { throw refuse("R5.3", "survey \(c.surveyID) is already answered or expired") }
            guard now >= survey.answerBy else {
                throw refuse("R5.3", "survey \(c.surveyID) may be answered until \(DomainTime.format(survey.answerBy))")
            }
            emit(.surveyExpired(SurveyExpired(surveyID: c.surveyID, at: now)))
        }
    }

    // MARK: priority (R2.11, R4.7)

    func checkPriority(_ priority: String, reason: String) throws(DomainError) {
        guard policy.priorities.contains(priority) else {
            throw refuse("R2.11", "priority \(priority) is not on the \(policy.name) scale \(policy.priorities.joined(separator: ", "))", allowed: policy.priorities)
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw refuse("R2.11", "every priority change carries a reason")
        }
    }

    mutating func setPriority(_ c: SetPriority) throws(DomainError) {
        try checkPriority(c.priority, reason: c.reason)
        guard c.priority != working.priority else { throw refuse("R2.11", "the priority is already \(c.priority)") }
        emit(.priorityChanged(PriorityChanged(from: working.priority, to: c.priority, reason: c.reason, by: by, at: now)))
        let targets = policy.targets[c.priority] ?? [:]
        for target in SLATarget.allCases {
            let clock = working.clocks[target]
            switch (clock, targets[target]) {
            case (let clock?, let duration?) where !clock.isFinished && clock.duration != duration:
                emit(.clockRetargeted(ClockRetargeted(target: target, duration: duration, priority: c.priority, at: now)))
            case (let clock?, nil) where !clock.isFinished:
                emit(.clockStopped(ClockStopped(target: target, reason: "priority \(c.priority) has no \(target.rawValue) target", at: now)))
            case (nil, let duration?):
                startLate(target, duration)
            default:
                break
            }
        }
    }

    /// R4.7: a target the old priority lacked counts from opening (minus the time spent
    /// awaiting the customer), unless what it measures already happened.
    mutating func startLate(_ target: SLATarget, _ duration: TargetDuration) {
        let alreadyHappened: Bool = switch target {
        case .response: working.publicComments > 0 || working.status != .new
        case .restoration: false
        case .resolution: working.status == .solutionProposed
        case .update: false
        }
        guard !alreadyHappened, let openedAt = working.openedAt else { return }
        if target == .update {
            emit(.clockStarted(ClockStarted(target: target, duration: duration, at: now)))
            if working.status == .awaitingCustomer, policy.pauseWhileAwaitingCustomer {
                emit(.clockPaused(ClockPaused(target: target, reason: CaseStatus.awaitingCustomer.rawValue, at: now)))
            }
            return
        }
        emit(.clockStarted(ClockStarted(target: target, duration: duration, at: openedAt)))
        guard policy.pauseWhileAwaitingCustomer else { return }
        for interval in working.awaitingCustomer {
            emit(.clockPaused(ClockPaused(target: target, reason: CaseStatus.awaitingCustomer.rawValue, at: interval.start)))
            if let end = interval.end { emit(.clockResumed(ClockResumed(target: target, at: end))) }
        }
    }

    // MARK: conversation (R2.5, R2.14)

    mutating func comment(_ c: AddComment) throws(DomainError) {
        if isContact, c.visibility == .internal {
            throw refuse("R2.14", "contacts write public comments only; internal comments are for staff")
        }
        emit(.commentAdded(CommentAdded(commentID: c.commentID, authorID: actor.id, authorRole: actor.role,
                                        visibility: c.visibility, body: c.body, at: now)))
        if isContact {
            if working.status == .awaitingCustomer {
                emit(.customerResponded(CustomerResponded(by: by, at: now)))
                for clock in working.orderedClocks where clock.isPaused {
                    emit(.clockResumed(ClockResumed(target: clock.target, at: now)))
                }
            }
            notifyOwner(reference: c.commentID)
        } else if c.visibility == .public {
            if working.status == .new || working.status == .customerResponded {
                emit(.investigationStarted(InvestigationStarted(by: by, at: now)))
            }
            publicStaffUpdate(reference: c.commentID)
        }
    }

    /// R4.4, R2.14: a public update by support meets the first response, restarts the
    /// update cadence and notifies the contact and CC addresses.
    mutating func publicStaffUpdate(reference: String) {
        meet(.response)
        if working.status != .closed, let duration = policy.targets[working.priority]?[.update] {
            clearFlags(target: .update, reason: "support sent an update")
            emit(.clockStarted(ClockStarted(target: .update, duration: duration, at: now)))
            if working.status == .awaitingCustomer, policy.pauseWhileAwaitingCustomer {
                emit(.clockPaused(ClockPaused(target: .update, reason: CaseStatus.awaitingCustomer.rawValue, at: now)))
            }
        }
        notify(.supportUpdate, ["contact:\(working.contactID)"] + working.cc.map { "email:\($0)" }, reference: reference)
    }

    /// R2.14: every contact comment notifies the owner (the team while unassigned).
    mutating func notifyOwner(reference: String) {
        if let owner = working.owner {
            notify(.contactComment, ["staff:\(owner)"], reference: reference)
        } else if let team = working.team {
            notify(.contactComment, ["team:\(team)"], reference: reference)
        }
    }

    mutating func notify(_ reason: NotificationReason, _ recipients: [String], reference: String) {
        emit(.notificationQueued(NotificationQueued(reason: reason, recipients: recipients, reference: reference, at: now)))
    }

    // MARK: clocks and flags (R3, R4)

    /// Meets a running clock and clears its at-risk and breach flags (R3.6, R4.4).
    mutating func meet(_ target: SLATarget) {
        guard let clock = working.clocks[target], !clock.isFinished else { return }
        emit(.clockMet(ClockMet(target: target, at: now)))
        clearFlags(target: target, reason: "\(target.rawValue) target met")
    }

    mutating func clearFlags(target: SLATarget, reason: String) {
        for kind in [EscalationKind.atRisk, .breach(of: target)]
        where working.flags.contains(where: { $0.kind == kind && $0.target == target && $0.isCurrent }) {
            emit(.escalationFlagCleared(EscalationFlagCleared(kind: kind, target: target, reason: reason, at: now)))
        }
    }

    mutating func recordAtRisk(_ target: SLATarget) throws(DomainError) {
        let clock = try runningClock(target, rule: "R3.5")
        guard clock.atRiskAt == nil else { throw refuse("R3.5", "\(target.rawValue) is already recorded at risk") }
        guard let instant = clock.atRiskInstant(share: policy.atRiskShare, measure: measure(clock)) else {
            throw refuse("R3.5", "the \(target.rawValue) clock is paused or suspended; it cannot become at risk")
        }
        guard now >= instant else {
            throw refuse("R3.5", "\(target.rawValue) is not at risk before \(DomainTime.format(instant)) (\(Int(policy.atRiskShare * 100)) % of the target)")
        }
        let at = DomainTime.normalised(instant)
        emit(.clockAtRisk(ClockAtRisk(target: target, at: at, recordedAt: now)))
        emit(.escalationFlagRaised(EscalationFlagRaised(
            kind: .atRisk, rule: "R3.5", raisedBy: by,
            reason: "\(Int(policy.atRiskShare * 100)) % of the \(target.rawValue) target elapsed", target: target, at: now)))
    }

    mutating func recordBreach(_ target: SLATarget) throws(DomainError) {
        let clock = try runningClock(target, rule: "R3.4")
        guard clock.breachedAt == nil else { throw refuse("R3.4", "the \(target.rawValue) breach is already recorded") }
        guard let deadline = clock.deadline(measure: measure(clock)) else {
            throw refuse("R3.4", "the \(target.rawValue) clock is paused or suspended and has no deadline")
        }
        guard now >= deadline else {
            throw refuse("R3.4", "the \(target.rawValue) deadline is \(DomainTime.format(deadline)); not yet breached")
        }
        emit(.clockBreached(ClockBreached(target: target, at: DomainTime.normalised(deadline), recordedAt: now)))
        emit(.escalationFlagRaised(EscalationFlagRaised(
            kind: .breach(of: target), rule: "R3.4", raisedBy: by,
            reason: "\(target.rawValue) deadline \(DomainTime.format(deadline)) passed", target: target, at: now)))
    }

    func runningClock(_ target: SLATarget, rule: String) throws(DomainError) -> SLAClock {
        guard let clock = working.clocks[target] else {
            throw refuse(rule, "the case has no \(target.rawValue) clock under priority \(working.priority)")
        }
        guard !clock.isFinished else { throw refuse(rule, "the \(target.rawValue) clock is no longer running (met or stopped)") }
        return clock
    }

    // MARK: escalation (R2.13, R3.1-R3.3)

    mutating func escalate(_ c: EscalateCase) throws(DomainError) {
        let kind: EscalationKind, rule: String
        switch c.kind {
        case .customer:
            guard isContact else { throw refuse("R3.1", "customer escalation is the contact's Escalate button") }
            kind = .customerEscalated; rule = "R3.1"
            if !policy.customerEscalationAnyTime {
                let missed = [SLATarget.response, .resolution].contains { target in
                    guard let clock = working.clocks[target] else { return false }
                    if clock.breachedAt != nil { return clock.metAt == nil }
                    guard let deadline = clock.deadline(measure: measure(clock)) else { return false }
                    return now >= deadline
                }
                guard missed else {
                    throw refuse("R3.1", "a contact may escalate once the response or resolution target has passed without an answer; policy \(policy.name) does not allow it earlier")
                }
            }
        case .manager:
            kind = .managerEscalated; rule = "R3.2"
        case .tier, .department, .productManagement:
            guard !isContact else { throw refuse("R3.3", "only staff escalate to another tier, department or product management") }
            guard let to = c.to, !to.isEmpty else {
                throw refuse("R3.3", "name the tier, department or participant to escalate to")
            }
            kind = .tier; rule = "R3.3"
        }
        if kind != .tier, let current = working.flags.first(where: { $0.kind == kind && $0.isCurrent }) {
            throw refuse(rule, "the case is already \(kind.rawValue) since \(DomainTime.format(current.raisedAt))")
        }
        let participant = kind == .tier ? c.to : nil
        emit(.escalationFlagRaised(EscalationFlagRaised(kind: kind, rule: rule, raisedBy: by, reason: c.reason,
                                                        participant: participant, at: now)))
    }

    // MARK: closing and reopening (R2.6-R2.9, R5.1)

    func checkClose(_ reason: CloseReason) throws(DomainError) {
        if isContact {
            let expected: CloseReason = working.status == .solutionProposed ? .resolved : .cancelled
            guard reason == expected else {
                throw refuse("R2.8", "a contact closes their own case as \(expected.rawValue) now, not \(reason.rawValue)", allowed: [expected.rawValue])
            }
        } else {
            switch reason {
            case .resolved, .redirected: return
            case .cancelled: throw refuse("R2.8", "cancelled is the contact's own close; staff close as resolved or redirected (R2.9)", allowed: ["resolved", "redirected"])
            case .autoClosed: throw refuse("R2.6", "auto-closed is recorded by the deadline scheduler with auto-close-case", allowed: [AutoCloseCase.type])
            }
        }
    }

    /// Closes: meets resolution (and response when staff close), stops other clocks,
    /// clears current flags, notifies, and sends a survey to the opening contact (R5.1).
    mutating func close(_ reason: CloseReason, note: String?, sendSurvey: Bool) {
        emit(.caseClosed(CaseClosed(reason: reason, note: note, by: by, at: now)))
        let staffClose = actor.role == .staff
        for clock in working.orderedClocks where !clock.isFinished {
            if clock.target == .resolution || (clock.target == .response && staffClose) {
                meet(clock.target)
            } else {
                emit(.clockStopped(ClockStopped(target: clock.target, reason: "case closed", at: now)))
            }
        }
        var cleared: [EscalationFlag] = []
        for flag in working.flags where flag.isCurrent && !cleared.contains(where: { $0.kind == flag.kind && $0.target == flag.target }) {
            cleared.append(flag)
        }
        for flag in cleared {
            emit(.escalationFlagCleared(EscalationFlagCleared(kind: flag.kind, target: flag.target, reason: "case closed", at: now)))
        }
        if staffClose {
            notify(.supportUpdate, ["contact:\(working.contactID)"] + working.cc.map { "email:\($0)" }, reference: CaseStatus.closed.rawValue)
        }
        guard sendSurvey, let id = working.id else { return }
        let surveyID = "\(id)-survey-\(working.surveys.count + 1)"
        emit(.surveySent(SurveySent(surveyID: surveyID, contactID: working.contactID,
                                    answerBy: DomainTime.adding(days: policy.surveyAnswerDays, to: now), at: now)))
        notify(.survey, ["contact:\(working.contactID)"], reference: surveyID)
    }

    mutating func reopen(_ c: ReopenCase) throws(DomainError) {
        let closedAt = working.closedAt ?? now
        let limit = DomainTime.adding(days: policy.reopenWindowDays, to: closedAt)
        guard now <= limit else {
            throw refuse("R2.7", "case \(working.id ?? "") closed on \(DomainTime.format(closedAt)), more than \(policy.reopenWindowDays) days ago; it can no longer be reopened: open a new case that references case \(working.id ?? "")", allowed: [OpenCase.type])
        }
        emit(.caseReopened(CaseReopened(reason: c.reason, by: by, at: now)))
        // The reopened case runs its resolution and update targets again from now.
        let targets = policy.targets[working.priority] ?? [:]
        for target in [SLATarget.resolution, .update] {
            if let duration = targets[target] { emit(.clockStarted(ClockStarted(target: target, duration: duration, at: now))) }
        }
        notifyOwner(reference: CaseReopened.type)
    }

    // MARK: attachments and surveys (R2.3, R5)

    mutating func attach(_ c: AddAttachment) throws(DomainError) {
        guard c.size > 0, c.size <= policy.attachmentMaxBytes else {
            throw refuse("R2.3", "attachment \(c.name) is \(c.size) bytes; the limit is \(policy.attachmentMaxBytes) bytes")
        }
        guard c.sha256.utf8.count == 64, c.sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw refuse("R2.3", "sha256 must be 64 lowercase hex digits")
        }
        guard !c.name.isEmpty, !c.mediaType.isEmpty else { throw refuse("R2.3", "an attachment needs a name and a media type") }
        guard !working.attachments.contains(where: { $0.id == c.attachmentID }) else {
            throw refuse("R2.3", "attachment \(c.attachmentID) already exists")
        }
        emit(.attachmentAdded(AttachmentAdded(attachmentID: c.attachmentID, name: c.name, mediaType: c.mediaType,
                                              size: c.size, sha256: c.sha256, by: by, at: now)))
    }

    func survey(_ id: String) throws(DomainError) -> Survey {
        guard let survey = working.surveys.first(where: { $0.id == id }) else {
            throw refuse("R5.1", "case \(working.id ?? "") has no survey \(id)")
        }
        return survey
    }

    mutating func answer(_ c: AnswerSurvey) throws(DomainError) {
        let survey = try survey(c.surveyID)
        guard survey.contactID == actor.id else {
            throw refuse("R5.1", "survey \(c.surveyID) was sent to \(survey.contactID); only that contact answers it")
        }
        guard survey.answeredAt == nil else { throw refuse("R5.3", "survey \(c.surveyID) is already answered; it may be answered once") }
        guard survey.expiredAt == nil, now < survey.answerBy else {
            throw refuse("R5.3", "survey \(c.surveyID) could be answered until \(DomainTime.format(survey.answerBy)) (\(policy.surveyAnswerDays) days)")
        }
        for (name, score) in [("knowledge", c.knowledge), ("communication", c.communication), ("timeliness", c.timeliness)]
        where !(1...5).contains(score) {
            throw refuse("R5.2", "\(name) score must be 1 to 5, got \(score)")
        }
        emit(.surveyAnswered(SurveyAnswered(surveyID: c.surveyID, knowledge: c.knowledge, communication: c.communication,
                                            timeliness: c.timeliness, comment: c.comment, at: now)))
    }
}
