/// Who is acting (DOMAIN.md §1).
public enum Role: String, Codable, Sendable, Hashable, CaseIterable {
    /// A person of a customer organisation (R1.2).
    case contact
    /// A support representative (R1.6).
    case staff
    /// Reads everything, changes nothing (R1.7).
    case auditor
    /// A machine client that only queries projections (R1.8).
    case reportingJob = "reporting-job"
    /// Docket itself, e.g. the deadline scheduler sending time-driven commands.
    case system
}

/// A contact's access level (R1.2).
public enum ContactAccess: String, Codable, Sendable, Hashable, CaseIterable {
    /// Reads and acts on own cases only.
    case basic
    /// Reads all cases of the organisation, acts on none.
    case readOnly = "read-only"
    /// Authorized/designated support contact: may open and act on the organisation's cases.
    case designated
}

/// A staff member's tier or role (R1.6).
public enum StaffRole: String, Codable, Sendable, Hashable, CaseIterable {
    /// Intake, first assessment, application support.
    case tier1
    /// Installations, integrations, upgrades.
    case tier2
    /// Engineering.
    case tier3
    /// Support manager.
    case manager
    /// Operations (incidents, R6).
    case operations
}

/// The channel through which a case was opened or a command arrived (DOMAIN.md §2).
public enum Channel: String, Codable, Sendable, Hashable, CaseIterable {
    /// The support portal (or the HTTP API acting for it).
    case portal
    /// Chat: staff open the case on the contact's behalf (R2.1).
    case chat
    /// Phone: staff open the case on the contact's behalf (R2.1).
    case phone
    /// E-mail.
    case email
}

/// The actor of a command: identity, role, and what the role needs (organisation and
/// access level for contacts, tier/role for staff). Access rules of R1 are checked in
/// `decide` against this value.
public struct Principal: Codable, Sendable, Hashable {
    /// Identifier of the contact, staff member, auditor, job or system component.
    public var id: String
    /// The role.
    public var role: Role
    /// The organisation of a contact; `nil` for everyone else.
    public var organisationID: String?
    /// A contact's access level; `nil` for everyone else.
    public var access: ContactAccess?
    /// A staff member's tier or role; `nil` for everyone else.
    public var staffRole: StaffRole?
    /// The channel the command came through, when known.
    public var channel: Channel?

    /// Creates a principal.
    public init(id: String, role: Role, organisationID: String? = nil, access: ContactAccess? = nil,
                staffRole: StaffRole? = nil, channel: Channel? = nil) {
        self.id = id
        self.role = role
        self.organisationID = organisationID
        self.access = access
        self.staffRole = staffRole
        self.channel = channel
    }

    /// A contact of `organisationID` with `access`.
    public static func contact(_ id: String, organisation organisationID: String, access: ContactAccess,
                               channel: Channel = .portal) -> Principal {
        Principal(id: id, role: .contact, organisationID: organisationID, access: access, channel: channel)
    }

    /// A staff member with `role`.
    public static func staff(_ id: String, _ role: StaffRole, channel: Channel = .portal) -> Principal {
        Principal(id: id, role: .staff, staffRole: role, channel: channel)
    }

    /// An auditor (R1.7).
    public static func auditor(_ id: String) -> Principal { Principal(id: id, role: .auditor) }

    /// A reporting job (R1.8).
    public static func reportingJob(_ id: String) -> Principal { Principal(id: id, role: .reportingJob) }

    /// The deadline scheduler, the sender of time-driven commands.
    public static let deadlineScheduler = Principal(id: "deadline-scheduler", role: .system)

    /// How events name this actor: the id, or `"system: deadline scheduler"` for the scheduler (R3.6).
    public var recordedName: String {
        role == .system && id == Principal.deadlineScheduler.id ? "system: deadline scheduler" : id
    }

    /// Whether this is a staff member holding one of `roles` (any staff when empty).
    public func isStaff(_ roles: Set<StaffRole> = []) -> Bool {
        guard role == .staff else { return false }
        return roles.isEmpty || staffRole.map(roles.contains) == true
    }
}
