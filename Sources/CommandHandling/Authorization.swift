import CaseDomain
import EventLog
import Foundation
import Synchronization

/// Whom a stream belongs to: all that an access decision needs to know of it.
public enum StreamScope: Sendable, Hashable {
    /// A case of `organisation`, reported by the contact `reportedBy`.
    case `case`(organisation: String, reportedBy: String)
    /// The organisation stream `org-<id>` itself (and, for commands that create a case or a
    /// feature request, the organisation the payload names).
    case organisation(String)
    /// An operations incident naming `organisations`, or "a subset of clients" (R6.1).
    case incident(organisations: [String], subsetOfClients: Bool)
    /// A feature request of `organisation` (R7).
    case featureRequest(organisation: String)
    /// The policies and calendars in force (`policy-<name>`, `calendar-<name>`, R4.9).
    case catalog
}

/// What a principal may do now: the principal with the access level its organisation's
/// current contact list records (contacts), and the incident-report grant (R1.4, R1.10).
public struct Rights: Sendable, Hashable {
    /// The principal, a contact's `access` taken from the contact list.
    public var principal: Principal
    /// Whether the incident report is visible (staff, auditors and reporting jobs always;
    /// a contact when the list records the grant, R1.4).
    public var incidentReport: Bool

    /// Creates rights.
    public init(principal: Principal, incidentReport: Bool) {
        self.principal = principal
        self.incidentReport = incidentReport
    }
}

/// The one decision point for access (DESIGN.md rule 7; the rules are written down in the
/// open format's `authorization.md`). Every command (HTTP and `docket import`, through
/// ``CommandHandler``) and every query goes through it, in this order:
///
/// 1. **Kind.** May this kind of principal send this command type at all (auditors and
///    reporting jobs send none, contacts only the contact commands)? The answer does not
///    depend on the target, so it reveals nothing about it.
/// 2. **Rights** (``rights(of:in:)``). A contact's access level and incident-report grant
///    come from its organisation's current contact list; a contact not on it has no rights
///    and sees nothing (R1.2-R1.4, R1.10).
/// 3. **Visibility** (``mayView(_:_:)``). May the principal see the target stream? A stream
///    it may not see is answered exactly like a missing one (R1.9): same status, code and
///    message, and nothing of the stream (no status, version, rule or allowed commands).
/// 4. Only then the role and domain rules of the deciders run; only their refusals name a
///    status and the allowed commands.
public enum Authorization {
    /// The command types a contact may ever send (further limited by access level and
    /// visibility): the case commands contacts send (R1.2, R2.5-R2.8, R3.1, R3.2, R5.3),
    /// their own alert opt-out (R1.5) and feature requests (R7).
    public static let contactCommandTypes: Set<String> = {
        var types: Set<String> = [OpenCase.type, SetAlertOptOut.type, SubmitFeatureRequest.type]
        for (type, permission) in CaseRules.permissions where permission.contacts { types.insert(type) }
        return types
    }()

    /// Step 1: whether a principal of `role` may send a command of `type` at all. `nil` when
    /// it may; otherwise the refusal, which names the kind of principal and never the target.
    public static func kindRefusal(_ role: Role, type: String) -> String? {
        switch role {
        case .staff, .system:
            return nil
        case .contact:
            return contactCommandTypes.contains(type)
                ? nil
                : "a contact may not send \(type); contacts send \(contactCommandTypes.sorted().joined(separator: ", ")) (R1.2)"
        case .auditor:
            return "an auditor reads and replays but sends no commands (R1.7)"
        case .reportingJob:
            return "a reporting job only queries projections and sends no commands (R1.8)"
        }
    }

    /// Step 2: what `principal` may do now. For a contact, the access level and incident-report
    /// grant of the contact list of `organisation` (the state of the organisation the
    /// principal names), or `nil` when the contact is not on it (never added, removed) or the
    /// organisation does not exist: such a contact has no rights at all (R1.10). Everyone
    /// else keeps their principal; their kind grants what they may see.
    public static func rights(of principal: Principal, in organisation: OrganisationState?) -> Rights? {
        guard principal.role == .contact else {
            return Rights(principal: principal, incidentReport: true)
        }
        guard let organisation, let id = organisation.id, id == principal.organisationID,
              let contact = organisation.contacts[principal.id] else { return nil }
        var effective = principal
        effective.access = contact.access
        return Rights(principal: effective, incidentReport: contact.access == .designated && contact.incidentReport)
    }

    /// Step 3: whether `rights` may see a stream of `scope` (R1.2, R1.7-R1.9). Staff, auditors,
    /// reporting jobs and the system see every stream (what they may *do* is decided later);
    /// a contact sees its own organisation, the cases of it its access level reads (basic:
    /// only the ones it reported), incidents naming its organisation or "a subset of clients",
    /// and its organisation's feature requests. Contacts never see the policy catalog.
    public static func mayView(_ rights: Rights, _ scope: StreamScope) -> Bool {
        let p = rights.principal
        guard p.role == .contact else { return true }
        guard let own = p.organisationID, let access = p.access else { return false }
        switch scope {
        case .case(let organisation, let reportedBy):
            return organisation == own && (access != .basic || reportedBy == p.id)
        case .organisation(let organisation):
            return organisation == own
        case .incident(let organisations, let subsetOfClients):
            return subsetOfClients || organisations.contains(own)
        case .featureRequest(let organisation):
            return organisation == own
        case .catalog:
            return false
        }
    }

    /// The scope of a case from its state (`nil` before it was opened).
    public static func scope(of state: CaseState) -> StreamScope? {
        state.id == nil ? nil : .case(organisation: state.organisationID, reportedBy: state.contactID)
    }

    /// The scope of an incident from its state (`nil` before it was declared).
    public static func scope(of state: IncidentState) -> StreamScope? {
        state.number == nil ? nil : .incident(organisations: state.affectedOrganisations, subsetOfClients: state.subsetOfClients)
    }

    /// The refusal for a stream that is missing or that the principal may not see: the same
    /// error, word for word, in both cases (R1.9). It names only what the caller sent.
    public static func notVisible(stream: String, type: String) -> CommandError {
        CommandError(.notFound, "no stream \(stream) that you may see; \(type) needs an existing stream")
    }

    /// The refusal for a command that names an organisation the principal may not see, or
    /// one that does not exist: the same error in both cases (R1.9).
    public static func organisationNotVisible(_ organisation: String) -> CommandError {
        CommandError(.notFound, "no organisation \(organisation) that you may see; a case or feature request goes to an organisation you belong to")
    }
}

/// Who sent a command, as its events record it (schemas/messages.md metadata): the first
/// outcome of a commandId goes back only to the same principal.
struct RecordedPrincipal: Decodable, Equatable {
    var role: String
    var organisationId: String?
    var commandType: String?

    /// The recorded role and organisation of an event's metadata, `nil` when it does not decode.
    static func of(_ metadata: Data) -> RecordedPrincipal? {
        try? MessageCoding.decoder().decode(RecordedPrincipal.self, from: metadata)
    }
}

/// A principal's identity for idempotency: kind, organisation and id (R1.9: a contact id may
/// repeat across organisations, and a retry's first outcome goes back only to its sender).
struct PrincipalIdentity: Hashable, Sendable {
    var role: Role
    var organisationID: String?
    var id: String

    init(_ principal: Principal) {
        role = principal.role
        organisationID = principal.organisationID
        id = principal.id
    }
}

/// Reads an organisation's current contact list from the log (token issuance: a token for a
/// contact who is not on the list is not issued, R1.10).
public enum ContactList {
    /// The contact `contactID` of organisation `organisationID` as the log holds it now, or
    /// `nil` when the organisation or the contact does not exist.
    public static func contact(_ contactID: String, of organisationID: String, in log: EventLog) throws -> Contact? {
        guard let state = try organisation(organisationID, in: log) else { return nil }
        return state.contacts[contactID]
    }

    /// The organisation's state folded from its stream, `nil` when it is not registered.
    public static func organisation(_ organisationID: String, in log: EventLog) throws -> OrganisationState? {
        var state = OrganisationDecider.initialState
        var version: UInt64?
        try CommandHandler.fold(OrganisationDecider.self, stream: StreamName.organisation(organisationID), in: log,
                                into: &state, version: &version) { if case .organisation(let e) = $0 { e } else { nil } }
        return state.id == nil ? nil : state
    }
}

extension CommandHandler {
    /// The rights `principal` holds now (step 2 of ``Authorization``): what a query checks
    /// before it shows anything. `nil` for a contact who is not on its organisation's list.
    ///
    /// The organisation's contact list is read through ``ContactListCache``: a change this
    /// process appends (through this handler or one of its batches) holds for the next query
    /// at once; one appended by another process (`docket import` beside a running server)
    /// within ``ContactListCache/lifetime``. Commands never use the cache: they decide on the
    /// list as the log holds it.
    public func rights(of principal: Principal) throws(CommandError) -> Rights? {
        guard principal.role == .contact else { return Authorization.rights(of: principal, in: nil) }
        guard let id = principal.organisationID else { return nil }
        if let cached = contactLists.get(id) { return Authorization.rights(of: principal, in: cached) }
        let generation = contactLists.generation
        let (state, version) = try load(OrganisationDecider.self, stream: StreamName.organisation(id)) {
            if case .organisation(let e) = $0 { e } else { nil }
        }
        let organisation = version == nil ? nil : state
        contactLists.put(id, organisation, generation: generation)
        return Authorization.rights(of: principal, in: organisation)
    }
}

/// Organisations' states as queries last read them, each reused for at most ``lifetime``
/// and only while no organisation stream was appended to by this process since it was read
/// (a query's access check then costs a dictionary lookup, not a read transaction).
final class ContactListCache: Sendable {
    /// How long a state read from the log is reused at most (bounds how late a change appended
    /// by another process is seen).
    static let lifetime: Duration = .seconds(1)
    /// Most organisations kept; the cache is emptied when it would grow beyond.
    static let limit = 10_000

    struct Entry {
        var state: OrganisationState?
        var generation: UInt64
        var read: ContinuousClock.Instant
    }
    private let entries = Mutex<(entries: [String: Entry], generation: UInt64)>(([:], 0))

    /// Counts appends to organisation streams; an entry read before the last one is stale.
    var generation: UInt64 { entries.withLock { $0.generation } }

    /// The state of organisation `id` if a fresh one is cached (`.some(nil)`: it does not exist).
    func get(_ id: String) -> OrganisationState?? {
        let now = ContinuousClock.now
        return entries.withLock { cache -> OrganisationState?? in
            guard let entry = cache.entries[id], entry.generation == cache.generation, now - entry.read < Self.lifetime else { return nil }
            return .some(entry.state)
        }
    }

    /// Caches `state` of organisation `id`, read when the generation was `generation`.
    func put(_ id: String, _ state: OrganisationState?, generation: UInt64) {
        let now = ContinuousClock.now
        entries.withLock { cache in
            guard cache.generation == generation else { return }  // appended to meanwhile: may be stale
            if cache.entries.count >= Self.limit { cache.entries.removeAll() }
            cache.entries[id] = Entry(state: state, generation: generation, read: now)
        }
    }

    /// Called after this process appended to an organisation stream.
    func invalidate() {
        entries.withLock { $0.generation &+= 1 }
    }
}
