/// Who may send a case command (R1.2, R1.6-R1.8).
public struct CasePermission: Sendable, Hashable {
    /// Contacts (subject to their access level and organisation, R1.2, R1.9).
    public var contacts: Bool
    /// Staff.
    public var staff: Bool
    /// The system (deadline scheduler).
    public var system: Bool

    static let contact = CasePermission(contacts: true, staff: false, system: false)
    static let staffOnly = CasePermission(contacts: false, staff: true, system: false)
    static let both = CasePermission(contacts: true, staff: true, system: false)
    static let scheduler = CasePermission(contacts: false, staff: false, system: true)
}

/// The case lifecycle as data: which commands each status accepts (R2.4, R2.10) and who
/// may send each command. ``CaseDecider`` checks both tables in one place before
/// deciding, and derives the `allowed` list of its R2.10 errors from the first.
public enum CaseRules {
    /// Accepted whatever the status: surveys outlive reopening (R5.3).
    static let anyStatus = [AnswerSurvey.type, ExpireSurvey.type]
    /// Time-driven clock commands.
    static let clockFacts = [RecordClockAtRisk.type, RecordClockBreached.type, RecordUpdateOverdue.type]
    /// Accepted by every open status.
    static let whileOpen = [AddComment.type, AddAttachment.type, RouteCase.type, SetPriority.type,
                            RequestPriorityChange.type, EscalateCase.type, LinkIncident.type, ConvertToIncident.type,
                            SuspendResolutionTarget.type, ResumeResolutionTarget.type, CloseCase.type] + clockFacts
    /// Support's moves while it is working on the case.
    static let working = [RequestInformation.type, RestoreService.type, ProposeSolution.type]

    /// Commands each status accepts (R2.4). `awaiting-customer` accepts no progress until the
    /// contact comments (R2.5); `solution-proposed` waits for the contact (R2.6); a closed
    /// case can only be reopened (R2.7).
    public static let allowedCommands: [CaseStatus: [String]] = [
        .new: whileOpen + working + anyStatus,
        .investigating: whileOpen + working + anyStatus,
        .awaitingCustomer: whileOpen + anyStatus,
        .customerResponded: whileOpen + working + anyStatus,
        .serviceRestored: whileOpen + [RequestInformation.type, ProposeSolution.type] + anyStatus,
        .solutionProposed: [ConfirmSolution.type, RejectSolution.type, AddComment.type, CloseCase.type,
                            AddAttachment.type, AutoCloseCase.type] + clockFacts + anyStatus,
        .closed: [ReopenCase.type] + anyStatus,
    ]

    /// Who may send each command type (open-case has its own rules, R2.1).
    public static let permissions: [String: CasePermission] = {
        var table: [String: CasePermission] = [:]
        for t in [RouteCase.type, SetPriority.type, RequestInformation.type, RestoreService.type, ProposeSolution.type,
                  SuspendResolutionTarget.type, ResumeResolutionTarget.type, LinkIncident.type, ConvertToIncident.type] {
            table[t] = .staffOnly
        }
        for t in [AddComment.type, AddAttachment.type, EscalateCase.type, RequestPriorityChange.type, CloseCase.type,
                  ConfirmSolution.type, RejectSolution.type, ReopenCase.type] {
            table[t] = .both
        }
        table[AnswerSurvey.type] = .contact
        for t in clockFacts + [AutoCloseCase.type, ExpireSurvey.type] { table[t] = .scheduler }
        return table
    }()

    /// The commands `status` accepts that a party of `role` may send (contacts are
    /// further limited by access level and organisation, R1.2, R1.9): what a client can
    /// offer, and the `allowed` list of an R2.10 refusal.
    public static func allowed(in status: CaseStatus, for role: Role) -> [String] {
        (allowedCommands[status] ?? []).filter { type in
            let p = permissions[type] ?? .staffOnly
            switch role {
            case .contact: return p.contacts
            case .staff: return p.staff
            case .system: return p.system
            case .auditor, .reportingJob: return false
            }
        }
    }

    /// Throws R2.10 when `status` does not accept `type`, naming the status and what the actor could send instead.
    static func checkStatus(_ type: String, _ status: CaseStatus, role: Role) throws(DomainError) {
        guard allowedCommands[status]?.contains(type) == true else {
            let allowed = allowed(in: status, for: role)
            throw DomainError(rule: "R2.10", status: status.rawValue, allowed: allowed,
                              message: "case is \(status.rawValue); \(type) is not allowed; allowed: \(allowed.joined(separator: ", "))")
        }
    }

    /// Throws when `actor` may not send `type` to `state` (R1.2, R1.6-R1.9).
    static func checkActor(_ type: String, _ actor: Principal, _ state: CaseState) throws(DomainError) {
        let status = state.status.rawValue
        try Guard.mayChange(actor, status: status)
        let permission = permissions[type] ?? .staffOnly
        switch actor.role {
        case .contact:
            guard permission.contacts else {
                throw DomainError(rule: "R1.2", status: status, message: "only \(permission.system ? "the deadline scheduler" : "staff") may \(type); contact \(actor.id) may not")
            }
            guard actor.organisationID == state.organisationID else {
                throw DomainError(rule: "R1.9", status: status, message: "contact \(actor.id) of another organisation cannot act on case \(state.id ?? "")")
            }
            switch actor.access {
            case .designated:
                return
            case .basic where state.contactID == actor.id:
                return
            case .basic:
                throw DomainError(rule: "R1.2", status: status, message: "basic contact \(actor.id) acts only on own cases; case \(state.id ?? "") belongs to \(state.contactID)")
            case .readOnly, nil:
                throw DomainError(rule: "R1.2", status: status, message: "read-only contact \(actor.id) reads cases but cannot act on them")
            }
        case .staff:
            guard permission.staff else {
                throw DomainError(rule: "R1.6", status: status, message: "\(type) is sent by \(permission.system ? "the deadline scheduler" : "the contact"), not staff")
            }
        case .system:
            guard permission.system else {
                throw DomainError(rule: "R1.6", status: status, message: "\(type) is a person's command; the system sends only time-driven commands")
            }
        case .auditor, .reportingJob:
            return
        }
    }
}
