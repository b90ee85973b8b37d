import CaseDomain
import Catalog
import DocketJSON
import EventLog
import Foundation

/// The events a command decided, ready to append, and the stream version they were decided on.
struct Decision {
    /// The encoded events, ids derived from the commandId (``DerivedID``).
    var events: [NewEvent]
    /// The target stream's version the decision was made on (`nil`: no events yet).
    var loadedVersion: UInt64?
    /// The target stream's state with the decided events folded in. Computed on demand:
    /// only a ``CommandBatch`` needs it, to let the next command of the batch see it.
    var stateAfter: () -> any Sendable
    /// The policy or calendar versions the events record (R4.9), built and checked, to be
    /// put in force once the events are appended; empty for every other command.
    var versions: [RecordedCatalogVersion] = []
}

/// Where a decision reads stream states from. The live path reads the log (through the
/// handler's state cache, ``LogStates``); a ``CommandBatch`` reads its overlay of decided
/// but not yet appended events over the log. Both go through the one
/// ``CommandHandler/decide(_:envelope:actor:at:catalog:states:)``.
protocol StreamStates {
    /// The state of `stream` folded with `decider`, and its version (`nil`: no events).
    mutating func load<D: Decider>(_ decider: D.Type, stream: String, extract: (DomainEvent) -> D.Event?) throws(CommandError)
        -> (D.State, UInt64?)
    /// Every organisation's state, by organisation id.
    mutating func allOrganisations() throws(CommandError) -> [String: OrganisationState]
}

/// Stream states as the log holds them (the live path).
struct LogStates: StreamStates {
    let handler: CommandHandler

    func load<D: Decider>(_ decider: D.Type, stream: String, extract: (DomainEvent) -> D.Event?) throws(CommandError)
        -> (D.State, UInt64?)
    {
        try handler.load(decider, stream: stream, extract: extract)
    }

    func allOrganisations() throws(CommandError) -> [String: OrganisationState] {
        try handler.allOrganisations()
    }
}

extension CommandHandler {
    /// Decodes an envelope's payload into its domain command (`$.payload` paths on errors).
    func command(of envelope: CommandEnvelope) throws(CommandError) -> DomainCommand {
        do {
            return try DomainCommand.decode(type: envelope.type, schemaVersion: 1, payload: envelope.payload)
        } catch {
            throw CommandError(.malformed, error.message, path: error.path.map { "$.payload" + $0.dropFirst() } ?? "$.payload")
        }
    }

    /// The one decide path of the live handler and of batches: authorizes the command
    /// (``Authorization``: kind, rights from the contact list, visibility of the target),
    /// loads the target stream (and what the decision needs besides) from `states`, builds
    /// the context with `catalog`, decides, and encodes the events with ids derived from the
    /// commandId. Throws ``CommandError`` for every refusal; appends nothing and changes no state.
    func decide<S: StreamStates>(_ command: DomainCommand, envelope: CommandEnvelope, actor: Principal, at: Date,
                                 catalog: PolicyCatalog, states: inout S) throws(CommandError) -> Decision {
        let stream = envelope.streamId
        let type = envelope.type
        // 1. May this kind of principal send this command type at all? (Says nothing of the target.)
        if let refusal = Authorization.kindRefusal(actor.role, type: type) {
            throw CommandError(.forbidden, refusal)
        }
        // 2. Rights from domain state: a contact's from its organisation's current contact list (R1.10).
        var actorOrganisation: (id: String, state: OrganisationState)?
        let rights: Rights?
        if actor.role == .contact {
            if let id = actor.organisationID {
                let (state, version) = try states.load(OrganisationDecider.self, stream: StreamName.organisation(id)) {
                    if case .organisation(let e) = $0 { e } else { nil }
                }
                if version != nil { actorOrganisation = (id, state) }
            }
            rights = Authorization.rights(of: actor, in: actorOrganisation?.state)
        } else {
            rights = Authorization.rights(of: actor, in: nil)
        }
        // 3. Visibility of the target: a stream the principal may not see is answered like a missing one (R1.9).
        func visible(_ scope: StreamScope?) -> Bool {
            guard let rights, let scope else { return false }
            return Authorization.mayView(rights, scope)
        }
        let taken = CommandError(.conflict, "stream \(stream) exists already; \(type) starts a new stream: choose another id")
        let hidden = Authorization.notVisible(stream: stream, type: type)
        // 4. The role and domain rules, with the principal's current rights.
        let actor = rights?.principal ?? actor
        let measures = CalendarMeasureProvider { name in try? catalog.calendar(named: name) }
        func context(policy: SupportPolicy?, organisation: OrganisationState? = nil,
                     organisations: [String: OrganisationState] = [:]) -> DecisionContext {
            DecisionContext(now: at, actor: actor, policy: policy, measures: measures,
                            organisation: organisation, organisations: organisations)
        }
        switch command {
        case .case(let c):
            try expectPrefix("case-", stream, for: type)
            if case .openCase(let open) = c, stream != StreamName.case(open.caseID) {
                throw CommandError(.refused, "open-case for case \(open.caseID) must go to stream \(StreamName.case(open.caseID)), not \(stream)", path: "$.streamId")
            }
            let (state, version) = try states.load(CaseDecider.self, stream: stream) { if case .case(let e) = $0 { e } else { nil } }
            let organisationID: String
            if case .openCase(let open) = c {
                guard visible(.organisation(open.organisationID)) else { throw Authorization.organisationNotVisible(open.organisationID) }
                guard version == nil else { throw taken }
                organisationID = open.organisationID
            } else {
                guard version != nil, visible(Authorization.scope(of: state)) else { throw hidden }
                organisationID = state.organisationID
            }
            let organisation: OrganisationState
            if let own = actorOrganisation, own.id == organisationID {
                organisation = own.state
            } else {
                let (loaded, orgVersion) = try states.load(OrganisationDecider.self, stream: StreamName.organisation(organisationID)) {
                    if case .organisation(let e) = $0 { e } else { nil }
                }
                guard orgVersion != nil else {
                    throw CommandError(.notFound, "no organisation \(organisationID); register it first")
                }
                organisation = loaded
            }
            let policy: SupportPolicy
            if case .openCase = c {
                policy = try policyNamed(organisation.policyName, version: nil, catalog)
            } else {
                policy = try policyNamed(state.policyName, version: state.policyVersion, catalog)
            }
            let events = try run(hidden) { () throws(DomainError) in
                try CaseDecider.decide(c, state: state, context: context(policy: policy, organisation: organisation))
            }
            return try decision(CaseDecider.self, events, DomainEvent.case, state: state, version: version, envelope: envelope, actor: actor)

        case .organisation(let c):
            try expectPrefix("org-", stream, for: type)
            if case .registerOrganisation(let r) = c, stream != StreamName.organisation(r.organisationID) {
                throw CommandError(.refused, "register-organisation for \(r.organisationID) must go to stream \(StreamName.organisation(r.organisationID)), not \(stream)", path: "$.streamId")
            }
            let (state, version) = try states.load(OrganisationDecider.self, stream: stream) { if case .organisation(let e) = $0 { e } else { nil } }
            if case .registerOrganisation(let r) = c {
                guard visible(.organisation(r.organisationID)) else { throw hidden }
                guard version == nil else { throw taken }
            } else {
                guard version != nil, let id = state.id, visible(.organisation(id)) else { throw hidden }
            }
            var policyName = state.policyName
            if case .registerOrganisation(let r) = c { policyName = r.policyName }
            let policy = try policyNamed(policyName, version: nil, catalog)
            let events = try run(hidden) { () throws(DomainError) in
                try OrganisationDecider.decide(c, state: state, context: context(policy: policy))
            }
            return try decision(OrganisationDecider.self, events, DomainEvent.organisation, state: state, version: version, envelope: envelope, actor: actor)

        case .incident(let c):
            try expectPrefix("OPI-", stream, for: type)
            let (state, version) = try states.load(IncidentDecider.self, stream: stream) { if case .incident(let e) = $0 { e } else { nil } }
            if case .declareIncident(let d) = c {
                guard visible(.incident(organisations: d.affectedOrganisations, subsetOfClients: d.subsetOfClients)) else { throw hidden }
                guard version == nil else { throw taken }
            } else {
                guard version != nil, visible(Authorization.scope(of: state)) else { throw hidden }
            }
            let organisations = try states.allOrganisations()
            let events = try run(hidden) { () throws(DomainError) in
                try IncidentDecider.decide(c, state: state, context: context(policy: nil, organisations: organisations))
            }
            return try decision(IncidentDecider.self, events, DomainEvent.incident, state: state, version: version, envelope: envelope, actor: actor)

        case .featureRequest(let c):
            try expectPrefix("feature-", stream, for: type)
            let (state, version) = try states.load(FeatureRequestDecider.self, stream: stream) { if case .featureRequest(let e) = $0 { e } else { nil } }
            if case .submitFeatureRequest(let s) = c {
                guard visible(.organisation(s.organisationID)) else { throw Authorization.organisationNotVisible(s.organisationID) }
                guard version == nil else { throw taken }
            } else {
                guard version != nil, state.id != nil, visible(.featureRequest(organisation: state.organisationID)) else { throw hidden }
            }
            let events = try run(hidden) { () throws(DomainError) in
                try FeatureRequestDecider.decide(c, state: state, context: context(policy: nil))
            }
            return try decision(FeatureRequestDecider.self, events, DomainEvent.featureRequest, state: state, version: version, envelope: envelope, actor: actor)

        case .version(let c):
            guard stream.hasPrefix("policy-") || stream.hasPrefix("calendar-") else {
                throw CommandError(.malformed, "\(type) goes to a stream policy-<name> or calendar-<name>, not \(stream)", path: "$.streamId")
            }
            guard visible(.catalog) else { throw hidden }
            let (state, version) = try states.load(PolicyDecider.self, stream: stream) { if case .version(let e) = $0 { e } else { nil } }
            let events = try run(hidden) { () throws(DomainError) in
                try PolicyDecider.decide(c, state: state, context: context(policy: nil))
            }
            var result = try decision(PolicyDecider.self, events, DomainEvent.version, state: state, version: version, envelope: envelope, actor: actor)
            result.versions = try checkedVersions(events, stream: stream, catalog: catalog)
            return result
        }
    }

    /// The versions that version events record, built from their content; refuses content
    /// that would not load (bad JSON, another name or version than the command's, a policy
    /// naming a calendar the catalog does not hold) and a stream other than
    /// `policy-<name>` / `calendar-<name>`, so that every recorded version can be put in
    /// force, now and when the log is read again at start-up (R4.9).
    private func checkedVersions(_ events: [VersionEvent], stream: String, catalog: PolicyCatalog) throws(CommandError)
        -> [RecordedCatalogVersion]
    {
        var out: [RecordedCatalogVersion] = []
        for event in events {
            let (kind, name): (String, String) = switch event {
            case .policyVersionRecorded(let e): ("policy", e.name)
            case .calendarVersionRecorded(let e): ("calendar", e.name)
            }
            guard stream == "\(kind)-\(name)" else {
                throw CommandError(.refused, "\(kind) \(name) is recorded on stream \(kind)-\(name), not \(stream)", path: "$.streamId")
            }
            let version: RecordedCatalogVersion
            do {
                version = try RecordedCatalogVersion.make(event, stream: stream, position: 0, where: "$.payload.content", reuse: catalog)
            } catch let error as DataLoadError {
                throw CommandError(.refused, "the \(kind) content does not load: \(error.path): \(error.message)", path: "$.payload.content")
            } catch {
                throw CommandError(.refused, "the \(kind) content does not load: \(error)", path: "$.payload.content")
            }
            if case .policy(let p) = version.entry {
                let known = Set(catalog.calendarNames)
                for (region, cal) in p.calendarByRegion.sorted(by: { $0.key < $1.key }) where !known.contains(cal) {
                    throw CommandError(.refused, "policy \(p.name) maps region \(region) to calendar \(cal), which is not recorded; record calendar \(cal) first, or use one of \(known.sorted().joined(separator: ", "))",
                                       path: "$.payload.content")
                }
            }
            out.append(version)
        }
        return out
    }

    /// Folds a stream's events with `decider`; returns the state and the stream's version
    /// (`nil` when it has no events). Starts from the cached state when there is one and
    /// folds only the events appended since.
    func load<D: Decider>(_ decider: D.Type, stream: String, extract: (DomainEvent) -> D.Event?) throws(CommandError)
        -> (D.State, UInt64?)
    {
        var state = D.initialState
        var version: UInt64?
        if let cached = stateCache.get(stream, as: D.State.self) {
            state = cached.state
            version = cached.version
        }
        let cachedVersion = version
        try Self.fold(D.self, stream: stream, in: log, into: &state, version: &version, extract: extract)
        if let version, version != cachedVersion {
            stateCache.put(stream, state: state, version: version)
        }
        return (state, version)
    }

    /// Folds the events of `stream` after `version` (all of them when `nil`) into `state` with
    /// `decider`, and moves `version` to the last one folded: the one fold of the command side
    /// (``load(_:stream:extract:)`` starts it from the state cache, ``ContactList`` from nothing).
    static func fold<D: Decider>(_ decider: D.Type, stream: String, in log: EventLog, into state: inout D.State,
                                 version: inout UInt64?, extract: (DomainEvent) -> D.Event?) throws(CommandError) {
        var next: UInt64 = version.map { $0 + 1 } ?? 0
        do {
            while true {
                let page = try log.readStream(stream, from: next, limit: 1_000)
                for recorded in page {
                    let event = try DomainEvent.decode(type: recorded.type, schemaVersion: Int(recorded.schemaVersion), payload: recorded.payload)
                    guard let typed = extract(event) else {
                        throw CommandError(.storage, "stream \(stream) holds a \(recorded.type) event at position \(recorded.position), which does not belong there")
                    }
                    D.evolve(&state, typed)
                    version = recorded.version
                }
                guard page.count == 1_000, let last = page.last else { break }
                next = last.version + 1
            }
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError(.storage, "cannot load stream \(stream): \(error)")
        }
    }

    /// Every organisation's state (for incident notifications, R6.2).
    func allOrganisations() throws(CommandError) -> [String: OrganisationState] {
        var result: [String: OrganisationState] = [:]
        var after: String? = "org-"
        do {
            while true {
                let heads = try log.streams(after: after, limit: 500)
                let orgs = heads.prefix { $0.stream.hasPrefix("org-") }
                for head in orgs {
                    let (state, _) = try load(OrganisationDecider.self, stream: head.stream) { if case .organisation(let e) = $0 { e } else { nil } }
                    if let id = state.id { result[id] = state }
                }
                guard orgs.count == heads.count, heads.count == 500, let last = heads.last else { break }
                after = last.stream
            }
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError(.storage, "cannot list organisations: \(error)")
        }
        return result
    }

    private func expectPrefix(_ prefix: String, _ stream: String, for type: String) throws(CommandError) {
        guard stream.hasPrefix(prefix), stream.count > prefix.count else {
            throw CommandError(.malformed, "\(type) goes to a stream \(prefix)<id>, not \(stream)", path: "$.streamId")
        }
    }

    private func policyNamed(_ name: String, version: Int?, _ catalog: PolicyCatalog) throws(CommandError) -> SupportPolicy {
        do {
            return try catalog.policy(named: name, version: version)
        } catch {
            throw CommandError(.refused, "unknown support policy \(name)\(version.map { " version \($0)" } ?? ""): \(error)", path: "$.payload.policyName")
        }
    }

    /// Runs a decision, mapping domain refusals to command errors (R1.9 → `hidden`, the
    /// error of a missing stream, so a contact never learns that another organisation's stream
    /// exists; access rules → forbidden). The visibility step runs first, so the domain's own
    /// R1.9 checks are a second line of defence.
    private func run<E>(_ hidden: CommandError, _ body: () throws(DomainError) -> [E]) throws(CommandError) -> [E] {
        do {
            return try body()
        } catch {
            switch error.rule {
            case "R1.9":
                throw hidden
            case "R1.2", "R1.6", "R1.7", "R1.8":
                throw CommandError(.forbidden, error.message, domain: error)
            default:
                throw CommandError(.refused, error.message, domain: error)
            }
        }
    }

    /// The ``Decision`` of `events` decided by `decider` on `state` at `version`.
    private func decision<D: Decider>(_ decider: D.Type, _ events: [D.Event], _ wrap: (D.Event) -> DomainEvent, state: D.State,
                                      version: UInt64?, envelope: CommandEnvelope, actor: Principal) throws(CommandError) -> Decision {
        Decision(events: try encode(events.map(wrap), envelope: envelope, actor: actor), loadedVersion: version,
                 stateAfter: { events.reduce(into: state) { D.evolve(&$0, $1) } })
    }

    /// Envelopes for the decided events: ids derived from the commandId, the actor, and
    /// metadata naming the command, role and channel.
    private func encode(_ events: [DomainEvent], envelope: CommandEnvelope, actor: Principal) throws(CommandError) -> [NewEvent] {
        let commandId = envelope.commandId.lowercasedString
        let metadata = EventMetadata(
            access: actor.access?.rawValue, channel: actor.channel?.rawValue,
            commandId: commandId, commandType: envelope.type,
            organisationId: actor.organisationID, role: actor.role.rawValue, staffRole: actor.staffRole?.rawValue)
        let metadataData = Data(metadata.json())
        var result: [NewEvent] = []
        result.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            do {
                let encoded = try event.encoded()
                result.append(NewEvent(
                    id: DerivedID.event(commandId: envelope.commandId, index: index), type: encoded.type,
                    schemaVersion: UInt32(encoded.schemaVersion), actor: actor.id,
                    correlationId: commandId, causationId: commandId,
                    metadata: metadataData, payload: encoded.payload))
            } catch {
                throw CommandError(.storage, "cannot encode \(event.type): \(error.message)")
            }
        }
        return result
    }
}

/// The metadata every event of a command carries (schemas/messages.md): who sent which
/// command through which channel. Keys sorted, absent values omitted.
struct EventMetadata: Encodable {
    var access: String?
    var channel: String?
    var commandId: String
    var commandType: String
    var organisationId: String?
    var role: String
    var staffRole: String?

    /// The JSON the wire format's encoder (``DocketJSONEncoder``) makes of it, written
    /// directly: compact, keys sorted, absent values omitted (a test compares the two).
    func json() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        var first = true
        func member(_ key: StaticString, _ value: String?) {
            guard let value else { return }
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            JSONText.appendString(value, to: &out)
        }
        // Keys in sorted order.
        member("access", access)
        member("channel", channel)
        member("commandId", commandId)
        member("commandType", commandType)
        member("organisationId", organisationId)
        member("role", role)
        member("staffRole", staffRole)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
