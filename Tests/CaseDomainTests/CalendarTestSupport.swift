import Foundation
import Testing
@testable import CaseDomain

/// A UTC instant from its parts.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
    let day = CivilDate.dayNumber(year: y, month: mo, day: d)
    return Date(timeIntervalSince1970: TimeInterval(day * 86_400 + h * 3600 + mi * 60 + s))
}

/// A civil date that the test knows is valid.
func date(_ y: Int, _ m: Int, _ d: Int) -> CivilDate {
    CivilDate(dayNumber: CivilDate.dayNumber(year: y, month: m, day: d))
}

/// The shipped catalog (parsed once per process).
func shippedCatalog() throws -> PolicyCatalog { try PolicyCatalog.shipped() }

/// A shipped calendar by name.
func shippedCalendar(_ name: String) throws -> BusinessCalendar { try shippedCatalog().calendar(named: name) }

/// Hours to seconds.
func hours(_ h: Double) -> Int64 { Int64(h * 3600) }

/// A deterministic PRNG (SplitMix64) for property tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A calendar open every day of the week with the given hours, in a zone (for DST tests).
func everyDayCalendar(_ zone: String, _ intervals: [(String, String)]) throws -> BusinessCalendar {
    let ivs = intervals.compactMap { s, e -> OpeningInterval? in
        guard let a = LocalTime(s), let b = LocalTime(e) else { return nil }
        return OpeningInterval(start: a, end: b)
    }
    var week: [Weekday: [OpeningInterval]] = [:]
    for wd in Weekday.allCases { week[wd] = ivs }
    return try BusinessCalendar(CalendarDefinition(name: "test-\(zone)", timeZone: zone, standardDayHours: 8, week: week),
                                years: 2020...2031)
}
