import Foundation

/// One SLA target of a case (DOMAIN.md §4): each is its own clock with its own deadline.
public enum SLATarget: String, Codable, Sendable, CaseIterable, Hashable, Comparable {
    /// First response (R4.4): met by the first public comment or status change by staff.
    case response
    /// Restoration (R4.4): met at `service-restored`.
    case restoration
    /// Resolution (R4.4): met at `solution-proposed` or when the case closes.
    case resolution
    /// Update cadence (R4.4): restarts at every public staff update, stops at close.
    case update

    public static func < (lhs: SLATarget, rhs: SLATarget) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// Dictionaries keyed by target encode as JSON objects keyed by the target's name (so
/// `.sortedKeys` makes them deterministic), not as arrays in hash order.
extension SLATarget: CodingKeyRepresentable {}

/// How long a target is, and in which kind of time it is counted (R4.1-R4.3).
///
/// JSON (schemas/messages.md): exactly one of `{"wallClockSeconds": N}`,
/// `{"businessSeconds": N}` or `{"businessDays": N}`.
public enum TargetDuration: Codable, Sendable, Hashable {
    /// Every second counts, day or night (R4.2).
    case wallClock(seconds: Int64)
    /// Only open calendar time counts (R4.1).
    case businessTime(seconds: Int64)
    /// `days x standardDayHours` of business time (R4.3).
    case businessDays(Int)

    private enum CodingKeys: String, CodingKey {
        case wallClockSeconds, businessSeconds, businessDays
    }

    /// Decodes exactly one of `wallClockSeconds`, `businessSeconds`, `businessDays`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath,
                debugDescription: "expected exactly one of wallClockSeconds, businessSeconds, businessDays"))
        }
        switch key {
        case .wallClockSeconds: self = .wallClock(seconds: try c.decode(Int64.self, forKey: key))
        case .businessSeconds: self = .businessTime(seconds: try c.decode(Int64.self, forKey: key))
        case .businessDays: self = .businessDays(try c.decode(Int.self, forKey: key))
        }
    }

    /// Encodes as one of `wallClockSeconds`, `businessSeconds`, `businessDays`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .wallClock(let s): try c.encode(s, forKey: .wallClockSeconds)
        case .businessTime(let s): try c.encode(s, forKey: .businessSeconds)
        case .businessDays(let d): try c.encode(d, forKey: .businessDays)
        }
    }

    /// Whether this target is counted in business time (true) or wall-clock time (false).
    public var isBusinessTime: Bool {
        if case .wallClock = self { return false }
        return true
    }

    /// The target's length in seconds of its own kind of time, given the calendar's standard day.
    public func seconds(standardDaySeconds: Int64) -> Int64 {
        switch self {
        case .wallClock(let s): return s
        case .businessTime(let s): return s
        case .businessDays(let d): return Int64(d) * standardDaySeconds
        }
    }
}

/// Something that counts and adds time of one kind: a business calendar, or ``WallClockTime``.
///
/// Implementations are pure: no clock reads, no I/O (DESIGN.md rule 1).
public protocol TimeMeasure: Sendable {
    /// The instant at which `seconds` of counted time have elapsed after `instant`.
    /// When `instant` is outside counted time, counting starts at the next opening (R4.1).
    /// `seconds == 0` returns the first counted instant at or after `instant`.
    func adding(seconds: Int64, to instant: Date) -> Date
    /// Counted seconds in `[start, end)`; 0 when `end <= start`.
    func seconds(from start: Date, to end: Date) -> Int64
    /// Length of one standard business day in seconds (`standardDayHours`, R4.3).
    var standardDaySeconds: Int64 { get }
}

/// Wall-clock time: every second counts (R4.2).
public struct WallClockTime: TimeMeasure, Hashable {
    /// Creates the wall-clock measure.
    public init() {}
    public func adding(seconds: Int64, to instant: Date) -> Date {
        instant.addingTimeInterval(TimeInterval(seconds))
    }
    public func seconds(from start: Date, to end: Date) -> Int64 {
        end <= start ? 0 : Int64((end.timeIntervalSince(start)).rounded(.down))
    }
    public var standardDaySeconds: Int64 { 86_400 }
}

/// A closed or still-open interval during which a clock did not count (R4.5, R4.6).
public struct ClockInterval: Codable, Sendable, Hashable {
    /// When the interval began.
    public var start: Date
    /// When it ended; `nil` while it is still open.
    public var end: Date?
    /// Why (for suspensions: the staff's reason; for pauses: e.g. "awaiting-customer").
    public var reason: String?

    /// Creates an interval.
    public init(start: Date, end: Date? = nil, reason: String? = nil) {
        self.start = start
        self.end = end
        self.reason = reason
    }
}

/// The state of one SLA clock as it stands at an instant (R4.8).
public struct SLAClockState: Codable, Sendable, Hashable {
    public var target: SLATarget
    /// The target length in seconds of its own kind of time.
    public var targetSeconds: Int64
    /// Whether those seconds are business time.
    public var businessTime: Bool
    public var elapsedSeconds: Int64
    public var remainingSeconds: Int64
    /// `nil` while paused, suspended, met, or stopped.
    public var deadline: Date?
    public var paused: Bool
    public var suspended: Bool
    public var metAt: Date?
    public var breachedAt: Date?
    public var atRiskAt: Date?
}

/// One SLA clock of a case: pure data plus the arithmetic that derives its deadline.
///
/// The clock stores facts (start, pauses, suspensions, met); elapsed time, remaining
/// time and the deadline are derived from them with a ``TimeMeasure``, so a priority
/// change (R4.7) or a calendar change (R4.9) only needs a new duration or measure.
public struct SLAClock: Codable, Sendable, Hashable {
    public let target: SLATarget
    public var duration: TargetDuration
    public var startedAt: Date
    /// Pause intervals while awaiting the customer (R4.5); the last may be open.
    public var pauses: [ClockInterval]
    /// Suspensions of the resolution target (R4.6); the last may be open.
    public var suspensions: [ClockInterval]
    public var metAt: Date?
    /// When the clock stopped without being met (for example update cadence at close).
    public var stoppedAt: Date?
    /// Recorded from the `at-risk` clock event, when appended.
    public var atRiskAt: Date?
    /// Recorded from the `breached` clock event, when appended.
    public var breachedAt: Date?

    /// Starts a clock at `startedAt`.
    public init(target: SLATarget, duration: TargetDuration, startedAt: Date) {
        self.target = target
        self.duration = duration
        self.startedAt = startedAt
        self.pauses = []
        self.suspensions = []
    }

    /// Whether a pause is open.
    public var isPaused: Bool { pauses.last.map { $0.end == nil } ?? false }
    /// Whether a suspension is open.
    public var isSuspended: Bool { suspensions.last.map { $0.end == nil } ?? false }
    /// Whether the clock no longer runs (met or stopped).
    public var isFinished: Bool { metAt != nil || stoppedAt != nil }

    /// The end of counting: met or stopped instant, else `now`.
    private func countingEnd(_ now: Date) -> Date {
        min(metAt ?? stoppedAt ?? now, now)
    }

    /// Counted (non-paused, non-suspended) seconds from start to `now`.
    public func elapsedSeconds(at now: Date, measure: some TimeMeasure) -> Int64 {
        let end = countingEnd(now)
        var total = measure.seconds(from: startedAt, to: end)
        // The common cases without allocating: no stops, or stops of one kind only, which
        // open only after the previous one closed (so they are ordered and disjoint).
        if suspensions.isEmpty || pauses.isEmpty {
            let stops = suspensions.isEmpty ? pauses : suspensions
            if Self.orderedAndDisjoint(stops) {
                for stop in stops {
                    let s = max(stop.start, startedAt), e = min(stop.end ?? end, end)
                    if s < e { total -= measure.seconds(from: s, to: e) }
                }
                return max(0, total)
            }
        }
        // Pauses and suspensions may overlap (awaiting the customer while suspended):
        // subtract their union, so no stopped second is credited twice.
        for (s, e) in Self.union(of: pauses + suspensions, from: startedAt, to: end) {
            total -= measure.seconds(from: s, to: e)
        }
        return max(0, total)
    }

    /// Whether each interval starts at or after the previous one ended (an open one last).
    private static func orderedAndDisjoint(_ intervals: [ClockInterval]) -> Bool {
        var previousEnd = Date.distantPast
        for (i, interval) in intervals.enumerated() {
            guard interval.start >= previousEnd else { return false }
            guard let end = interval.end else { return i == intervals.count - 1 }
            guard end >= interval.start else { return false }
            previousEnd = end
        }
        return true
    }

    /// The union of `intervals` clipped to `[from, to]` (open intervals end at `to`), sorted.
    private static func union(of intervals: [ClockInterval], from: Date, to: Date) -> [(Date, Date)] {
        let clipped = intervals
            .map { (max($0.start, from), min($0.end ?? to, to)) }
            .filter { $0.0 < $0.1 }
            .sorted { $0.0 < $1.0 }
        var merged: [(Date, Date)] = []
        for (s, e) in clipped {
            if let last = merged.last, s <= last.1 {
                merged[merged.count - 1].1 = max(last.1, e)
            } else {
                merged.append((s, e))
            }
        }
        return merged
    }

    /// The target in seconds of counted time.
    public func targetSeconds(measure: some TimeMeasure) -> Int64 {
        duration.seconds(standardDaySeconds: measure.standardDaySeconds)
    }

    /// The last instant counting (re)started: start, or the end of the last pause/suspension.
    private var lastResume: Date {
        var latest = startedAt
        for interval in pauses { if let end = interval.end, end > latest { latest = end } }
        for interval in suspensions { if let end = interval.end, end > latest { latest = end } }
        return latest
    }

    /// The deadline, or `nil` while paused, suspended (R4.6), met or stopped.
    public func deadline(measure: some TimeMeasure) -> Date? {
        if isFinished || isPaused || isSuspended { return nil }
        let resume = lastResume
        let remaining = targetSeconds(measure: measure) - elapsedSeconds(at: resume, measure: measure)
        if remaining <= 0 {
            // Already used up before the last resume: the deadline was reached then.
            return resume
        }
        return measure.adding(seconds: remaining, to: resume)
    }

    /// The instant at which `share` (0...1) of the target has elapsed (R3.5), or `nil`
    /// when the clock does not run.
    public func atRiskInstant(share: Double, measure: some TimeMeasure) -> Date? {
        if isFinished || isPaused || isSuspended { return nil }
        let resume = lastResume
        let threshold = Int64((Double(targetSeconds(measure: measure)) * share).rounded(.up))
        let remaining = threshold - elapsedSeconds(at: resume, measure: measure)
        if remaining <= 0 { return resume }
        return measure.adding(seconds: remaining, to: resume)
    }

    /// The clock's state at `now` (R4.8).
    public func state(at now: Date, measure: some TimeMeasure) -> SLAClockState {
        let target = targetSeconds(measure: measure)
        let elapsed = elapsedSeconds(at: now, measure: measure)
        return SLAClockState(
            target: self.target, targetSeconds: target, businessTime: duration.isBusinessTime,
            elapsedSeconds: elapsed, remainingSeconds: target - elapsed,
            deadline: deadline(measure: measure), paused: isPaused, suspended: isSuspended,
            metAt: metAt, breachedAt: breachedAt, atRiskAt: atRiskAt)
    }

    /// Opens a pause at `instant` (no-op if one is open).
    public mutating func pause(at instant: Date, reason: String? = nil) {
        guard !isPaused, !isFinished else { return }
        pauses.append(ClockInterval(start: instant, reason: reason))
    }

    /// Closes the open pause at `instant`.
    public mutating func resume(at instant: Date) {
        guard isPaused else { return }
        pauses[pauses.count - 1].end = instant
    }

    /// Opens a suspension (R4.6).
    public mutating func suspend(at instant: Date, reason: String) {
        guard !isSuspended, !isFinished else { return }
        suspensions.append(ClockInterval(start: instant, reason: reason))
    }

    /// Closes the open suspension (R4.6).
    public mutating func endSuspension(at instant: Date) {
        guard isSuspended else { return }
        suspensions[suspensions.count - 1].end = instant
    }

    /// Marks the clock met at `instant`, closing any open pause or suspension.
    public mutating func meet(at instant: Date) {
        guard !isFinished else { return }
        resume(at: instant)
        endSuspension(at: instant)
        metAt = instant
    }

    /// Stops the clock without meeting it (update cadence at close).
    public mutating func stop(at instant: Date) {
        guard !isFinished else { return }
        resume(at: instant)
        endSuspension(at: instant)
        stoppedAt = instant
    }
}
