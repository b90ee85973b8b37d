import Foundation

/// The state of a policy or calendar stream (R4.9): the latest version and how many were recorded.
public struct VersionState: Codable, Sendable, Hashable {
    /// `policy` or `calendar`; `nil` before the first version.
    public var kind: String?
    /// Name.
    public var name: String = ""
    /// Latest version; 0 before the first.
    public var version: Int = 0
    /// Latest content (JSON).
    public var content: String = ""
    /// Versions recorded so far, oldest first.
    public var versions: [Int] = []
    /// When the latest was recorded.
    public var recordedAt: Date?
    /// The empty state.
    public init() {}
}

/// Decides policy and calendar version commands (R4.9): versions only grow; a stream holds
/// one kind. Managers, operations staff and the system (the policy loader) record versions.
public enum PolicyDecider: Decider {
    /// The commands this decider accepts.
    public typealias Command = VersionCommand
    /// The events it emits.
    public typealias Event = VersionEvent
    /// The state it folds.
    public typealias State = VersionState

    /// No version yet.
    public static var initialState: VersionState { VersionState() }

    /// Accepts a version greater than the latest, of the stream's kind and name.
    public static func decide(_ command: VersionCommand, state: VersionState,
                              context: DecisionContext) throws(DomainError) -> [VersionEvent] {
        let actor = context.actor
        let status = state.kind.map { "\($0) \(state.name) v\(state.version)" } ?? "empty"
        try Guard.mayChange(actor, status: status)
        if actor.role != .system {
            try Guard.staff(actor, [.manager, .operations], rule: "R4.9", status: status, doing: "record policy or calendar versions")
        }
        let (kind, name, version): (String, String, Int) = switch command {
        case .recordPolicyVersion(let c): ("policy", c.name, c.version)
        case .recordCalendarVersion(let c): ("calendar", c.name, c.version)
        }
        if let existing = state.kind, existing != kind || state.name != name {
            throw DomainError(rule: "R4.9", status: status, message: "this stream holds \(existing) \(state.name); record \(kind) \(name) on its own stream")
        }
        guard version > state.version else {
            throw DomainError(rule: "R4.9", status: status, message: "\(kind) \(name) is at version \(state.version); a new version must be greater, got \(version)")
        }
        switch command {
        case .recordPolicyVersion(let c):
            return [.policyVersionRecorded(PolicyVersionRecorded(name: c.name, version: c.version, content: c.content, by: actor.id, at: context.now))]
        case .recordCalendarVersion(let c):
            return [.calendarVersionRecorded(CalendarVersionRecorded(name: c.name, version: c.version, content: c.content, reason: c.reason, by: actor.id, at: context.now))]
        }
    }

    /// Folds a version event.
    public static func evolve(_ state: inout VersionState, _ event: VersionEvent) {
        switch event {
        case .policyVersionRecorded(let e):
            state.kind = "policy"; state.name = e.name; state.version = e.version; state.content = e.content; state.recordedAt = e.at
        case .calendarVersionRecorded(let e):
            state.kind = "calendar"; state.name = e.name; state.version = e.version; state.content = e.content; state.recordedAt = e.at
        }
        state.versions.append(state.version)
    }
}
