import CaseDomain
import DocketJSON
import EventLog
import Foundation
import Logging

/// Replays one case, incident or organisation stream for an auditor (R9.2): every event in
/// order with who, when and through which channel, and the state after it, including every
/// SLA clock computed with the calendar of the policy version the case opened under (R4.9)
/// and the flags with the rule that raised them.
///
/// Reads the stream in pages, each in its own short read transaction, so it works on a live
/// log and never holds a transaction across pages. Pure otherwise: it never reads a clock;
/// "now" is the time of the last event, or the `as-of` instant.
public struct Replayer: Sendable {
    /// The log read from.
    public let log: EventLog
    /// Policies and calendars (a case's policy is looked up by the name and version it opened under).
    public let catalog: PolicyCatalog
    /// Events per read transaction.
    public var pageSize: Int
    let logger: Logger

    /// Creates a replayer.
    public init(log: EventLog, catalog: PolicyCatalog, pageSize: Int = 512, logger: Logger) {
        self.log = log
        self.catalog = catalog
        self.pageSize = max(1, pageSize)
        self.logger = logger
    }

    /// Replays `aggregate` `id` up to `stop`.
    ///
    /// - Throws: ``AuditError`` `.notFound` when no stream of that kind and id exists,
    ///   `.corrupt`/`.storage` when the log cannot be read.
    public func replay(_ aggregate: ReplayAggregate, id: String, stop: ReplayStop = .end) throws(AuditError) -> Replay {
        let stream = try resolveStream(aggregate, id: id)
        var fold: any ReplayFold = switch aggregate {
        case .case: CaseFold(catalog: catalog)
        case .incident: IncidentFold()
        case .organisation: OrganisationFold()
        }
        var replay = Replay(aggregate: aggregate, id: id, stream: stream, stoppedBy: "end", steps: [], final: nil, warnings: [])
        switch stop {
        case .end: break
        case .asOf(let date): replay.stoppedBy = "as-of"; replay.asOf = date
        case .atPosition(let p): replay.stoppedBy = "at-position"; replay.atPosition = p
        }
        var version: UInt64 = 0
        var done = false
        var metadataCache = MetadataCache()
        while !done {
            let page: [RecordedEvent]
            do {
                page = try log.readStream(stream, from: version, limit: pageSize)
            } catch {
                throw AuditError.wrapping(error)
            }
            for event in page {
                if case .atPosition(let p) = stop, event.position > p { done = true; break }
                var note: String?
                var decoded: DomainEvent?
                do {
                    decoded = try DomainEvent.decode(type: event.type, schemaVersion: Int(event.schemaVersion), payload: event.payload)
                } catch {
                    note = "cannot decode \(event.type) v\(event.schemaVersion): \(error.message); the state is unchanged"
                    logger.warning("replay: undecodable event", metadata: ["position": "\(event.position)", "type": "\(event.type)"])
                }
                let facts = EventFacts(event, decoded: decoded, metadata: &metadataCache)
                if case .asOf(let instant) = stop, facts.at > instant { done = true; break }
                if let decoded, !fold.apply(decoded, position: event.position) {
                    note = "\(event.type) is not a \(aggregate.rawValue) event; the state is unchanged"
                }
                if let note { replay.warnings.append("position \(event.position): \(note)") }
                replay.steps.append(ReplayStep(
                    position: event.position, version: event.version, eventId: event.id.lowercasedString,
                    type: event.type, recordedAt: event.recordedAtISO8601, at: facts.at, actor: facts.actor,
                    role: facts.role, channel: facts.channel, note: note, state: fold.snapshot(at: facts.at)))
            }
            if page.count < pageSize { break }
            version = page[page.count - 1].version + 1
        }
        if case .asOf(let instant) = stop {
            replay.final = replay.steps.isEmpty ? nil : fold.snapshot(at: instant)
        } else {
            replay.final = replay.steps.last?.state
        }
        replay.warnings += fold.warnings
        return replay
    }

    /// The existing stream for `id`, trying the conventional name first.
    func resolveStream(_ aggregate: ReplayAggregate, id: String) throws(AuditError) -> String {
        let candidates = aggregate.candidateStreams(for: id)
        do {
            for stream in candidates {
                if try log.streamHead(stream) != nil { return stream }
            }
        } catch {
            throw AuditError.wrapping(error)
        }
        throw AuditError(.notFound, "no \(aggregate.rawValue) \(id) in this log (stream \(candidates[0]) has no events); "
            + "check the id and --data-dir")
    }
}

/// Who, when and through which channel, from the envelope and the payload.
struct EventFacts {
    var at: Date
    var actor: String
    var role: String?
    var channel: String?

    /// Envelope metadata first (what the command handler recorded about the request), then
    /// the payload's own fields (`at`, `by`/`openedBy`/`raisedBy`/`authorID`, `authorRole`,
    /// `channel`): read from the decoded payload, or parsed from the JSON when it did not decode.
    init(_ event: RecordedEvent, decoded: DomainEvent?, metadata cache: inout MetadataCache) {
        let (metaRole, metaChannel) = cache.roleAndChannel(event.metadata)
        var at: Date?
        var payloadActor: String?
        var payloadRole: String?
        var payloadChannel: String?
        if let decoded {
            if let facts = decoded.message as? any EventFactsCarrying {
                at = facts.factAt; payloadActor = facts.factActor; payloadRole = facts.factRole; payloadChannel = facts.factChannel
            }
        } else if case .object(let payload)? = try? JSONValue.parse(event.payload, rejectingDuplicateKeys: false) {
            func text(_ name: String) -> String? {
                if case .string(let s)? = payload[name] { return s }
                return nil
            }
            at = text("at").flatMap(DomainTime.parse)
            payloadActor = ["by", "openedBy", "raisedBy", "authorID"].lazy.compactMap(text).first
            payloadRole = text("authorRole")
            payloadChannel = text("channel")
        }
        var actor = event.actor
        if actor.isEmpty, let payloadActor { actor = payloadActor }
        var role = metaRole ?? payloadRole
        if role == nil, actor == Principal.deadlineScheduler.recordedName || actor == Principal.deadlineScheduler.id {
            role = Role.system.rawValue
        }
        self.at = at ?? event.recordedAt
        self.actor = actor
        self.role = role
        self.channel = metaChannel ?? payloadChannel
    }
}

/// Role and channel of envelope metadata already parsed: the events of one command share
/// their metadata bytes, and a stream has few distinct ones, so most events need no parse.
struct MetadataCache {
    private var parsed: [Data: (role: String?, channel: String?)] = [:]

    mutating func roleAndChannel(_ metadata: Data) -> (role: String?, channel: String?) {
        guard metadata.count > 2 else { return (nil, nil) }
        if let known = parsed[metadata] { return known }
        var facts: (role: String?, channel: String?) = (nil, nil)
        if case .object(let meta)? = try? JSONValue.parse(metadata, rejectingDuplicateKeys: false) {
            if case .string(let role)? = meta["role"] { facts.role = role }
            if case .string(let channel)? = meta["channel"] { facts.channel = channel }
        }
        if parsed.count < 1_024 { parsed[metadata] = facts }
        return facts
    }
}

/// Folds one aggregate's events and shows its state.
protocol ReplayFold {
    /// Folds `event`, appended at log `position`; false when it is not an event of this aggregate.
    mutating func apply(_ event: DomainEvent, position: UInt64) -> Bool
    /// The state at `instant`.
    func snapshot(at instant: Date) -> ReplayState
    /// Problems met while folding.
    var warnings: [String] { get }
}

/// Cases: status, priority, owner, clocks and flags.
struct CaseFold: ReplayFold {
    let catalog: PolicyCatalog
    var state = CaseDecider.initialState
    var warnings: [String] = []
    /// The policy version the case opened under, once known.
    var policy: SupportPolicy?
    /// The name of the calendar business-time clocks are measured with, resolved when the
    /// case opens (the policy names it for the case's region).
    var calendarName: String?
    /// The log position of the last event folded.
    var position: UInt64 = 0
    /// Where each finished clock finished (``CaseState/noteClockFinishes(_:at:)``).
    var finishes = ClockFinishes()

    init(catalog: PolicyCatalog) {
        self.catalog = catalog
    }

    mutating func apply(_ event: DomainEvent, position: UInt64) -> Bool {
        guard case .case(let e) = event else { return false }
        CaseDecider.evolve(&state, e)
        if case .caseOpened(let opened) = e {
            do {
                policy = try catalog.policy(named: opened.policyName, version: opened.policyVersion)
                calendarName = policy?.calendarName(forRegion: opened.region)
            } catch {
                policy = nil
                calendarName = nil
                warnings.append("the case opened under policy \(opened.policyName) version \(opened.policyVersion), "
                    + "which this catalog does not hold (\(error)); clocks are shown in wall-clock time")
            }
        }
        state.noteClockFinishes(&finishes, at: position)
        self.position = position
        return true
    }

    func snapshot(at instant: Date) -> ReplayState {
        let clocks = state.orderedClocks.map { clock -> ReplayClock in
            var calendarName: String?
            var calendarVersion: Int?
            let s: SLAClockState
            // R4.9: the policy is the version in force at opening; a clock is measured with
            // the calendar version in force where it finished, or, while it runs, at this
            // step: what was measured when the step's event was appended, whatever versions
            // were recorded since.
            let asOf = clock.isFinished ? finishes[clock.target] ?? position : position
            if clock.duration.isBusinessTime, let business = self.calendarName.flatMap({ catalog.calendar(named: $0, asOf: asOf) }) {
                calendarName = business.name
                calendarVersion = business.version
                s = clock.state(at: instant, measure: business)
            } else {
                s = clock.state(at: instant, measure: WallClockTime())
            }
            return ReplayClock(
                target: clock.target.rawValue, timeKind: clock.duration.isBusinessTime ? "business" : "wall-clock",
                calendar: calendarName, calendarVersion: calendarVersion, targetSeconds: s.targetSeconds, elapsedSeconds: s.elapsedSeconds,
                remainingSeconds: s.remainingSeconds, deadline: s.deadline, paused: s.paused, suspended: s.suspended,
                metAt: s.metAt, stoppedAt: clock.stoppedAt, atRiskAt: s.atRiskAt, breachedAt: s.breachedAt)
        }
        let flags = state.flags.map { f in
            ReplayFlag(kind: f.kind.rawValue, rule: f.rule, raisedBy: f.raisedBy, reason: f.reason, target: f.target?.rawValue,
                       raisedAt: f.raisedAt, clearedAt: f.clearedAt, current: f.isCurrent)
        }
        return ReplayState(evaluatedAt: instant, status: state.status.rawValue,
                           priority: state.priority.isEmpty ? nil : state.priority, owner: state.owner, team: state.team,
                           policy: state.policyName.isEmpty ? nil : "\(state.policyName)@\(state.policyVersion)",
                           clocks: clocks, flags: flags)
    }
}

/// Incidents: active or resolved.
struct IncidentFold: ReplayFold {
    var state = IncidentDecider.initialState
    var warnings: [String] { [] }

    mutating func apply(_ event: DomainEvent, position: UInt64) -> Bool {
        guard case .incident(let e) = event else { return false }
        IncidentDecider.evolve(&state, e)
        return true
    }

    func snapshot(at instant: Date) -> ReplayState {
        ReplayState(evaluatedAt: instant, status: state.isResolved ? "resolved" : "active", clocks: [], flags: [])
    }
}

/// Organisations: their phase.
struct OrganisationFold: ReplayFold {
    var state = OrganisationDecider.initialState
    var warnings: [String] { [] }

    mutating func apply(_ event: DomainEvent, position: UInt64) -> Bool {
        guard case .organisation(let e) = event else { return false }
        OrganisationDecider.evolve(&state, e)
        return true
    }

    func snapshot(at instant: Date) -> ReplayState {
        ReplayState(evaluatedAt: instant, status: state.phase.rawValue, policy: state.policyName.isEmpty ? nil : state.policyName,
                    clocks: [], flags: [])
    }
}
