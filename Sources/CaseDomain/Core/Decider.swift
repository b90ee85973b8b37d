import Foundation

/// The Decider pattern (DESIGN.md "Examples to follow"): a pure `decide` that turns a
/// command into events, or refuses it with a ``DomainError`` and emits nothing, and a
/// pure `evolve` that folds one event into the state. Neither reads a clock: time comes
/// from ``DecisionContext/now`` and from the events themselves (DESIGN.md rule 1).
public protocol Decider {
    /// The commands this aggregate accepts.
    associatedtype Command: Sendable
    /// The events this aggregate emits.
    associatedtype Event: Sendable
    /// The state folded from the events.
    associatedtype State: Sendable

    /// The state of an empty stream.
    static var initialState: State { get }

    /// Decides what happens when `command` arrives at a stream in `state`.
    static func decide(_ command: Command, state: State, context: DecisionContext) throws(DomainError) -> [Event]

    /// Folds one event into the state, in place (the cheap form used by ``fold(_:into:)``).
    static func evolve(_ state: inout State, _ event: Event)
}

extension Decider {
    /// Folds one event into `state` and returns the new state.
    public static func evolve(_ state: State, _ event: Event) -> State {
        var next = state
        evolve(&next, event)
        return next
    }

    /// Folds `events` into `state` (``initialState`` by default).
    public static func fold<S: Sequence>(_ events: S, into state: State = initialState) -> State
    where S.Element == Event {
        var current = state
        for event in events { evolve(&current, event) }
        return current
    }

    /// Decides on `command` and returns the events with the state after them.
    public static func handle(_ command: Command, state: State, context: DecisionContext)
        throws(DomainError) -> (events: [Event], state: State)
    {
        let events = try decide(command, state: state, context: context)
        return (events, fold(events, into: state))
    }
}

/// Gives the ``TimeMeasure`` in which a target of a case is counted: wall-clock targets in
/// ``WallClockTime``, business targets in the calendar the policy names for the case's
/// region (R4.1-R4.3). The business-calendar engine lives outside this file.
public protocol TimeMeasureProvider: Sendable {
    /// The measure for a target of `duration` on a case in `region` under `policy`.
    func measure(region: String, policy: SupportPolicy, duration: TargetDuration) -> any TimeMeasure
}

/// Counts every target in wall-clock time (tests, and policies without calendars).
public struct WallClockMeasureProvider: TimeMeasureProvider {
    /// Creates the provider.
    public init() {}
    /// Always ``WallClockTime``.
    public func measure(region: String, policy: SupportPolicy, duration: TargetDuration) -> any TimeMeasure {
        WallClockTime()
    }
}

/// Wall-clock targets in ``WallClockTime``; business targets in the measure a closure
/// returns for a calendar name (e.g. a `PolicyCatalog` lookup); wall clock when the policy
/// names no calendar for the region.
public struct CalendarMeasureProvider: TimeMeasureProvider {
    /// Returns the business-time measure for a calendar name.
    public let calendar: @Sendable (String) -> (any TimeMeasure)?

    /// Creates the provider from a calendar lookup.
    public init(calendar: @escaping @Sendable (String) -> (any TimeMeasure)?) {
        self.calendar = calendar
    }

    /// The calendar of the case's region for business targets, else wall-clock time.
    public func measure(region: String, policy: SupportPolicy, duration: TargetDuration) -> any TimeMeasure {
        guard duration.isBusinessTime, let name = policy.calendarName(forRegion: region),
              let measure = calendar(name) else { return WallClockTime() }
        return measure
    }
}

/// Everything `decide` may know besides the command and the stream's state: the time,
/// the actor, the policy in force, how to measure time, and snapshots of other streams.
public struct DecisionContext: Sendable {
    /// The instant of the decision, normalised to whole milliseconds (see ``DomainTime``).
    public private(set) var now: Date
    /// Who sends the command.
    public var actor: Principal
    /// The support policy in force: for a case, the version recorded when it opened (R4.9).
    public var policy: SupportPolicy?
    /// How targets are measured (R4.1-R4.3).
    public var measures: any TimeMeasureProvider
    /// For case commands: the organisation of the case as it stands now (R1.1, R1.2).
    public var organisation: OrganisationState?
    /// For incident commands: the organisations whose contacts may be notified (R6.2, R6.5),
    /// by organisation id. For an incident affecting "a subset of clients" every
    /// organisation given here is considered affected.
    public var organisations: [String: OrganisationState]

    /// Creates a context; `now` is normalised to whole milliseconds.
    public init(now: Date, actor: Principal, policy: SupportPolicy? = nil,
                measures: any TimeMeasureProvider = WallClockMeasureProvider(),
                organisation: OrganisationState? = nil, organisations: [String: OrganisationState] = [:]) {
        self.now = DomainTime.normalised(now)
        self.actor = actor
        self.policy = policy
        self.measures = measures
        self.organisation = organisation
        self.organisations = organisations
    }

    /// The policy, or an error naming `rule` when the caller supplied none.
    func requirePolicy(rule: String) throws(DomainError) -> SupportPolicy {
        guard let policy else {
            throw DomainError(rule: rule, message: "no support policy in context; supply the policy in force for this organisation")
        }
        return policy
    }
}

/// Refusals shared by every decider: auditors and reporting jobs change nothing (R1.7, R1.8).
enum Guard {
    /// Throws for auditors and reporting jobs.
    static func mayChange(_ actor: Principal, status: String?) throws(DomainError) {
        switch actor.role {
        case .auditor:
            throw DomainError(rule: "R1.7", status: status, message: "auditor \(actor.id) reads and replays but changes nothing")
        case .reportingJob:
            throw DomainError(rule: "R1.8", status: status, message: "reporting job \(actor.id) only queries projections and changes nothing")
        default:
            return
        }
    }

    /// Throws unless the actor is staff holding one of `roles` (any staff when empty).
    static func staff(_ actor: Principal, _ roles: Set<StaffRole> = [], rule: String, status: String?,
                      doing what: String) throws(DomainError) {
        try mayChange(actor, status: status)
        guard actor.isStaff(roles) else {
            let who = roles.isEmpty ? "staff" : "staff with role " + roles.map(\.rawValue).sorted().joined(separator: " or ")
            throw DomainError(rule: rule, status: status, message: "only \(who) may \(what); \(actor.role.rawValue) \(actor.id) may not")
        }
    }
}
