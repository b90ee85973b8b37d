import CaseDomain
import EventLog
import Foundation

/// The kinds of stream an auditor replays (R9.2).
public enum ReplayAggregate: String, Sendable, Hashable, CaseIterable, Codable {
    /// A support case, stream `case-<id>`.
    case `case`
    /// An operations incident, stream `OPI-<n>`.
    case incident
    /// An organisation, stream `org-<id>`.
    case organisation

    /// The stream names to try for `id`, in order: the conventional name (``StreamName``)
    /// first, then `id` itself when it already carries the prefix (`case-1042`, `OPI-7`).
    public func candidateStreams(for id: String) -> [String] {
        let conventional: String
        let prefix: String
        switch self {
        case .case:
            conventional = StreamName.case(id); prefix = StreamName.case("")
        case .incident:
            conventional = Int(id).map(StreamName.incident) ?? id; prefix = "OPI-"
        case .organisation:
            conventional = StreamName.organisation(id); prefix = StreamName.organisation("")
        }
        return id.hasPrefix(prefix) && conventional != id ? [conventional, id] : [conventional]
    }
}

/// Where a replay stops.
public enum ReplayStop: Sendable, Hashable {
    /// At the stream's last event.
    case end
    /// After the last event that happened at or before this instant; the state is shown as
    /// it stood at that instant (clocks' elapsed time computed then).
    case asOf(Date)
    /// After the last event at or before this log position.
    case atPosition(UInt64)
}

/// One SLA clock as it stood (R4.8), computed with the calendar the policy version the case
/// opened under names, in the version in force where the clock finished or, while it runs,
/// when the step's event was appended (R4.9).
public struct ReplayClock: Codable, Sendable, Hashable {
    /// `response`, `restoration`, `resolution` or `update`.
    public var target: String
    /// `wall-clock` or `business`.
    public var timeKind: String
    /// The business calendar counting it, or `nil` for wall-clock time.
    public var calendar: String?
    /// The version of that calendar: the one in force where the clock finished, or at the
    /// step's log position while it runs.
    public var calendarVersion: Int?
    /// The target in seconds of its own kind of time.
    public var targetSeconds: Int64
    /// Counted seconds so far.
    public var elapsedSeconds: Int64
    /// Target minus elapsed (negative once overrun).
    public var remainingSeconds: Int64
    /// The deadline; `nil` while paused, suspended, met or stopped.
    public var deadline: Date?
    /// Whether the clock is paused (awaiting the customer, R4.5).
    public var paused: Bool
    /// Whether it is suspended (R4.6).
    public var suspended: Bool
    /// When it was met.
    public var metAt: Date?
    /// When it stopped without being met.
    public var stoppedAt: Date?
    /// When the at-risk event was recorded (R3.5).
    public var atRiskAt: Date?
    /// When the breach event was recorded (R3.4).
    public var breachedAt: Date?
}

/// One escalation flag with the rule that raised it (R3.6).
public struct ReplayFlag: Codable, Sendable, Hashable {
    /// The kind, e.g. `response-breached`.
    public var kind: String
    /// The rule that fired, e.g. `R3.4`.
    public var rule: String
    /// Who or what raised it.
    public var raisedBy: String
    /// Why.
    public var reason: String
    /// The clock concerned, for breach and at-risk flags.
    public var target: String?
    /// When it was raised.
    public var raisedAt: Date
    /// When it cleared; `nil` while current.
    public var clearedAt: Date?
    /// Whether it is current.
    public var current: Bool
}

/// The state of a stream after an event: the fields an auditor asks about (R9.2).
public struct ReplayState: Codable, Sendable, Hashable {
    /// The instant at which clocks were evaluated.
    public var evaluatedAt: Date
    /// Case: its status (R2.4). Incident: `active` or `resolved`. Organisation: its phase.
    public var status: String
    /// Case: the priority; `nil` otherwise.
    public var priority: String?
    /// Case: the owner (R2.13); `nil` when unassigned or not a case.
    public var owner: String?
    /// Case: the team.
    public var team: String?
    /// Case: `name@version` of the policy in force at opening (R4.9).
    public var policy: String?
    /// Every SLA clock in target order (cases only).
    public var clocks: [ReplayClock]
    /// Every escalation flag raised so far, current and past (cases only).
    public var flags: [ReplayFlag]
}

/// One replayed event and the state it produced.
public struct ReplayStep: Codable, Sendable, Hashable {
    /// Global log position.
    public var position: UInt64
    /// Version within the stream.
    public var version: UInt64
    /// Event id (lowercase UUID).
    public var eventId: String
    /// Event type.
    public var type: String
    /// When the log recorded it, ISO 8601 UTC with microseconds.
    public var recordedAt: String
    /// When it happened in the domain (the payload's `at`; `recordedAt` when it has none).
    public var at: Date
    /// Who: the envelope's actor, else the payload's `by`/`openedBy`/`raisedBy`/`authorID`.
    public var actor: String
    /// The actor's role: envelope metadata `role`, else the payload's `authorRole`, else
    /// `system` for the deadline scheduler; `nil` when unknown.
    public var role: String?
    /// The channel: envelope metadata `channel`, else the payload's `channel`; `nil` when unknown.
    public var channel: String?
    /// Set when the event could not be decoded (the state is then unchanged).
    public var note: String?
    /// The state after the event.
    public var state: ReplayState
}

/// A replay of one stream (R9.2).
public struct Replay: Codable, Sendable, Hashable {
    /// `case`, `incident` or `organisation`.
    public var aggregate: ReplayAggregate
    /// The id asked for.
    public var id: String
    /// The stream replayed.
    public var stream: String
    /// `end`, `as-of` or `at-position`.
    public var stoppedBy: String
    /// The `--as-of` instant, when given.
    public var asOf: Date?
    /// The `--at-position` position, when given.
    public var atPosition: UInt64?
    /// The events replayed, in order, each with the state after it.
    public var steps: [ReplayStep]
    /// The state at the stop: after the last step, or as of the `asOf` instant. `nil` when
    /// no event had happened by then.
    public var final: ReplayState?
    /// Things the auditor should know (e.g. a policy version the catalog does not hold).
    public var warnings: [String]
}
