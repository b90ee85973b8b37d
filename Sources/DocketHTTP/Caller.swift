import CaseDomain
import Foundation

/// The kinds of principal a bearer token can stand for (DOMAIN.md §1, plus `admin`).
public enum CallerKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// A person of a customer organisation (R1.2).
    case contact
    /// A support representative (R1.6).
    case staff
    /// Reads everything, changes nothing (R1.7).
    case auditor
    /// Queries projections and reports only (R1.8).
    case reportingJob = "reporting-job"
    /// Manages tokens; reads no case data and sends no commands.
    case admin
}

/// Who is calling: the principal a bearer token stands for, as stored in the `tokens`
/// database (schemas/storage.md) and returned by the token API.
public struct Caller: Codable, Sendable, Hashable {
    /// The kind of principal.
    public var kind: CallerKind
    /// Identifier of the contact, staff member, auditor, job or administrator.
    public var id: String
    /// A contact's organisation.
    public var organisationId: String?
    /// A contact's access level (R1.2) as the organisation's contact list recorded it when the
    /// token was issued: shown in token listings, never used to decide anything. What a
    /// contact may do comes from the list when it acts (R1.10).
    public var access: ContactAccess?
    /// Whether the contact list granted incident-report access (R1.4) when the token was
    /// issued: shown in token listings, never used to decide anything (R1.10).
    public var incidentReport: Bool?
    /// A staff member's tier or role (R1.6).
    public var staffRole: StaffRole?

    /// Creates a caller; check it with ``validated()``.
    public init(kind: CallerKind, id: String, organisationId: String? = nil, access: ContactAccess? = nil,
                incidentReport: Bool? = nil, staffRole: StaffRole? = nil) {
        self.kind = kind
        self.id = id
        self.organisationId = organisationId
        self.access = access
        self.incidentReport = incidentReport
        self.staffRole = staffRole
    }

    /// The caller if its fields fit its kind; otherwise an error naming the wrong field.
    public func validated() throws(CallerError) -> Caller {
        guard !id.isEmpty, id.count <= 200, !id.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) else {
            throw CallerError("principal id must be 1 to 200 printable characters, got \(id.debugDescription)")
        }
        switch kind {
        case .contact:
            guard let org = organisationId, !org.isEmpty else { throw CallerError("a contact needs an organisationId") }
            guard org.count <= 200, !org.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) else {
                throw CallerError("a contact's organisationId must be 1 to 200 printable characters")
            }
            // A claimed access level or incident-report grant is checked against the
            // organisation's contact list when the token is issued (TokenStore.create).
            guard staffRole == nil else { throw CallerError("a contact has no staffRole") }
        case .staff:
            guard staffRole != nil else { throw CallerError("a staff member needs a staffRole: tier1, tier2, tier3, manager or operations") }
            guard organisationId == nil, access == nil, incidentReport == nil else {
                throw CallerError("a staff member has no organisationId, access or incidentReport")
            }
        case .auditor, .reportingJob, .admin:
            guard organisationId == nil, access == nil, incidentReport == nil, staffRole == nil else {
                throw CallerError("a \(kind.rawValue) has no organisationId, access, incidentReport or staffRole")
            }
        }
        return self
    }

    /// The domain's view of this caller; `nil` for an administrator, who acts on no domain
    /// stream. A contact's access level here is the token's claim, a placeholder: the one
    /// decision point (`Authorization` in CommandHandling) replaces it with the level the
    /// organisation's contact list records now, before anything is decided or shown (R1.10).
    public var principal: Principal? {
        switch kind {
        case .contact:
            guard let organisationId else { return nil }
            return .contact(id, organisation: organisationId, access: access ?? .basic)
        case .staff:
            guard let staffRole else { return nil }
            return .staff(id, staffRole)
        case .auditor: return .auditor(id)
        case .reportingJob: return .reportingJob(id)
        case .admin: return nil
        }
    }
}

/// A caller description that does not fit its kind.
public struct CallerError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what would be right.
    public var message: String
    init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
