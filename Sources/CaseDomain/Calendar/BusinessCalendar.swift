import Foundation

/// What kind of day a calendar day is.
public enum DayKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// An ordinary open day with the weekday's hours.
    case open
    /// An open day with shortened hours (a half-day rule or a dated half-day).
    case halfDay = "half-day"
    /// A day without weekly opening hours.
    case weekend
    /// A holiday (generated or dated), also when it falls on a weekend.
    case holiday
    /// An open day closed by the bridge-day rule.
    case bridge
    /// An ad-hoc closure.
    case closure

    /// Whether the day has opening hours.
    public var isOpen: Bool { self == .open || self == .halfDay }
}

/// One day of a business calendar as the calendar sees it (``BusinessCalendar/day(on:)``).
public struct CalendarDay: Hashable, Sendable {
    /// The local date.
    public var date: CivilDate
    /// Its kind.
    public var kind: DayKind
    /// The holiday, closure, bridge or half-day name, when any.
    public var name: String?
    /// Opening intervals in local time; empty on closed days.
    public var intervals: [OpeningInterval]
    /// The same intervals as instants (their real length, daylight saving included).
    public var instants: [DateInterval]
}

/// A holiday occurring on a given day.
struct HolidayHit: Hashable, Sendable {
    var name: String
    var category: String
}

/// A business calendar (DOMAIN.md §4.1): a ``TimeMeasure`` that counts only open time.
///
/// Built from a ``CalendarDefinition``. At creation it precomputes every opening interval of
/// the covered years as UTC instants (daylight saving resolved with Foundation's `TimeZone`)
/// together with running totals, so ``adding(seconds:to:)`` and ``seconds(from:to:)`` are two
/// binary searches and no Foundation call. Instants outside the covered years are still
/// answered correctly, by building a table for their years on demand (slower).
///
/// The engine is pure: no clock reads, no I/O (DESIGN.md rule 1). A class of immutable
/// (`let`, `Sendable`) fields, so passing a calendar around is a reference, not a copy of
/// its tables.
public final class BusinessCalendar: TimeMeasure {
    /// The data this calendar was built from.
    public let definition: CalendarDefinition
    /// The calendar's zone.
    public let timeZone: TimeZone
    /// Years precomputed for the fast path.
    public let coveredYears: ClosedRange<Int>
    private let holidays: [Int: [HolidayHit]]
    private let zone: ZoneOffsets
    private let table: IntervalTable

    /// Calendar name.
    public var name: String { definition.name }
    /// Calendar version (R4.9).
    public var version: Int { definition.version }
    /// Length of one full business day in hours (R4.3).
    public var standardDayHours: Double { definition.standardDayHours }
    /// `standardDayHours` in seconds (R4.3).
    public var standardDaySeconds: Int64 { Int64((definition.standardDayHours * 3600).rounded()) }

    /// Builds the engine for `definition`, precomputing `years`.
    /// - Throws: ``DataLoadError`` when the time zone is unknown.
    public init(_ definition: CalendarDefinition, years: ClosedRange<Int> = 1990...2100) throws {
        guard let tz = TimeZone(identifier: definition.timeZone) else {
            throw DataLoadError(file: definition.name, path: "$.timeZone",
                                message: "unknown IANA time zone \"\(definition.timeZone)\"; expected e.g. \"Europe/Stockholm\"")
        }
        self.definition = definition
        self.timeZone = tz
        let years = max(1, years.lowerBound)...max(max(1, years.lowerBound), years.upperBound)
        self.coveredYears = years
        let holidays = HolidayGenerator(definition).holidays(years: (years.lowerBound - 1)...(years.upperBound + 1))
        self.holidays = holidays
        let zone = ZoneOffsets(year: years, zone: tz)
        self.zone = zone
        self.table = IntervalTable(definition: definition, years: years, holidays: holidays, zone: zone)
    }

    /// The same calendar with more ad-hoc closures, as a new version (R4.9: a calendar
    /// change applies to clocks still running, which simply use the new calendar).
    public func addingClosures(_ closures: [Closure], version: Int? = nil) throws -> BusinessCalendar {
        var def = definition
        def.closures += closures
        def.version = version ?? definition.version + 1
        return try BusinessCalendar(def, years: coveredYears)
    }

    // MARK: Days

    /// The day `date` as this calendar sees it: kind, name and opening intervals.
    public func day(on date: CivilDate) -> CalendarDay {
        let n = date.dayNumber
        let index = coveredYears.contains(date.year)
            ? holidays : HolidayGenerator(definition).holidays(years: (date.year - 1)...(date.year + 1))
        let c = DayClassifier(definition: definition, holidays: index).classify(n)
        let z = coveredYears.contains(date.year) ? zone : ZoneOffsets(year: date.year...date.year, zone: timeZone)
        let instants = c.intervals.compactMap { iv -> DateInterval? in
            let s = z.utc(fromLocal: Int64(n) * 86_400 + Int64(iv.start.minutes) * 60)
            let e = z.utc(fromLocal: Int64(n) * 86_400 + Int64(iv.end.minutes) * 60)
            return e > s ? DateInterval(start: Date(timeIntervalSince1970: TimeInterval(s)),
                                        end: Date(timeIntervalSince1970: TimeInterval(e))) : nil
        }
        return CalendarDay(date: date, kind: c.kind, name: c.name, intervals: c.intervals, instants: instants)
    }

    /// The local date of an instant in this calendar's zone.
    public func localDate(of instant: Date) -> CivilDate {
        let w = Int64(instant.timeIntervalSince1970.rounded(.down))
        let year = CivilDate(dayNumber: Int(floorDiv(w, 86_400))).year
        let off = coveredYears.contains(year) ? zone.offset(atUTC: w) : Int64(timeZone.secondsFromGMT(for: instant))
        return CivilDate(dayNumber: Int(floorDiv(w + off, 86_400)))
    }

    // MARK: TimeMeasure

    /// The instant at which `seconds` of open time have elapsed after `instant` (R4.1);
    /// counting starts at the next opening when `instant` is outside business hours.
    public func adding(seconds: Int64, to instant: Date) -> Date {
        let (w, f) = split(instant)
        let s = max(0, seconds)
        if let r = table.adding(s, whole: w, fraction: f) { return r }
        var years = yearRange(from: w, to: w)
        for _ in 0..<6 {
            let t = IntervalTable(definition: definition, years: years, zone: timeZone)
            if let r = t.adding(s, whole: w, fraction: f) { return r }
            let span = years.upperBound - years.lowerBound + 1
            years = years.lowerBound...min(9999, years.upperBound + span * 2)
        }
        return .distantFuture
    }

    /// Open seconds in `[start, end)`; 0 when `end <= start`.
    public func seconds(from start: Date, to end: Date) -> Int64 {
        guard end > start else { return 0 }
        let (a, fa) = split(start), (b, fb) = split(end)
        if let r = table.seconds(a, fa, b, fb) { return r }
        let t = IntervalTable(definition: definition, years: yearRange(from: a, to: b), zone: timeZone)
        return t.seconds(a, fa, b, fb) ?? 0
    }

    private func split(_ instant: Date) -> (Int64, Double) {
        let v = instant.timeIntervalSince1970
        guard v.isFinite, abs(v) < 3e11 else { return (v > 0 ? 253_402_300_799 : -62_135_596_800, 0) }
        let w = v.rounded(.down)
        return (Int64(w), v - w)
    }

    private func yearRange(from a: Int64, to b: Int64) -> ClosedRange<Int> {
        let ya = CivilDate(dayNumber: Int(floorDiv(a, 86_400))).year
        let yb = CivilDate(dayNumber: Int(floorDiv(b, 86_400))).year
        let lo = max(1, ya - 1)
        return lo...max(lo, min(9999, yb + 1))
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

extension ZoneOffsets {
    /// Offsets covering the given local years with a margin.
    init(year years: ClosedRange<Int>, zone: TimeZone) {
        let from = Int64(CivilDate.dayNumber(year: years.lowerBound, month: 1, day: 1) - 3) * 86_400
        let to = Int64(CivilDate.dayNumber(year: years.upperBound + 1, month: 1, day: 1) + 3) * 86_400
        self.init(zone: zone, from: from, to: to)
    }
}

/// Generates holiday occurrences (with weekend shifts) from a definition's rules.
struct HolidayGenerator {
    let definition: CalendarDefinition
    let working: Set<Weekday>

    init(_ definition: CalendarDefinition) {
        self.definition = definition
        self.working = Set(definition.week.filter { !$0.value.isEmpty }.keys)
    }

    /// Holidays by day number for `years` (observed dates may fall just outside them).
    func holidays(years: ClosedRange<Int>) -> [Int: [HolidayHit]] {
        var natural: [(day: Int, rule: HolidayRule)] = []
        for year in years {
            for rule in definition.holidays {
                if let from = rule.fromYear, year < from { continue }
                if let to = rule.toYear, year > to { continue }
                if let d = rule.rule.date(in: year) { natural.append((d.dayNumber, rule)) }
            }
        }
        natural.sort { $0.day < $1.day }
        var byDay: [Int: [HolidayHit]] = [:]
        for (day, rule) in natural {
            byDay[day, default: []].append(HolidayHit(name: rule.name, category: rule.category))
        }
        for (day, rule) in natural where rule.shift != .none && !working.contains(Weekday(dayNumber: day)) {
            var target: Int?
            switch rule.shift {
            case .none:
                target = nil
            case .nearestWeekday:
                switch Weekday(dayNumber: day) {
                case .saturday: target = day - 1
                case .sunday: target = day + 1
                default: target = nil
                }
            case .substitute:
                var t = day + 1
                while t < day + 14, !working.contains(Weekday(dayNumber: t)) || byDay[t] != nil { t += 1 }
                target = t < day + 14 ? t : nil
            }
            if let target {
                let suffix = rule.shift == .substitute ? " (substitute day)" : " (observed)"
                byDay[target, default: []].append(HolidayHit(name: rule.name + suffix, category: rule.category))
            }
        }
        return byDay
    }
}

/// Decides the kind and hours of a day from a definition and a holiday index.
struct DayClassifier {
    let definition: CalendarDefinition
    let holidays: [Int: [HolidayHit]]

    struct Result {
        var kind: DayKind
        var name: String?
        var intervals: [OpeningInterval]
    }

    private func closure(_ day: Int) -> Closure? {
        definition.closures.first { $0.from.dayNumber <= day && day <= $0.to.dayNumber }
    }

    private func weekly(_ day: Int) -> [OpeningInterval] { definition.week[Weekday(dayNumber: day)] ?? [] }

    /// Closed before bridge and half-day rules: a holiday, a closure, or no weekly hours.
    private func closedBasic(_ day: Int) -> Bool {
        if holidays[day]?.isEmpty == false || closure(day) != nil { return true }
        if definition.halfDays.contains(where: { $0.date.dayNumber == day }) { return false }
        return weekly(day).isEmpty
    }

    private func hits(_ day: Int, in categories: Set<String>) -> [HolidayHit] {
        (holidays[day] ?? []).filter { categories.contains($0.category) }
    }

    /// Precedence: holiday, closure, dated half-day, weekend, bridge day, half-day rule, open.
    func classify(_ day: Int) -> Result {
        if let h = holidays[day], !h.isEmpty {
            return Result(kind: .holiday, name: h.map(\.name).joined(separator: " / "), intervals: [])
        }
        if let c = closure(day) { return Result(kind: .closure, name: c.name, intervals: []) }
        if let dated = definition.halfDays.first(where: { $0.date.dayNumber == day }) {
            return Result(kind: .halfDay, name: dated.name, intervals: dated.intervals)
        }
        let week = weekly(day)
        if week.isEmpty { return Result(kind: .weekend, name: nil, intervals: []) }
        if let bridge = definition.bridgeDayRule, closedBasic(day - 1), closedBasic(day + 1),
           !(hits(day - 1, in: bridge.whenNeighbourIn) + hits(day + 1, in: bridge.whenNeighbourIn)).isEmpty {
            return Result(kind: .bridge, name: bridge.name, intervals: [])
        }
        for rule in definition.halfDayRules {
            let next = hits(day + 1, in: rule.whenNextDayIn)
            if let first = next.first {
                return Result(kind: .halfDay, name: "\(rule.name) (\(first.name))", intervals: rule.intervals)
            }
        }
        return Result(kind: .open, name: nil, intervals: week)
    }
}

/// Every opening interval of some years as UTC seconds, with running totals of open time.
struct IntervalTable: Sendable {
    private var starts: [Int64] = []
    private var ends: [Int64] = []
    /// Open seconds before interval i.
    private var cumStart: [Int64] = []
    /// Open seconds up to the end of interval i.
    private var cumEnd: [Int64] = []
    /// Instants in `[low, high)` are covered.
    private let low: Int64
    private let high: Int64

    init(definition: CalendarDefinition, years: ClosedRange<Int>, zone: TimeZone) {
        let holidays = HolidayGenerator(definition).holidays(years: (years.lowerBound - 1)...(years.upperBound + 1))
        self.init(definition: definition, years: years, holidays: holidays, zone: ZoneOffsets(year: years, zone: zone))
    }

    init(definition: CalendarDefinition, years: ClosedRange<Int>, holidays: [Int: [HolidayHit]], zone: ZoneOffsets) {
        let first = CivilDate.dayNumber(year: years.lowerBound, month: 1, day: 1)
        let last = CivilDate.dayNumber(year: years.upperBound + 1, month: 1, day: 1) - 1
        low = zone.utc(fromLocal: Int64(first) * 86_400)
        high = zone.utc(fromLocal: Int64(last + 1) * 86_400)
        let classifier = DayClassifier(definition: definition, holidays: holidays)
        var total: Int64 = 0
        for day in first...last {
            let base = Int64(day) * 86_400
            for iv in classifier.classify(day).intervals {
                var s = zone.utc(fromLocal: base + Int64(iv.start.minutes) * 60)
                let e = zone.utc(fromLocal: base + Int64(iv.end.minutes) * 60)
                if let lastEnd = ends.last { s = max(s, lastEnd) }
                guard e > s else { continue }
                if let lastEnd = ends.last, lastEnd == s {
                    ends[ends.count - 1] = e
                    cumEnd[cumEnd.count - 1] += e - s
                } else {
                    starts.append(s)
                    ends.append(e)
                    cumStart.append(total)
                    cumEnd.append(total + e - s)
                }
                total += e - s
            }
        }
    }

    /// Index of the first interval whose end is after `w`.
    @inline(__always) private func firstEnding(after w: Int64) -> Int {
        var lo = 0, hi = ends.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if ends[mid] > w { hi = mid } else { lo = mid &+ 1 }
        }
        return lo
    }

    /// Open seconds before `w` (whole part) plus the fraction when `w` is open.
    @inline(__always) private func cumulative(_ w: Int64, _ f: Double) -> (Int64, Double) {
        let i = firstEnding(after: w)
        if i == ends.count { return (cumEnd.last ?? 0, 0) }
        if starts[i] <= w { return (cumStart[i] + (w - starts[i]), f) }
        return (cumStart[i], 0)
    }

    /// `nil` when an instant is outside the covered span.
    func seconds(_ a: Int64, _ fa: Double, _ b: Int64, _ fb: Double) -> Int64? {
        guard a >= low, b < high else { return nil }
        let (ca, ra) = cumulative(a, fa)
        let (cb, rb) = cumulative(b, fb)
        return max(0, cb - ca - (rb < ra ? 1 : 0))
    }

    /// `nil` when the start or the result is outside the covered span.
    func adding(_ s: Int64, whole w: Int64, fraction f: Double) -> Date? {
        guard w >= low, w < high else { return nil }
        let (c, frac) = cumulative(w, f)
        let target = c + s
        // First interval whose running total reaches the target (strictly passes it when the
        // result must lie inside an interval: zero seconds, or a fractional remainder).
        let strict = s == 0 || frac > 0
        var lo = 0, hi = cumEnd.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if strict ? cumEnd[mid] > target : cumEnd[mid] >= target { hi = mid } else { lo = mid &+ 1 }
        }
        guard lo < cumEnd.count else { return nil }
        let whole = starts[lo] + (target - cumStart[lo])
        return Date(timeIntervalSince1970: TimeInterval(whole) + frac)
    }
}
