import Foundation

/// The UTC offsets of an IANA zone over a span of time, precomputed from Foundation's
/// `TimeZone` so that converting local wall time to instants is plain integer arithmetic.
struct ZoneOffsets: Sendable, Hashable {
    /// UTC instants (seconds since 1970) at which the offset changes, ascending.
    private(set) var transitions: [Int64] = []
    /// Offset in seconds after each transition.
    private(set) var offsets: [Int64] = []
    /// Offset before the first transition.
    private(set) var initialOffset: Int64

    /// Offsets of `zone` between `from` and `to` (seconds since 1970, UTC).
    init(zone: TimeZone, from: Int64, to: Int64) {
        var cursor = Date(timeIntervalSince1970: TimeInterval(from))
        initialOffset = Int64(zone.secondsFromGMT(for: cursor))
        let end = Date(timeIntervalSince1970: TimeInterval(to))
        var last = initialOffset
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next > cursor, next < end {
            let off = Int64(zone.secondsFromGMT(for: next))
            if off != last {
                transitions.append(Int64(next.timeIntervalSince1970.rounded()))
                offsets.append(off)
                last = off
            }
            cursor = next
        }
    }

    /// The offset in force at UTC instant `utc`.
    func offset(atUTC utc: Int64) -> Int64 {
        // Last transition <= utc.
        var lo = 0, hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid] <= utc { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? initialOffset : offsets[lo - 1]
    }

    /// The UTC instant of local wall time `local` (seconds since 1970 as if local were UTC).
    /// In a fall-back overlap the earlier instant is taken; a time skipped by a spring-forward
    /// gap maps to the transition instant (so an interval inside the gap has no length).
    func utc(fromLocal local: Int64) -> Int64 {
        let early = offset(atUTC: local - 86_400)
        let late = offset(atUTC: local + 86_400)
        if early == late { return local - early }
        let u1 = local - early, u2 = local - late
        let v1 = offset(atUTC: u1) == early, v2 = offset(atUTC: u2) == late
        switch (v1, v2) {
        case (true, true): return min(u1, u2)
        case (true, false): return u1
        case (false, true): return u2
        case (false, false):
            let lower = min(u1, u2)
            return transitions.first { $0 >= lower } ?? lower
        }
    }
}
