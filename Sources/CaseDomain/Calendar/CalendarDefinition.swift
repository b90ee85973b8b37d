import Foundation

/// A wall-clock time of day in a calendar's zone, in minutes after midnight (`0...1440`;
/// 1440 is `24:00`, the end of the day).
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minutes after local midnight.
    public var minutes: Int

    /// Creates a time; `nil` unless `0 <= minutes <= 1440`.
    public init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Parses `HH:MM` (`00:00` ... `24:00`).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m),
              h < 24 || m == 0 else { return nil }
        self.init(minutes: h * 60 + m)
    }

    /// `HH:MM`.
    public var description: String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }

    /// Earlier time of day first.
    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }
}

/// An opening interval `[start, end)` of one day, in local time of the calendar's zone.
public struct OpeningInterval: Hashable, Sendable, CustomStringConvertible {
    /// Opening time.
    public var start: LocalTime
    /// Closing time (after `start`).
    public var end: LocalTime

    /// Creates an interval; `start` must be before `end`.
    public init(start: LocalTime, end: LocalTime) {
        self.start = start
        self.end = end
    }

    /// `HH:MM-HH:MM`.
    public var description: String { "\(start)-\(end)" }
}

/// How a holiday date is generated each year [policy].
public enum DateRule: Hashable, Sendable {
    /// The same month and day every year (e.g. 25 Dec).
    case fixed(month: Int, day: Int)
    /// One dated day (a one-off holiday).
    case date(CivilDate)
    /// The `n`th (1...5) given weekday of a month, e.g. 3rd Monday of January.
    case nthWeekday(n: Int, weekday: Weekday, month: Int)
    /// The last given weekday of a month, e.g. last Monday of May.
    case lastWeekday(weekday: Weekday, month: Int)
    /// Easter Sunday (Gregorian computus) plus `offset` days, e.g. -2 for Good Friday.
    case easter(offset: Int)
    /// The first given weekday on or after `from` (month, day) and on or before `to`,
    /// e.g. "the Saturday from 20 to 26 June"; the range may cross a month end.
    case weekdayInRange(weekday: Weekday, fromMonth: Int, fromDay: Int, toMonth: Int, toDay: Int)

    /// The date in `year`, or `nil` when the rule yields none that year.
    public func date(in year: Int) -> CivilDate? {
        switch self {
        case .fixed(let m, let d):
            return CivilDate(year: year, month: m, day: d)
        case .date(let date):
            return date.year == year ? date : nil
        case .nthWeekday(let n, let wd, let m):
            let first = CivilDate.dayNumber(year: year, month: m, day: 1)
            let shift = (wd.rawValue - Weekday(dayNumber: first).rawValue + 7) % 7
            let day = 1 + shift + 7 * (n - 1)
            return CivilDate(year: year, month: m, day: day)
        case .lastWeekday(let wd, let m):
            let lastDay = CivilDate.daysIn(year: year, month: m)
            let last = CivilDate.dayNumber(year: year, month: m, day: lastDay)
            let back = (Weekday(dayNumber: last).rawValue - wd.rawValue + 7) % 7
            return CivilDate(dayNumber: last - back)
        case .easter(let offset):
            return CivilDate.easterSunday(year: year).adding(days: offset)
        case .weekdayInRange(let wd, let fm, let fd, let tm, let td):
            guard CivilDate(year: year, month: fm, day: fd) != nil else { return nil }
            let from = CivilDate.dayNumber(year: year, month: fm, day: fd)
            let toYear = (tm, td) < (fm, fd) ? year + 1 : year
            guard CivilDate(year: toYear, month: tm, day: td) != nil else { return nil }
            let to = CivilDate.dayNumber(year: toYear, month: tm, day: td)
            let shift = (wd.rawValue - Weekday(dayNumber: from).rawValue + 7) % 7
            return from + shift <= to ? CivilDate(dayNumber: from + shift) : nil
        }
    }
}

/// What happens when a holiday falls on a day the calendar is not open by its weekly hours.
public enum HolidayShift: String, Hashable, Sendable, CaseIterable {
    /// Nothing: the holiday is simply lost.
    case none
    /// US federal style: Saturday is observed on the Friday before, Sunday on the Monday after.
    case nearestWeekday
    /// UK substitute day: the next weekday that is not already a holiday.
    case substitute
}

/// A named holiday rule [policy]. Its date is closed all day.
public struct HolidayRule: Hashable, Sendable {
    /// Display name, e.g. `Good Friday`.
    public var name: String
    /// Free-form class used by half-day and bridge rules, e.g. `public` or `extra`.
    public var category: String
    /// How the date is generated.
    public var rule: DateRule
    /// Weekend shift for observance.
    public var shift: HolidayShift
    /// First year the rule applies (inclusive), if limited.
    public var fromYear: Int?
    /// Last year the rule applies (inclusive), if limited.
    public var toYear: Int?

    /// Creates a rule.
    public init(name: String, category: String = "public", rule: DateRule, shift: HolidayShift = .none,
                fromYear: Int? = nil, toYear: Int? = nil) {
        self.name = name
        self.category = category
        self.rule = rule
        self.shift = shift
        self.fromYear = fromYear
        self.toYear = toYear
    }
}

/// A rule that shortens open days before certain holidays (e.g. Swedish "vardag före röd dag").
public struct HalfDayRule: Hashable, Sendable {
    /// Display name of resulting half-days.
    public var name: String
    /// An open day whose next calendar day is a holiday in one of these categories is a half-day.
    public var whenNextDayIn: Set<String>
    /// The opening intervals of such a half-day.
    public var intervals: [OpeningInterval]

    /// Creates a rule.
    public init(name: String, whenNextDayIn: Set<String>, intervals: [OpeningInterval]) {
        self.name = name
        self.whenNextDayIn = whenNextDayIn
        self.intervals = intervals
    }
}

/// A rule that closes an open day squeezed between closed days (Swedish "klämdag").
public struct BridgeDayRule: Hashable, Sendable {
    /// Display name of bridge days.
    public var name: String
    /// The day is a bridge day when its previous and next calendar days are both closed and
    /// at least one of them is a holiday in one of these categories. Bridge days win over half-days.
    public var whenNeighbourIn: Set<String>

    /// Creates a rule.
    public init(name: String, whenNeighbourIn: Set<String>) {
        self.name = name
        self.whenNeighbourIn = whenNeighbourIn
    }
}

/// A dated day with shortened hours.
public struct DatedHalfDay: Hashable, Sendable {
    /// The date.
    public var date: CivilDate
    /// Display name.
    public var name: String?
    /// Opening intervals that day.
    public var intervals: [OpeningInterval]

    /// Creates a dated half-day.
    public init(date: CivilDate, name: String? = nil, intervals: [OpeningInterval]) {
        self.date = date
        self.name = name
        self.intervals = intervals
    }
}

/// An ad-hoc closure of one or more whole days, announced in advance (§4.1); adding one
/// creates a new calendar version that applies to running clocks (R4.9).
public struct Closure: Hashable, Sendable {
    /// First closed day.
    public var from: CivilDate
    /// Last closed day (inclusive, not before `from`).
    public var to: CivilDate
    /// Why, e.g. `Office move`.
    public var name: String

    /// Creates a closure of `from...to`.
    public init(from: CivilDate, to: CivilDate, name: String) {
        self.from = from
        self.to = max(from, to)
        self.name = name
    }
}

/// A recurring maintenance window: an expected outage, not business hours (§4.1).
public struct RecurringMaintenanceWindow: Hashable, Sendable {
    /// Display name, e.g. `North America`.
    public var name: String
    /// IANA zone of the window's times.
    public var timeZone: String
    /// Weekday on which the window starts.
    public var weekday: Weekday
    /// Local start time.
    public var start: LocalTime
    /// Local end time; at or before `start` means the next day.
    public var end: LocalTime

    /// Creates a window.
    public init(name: String, timeZone: String, weekday: Weekday, start: LocalTime, end: LocalTime) {
        self.name = name
        self.timeZone = timeZone
        self.weekday = weekday
        self.start = start
        self.end = end
    }
}

/// A business calendar as data [policy] (DOMAIN.md §4.1): what a file in
/// `schemas/calendars/` holds. ``BusinessCalendar`` is the engine built from it.
public struct CalendarDefinition: Hashable, Sendable {
    /// Calendar name, e.g. `sweden`.
    public var name: String
    /// Version; a change is a new version (R4.9).
    public var version: Int
    /// Free text.
    public var description: String
    /// IANA time zone identifier, e.g. `Europe/Stockholm`.
    public var timeZone: String
    /// Length of one full business day in hours (R4.3).
    public var standardDayHours: Double
    /// Opening intervals per weekday; a weekday without intervals is weekend.
    public var week: [Weekday: [OpeningInterval]]
    /// Holiday rules.
    public var holidays: [HolidayRule]
    /// Half-day rules.
    public var halfDayRules: [HalfDayRule]
    /// Bridge-day rule, if any.
    public var bridgeDayRule: BridgeDayRule?
    /// Dated half-days.
    public var halfDays: [DatedHalfDay]
    /// Ad-hoc closures.
    public var closures: [Closure]
    /// Maintenance windows (informational).
    public var maintenanceWindows: [RecurringMaintenanceWindow]

    /// Creates a definition.
    public init(name: String, version: Int = 1, description: String = "", timeZone: String,
                standardDayHours: Double, week: [Weekday: [OpeningInterval]],
                holidays: [HolidayRule] = [], halfDayRules: [HalfDayRule] = [],
                bridgeDayRule: BridgeDayRule? = nil, halfDays: [DatedHalfDay] = [],
                closures: [Closure] = [], maintenanceWindows: [RecurringMaintenanceWindow] = []) {
        self.name = name
        self.version = version
        self.description = description
        self.timeZone = timeZone
        self.standardDayHours = standardDayHours
        self.week = week
        self.holidays = holidays
        self.halfDayRules = halfDayRules
        self.bridgeDayRule = bridgeDayRule
        self.halfDays = halfDays
        self.closures = closures
        self.maintenanceWindows = maintenanceWindows
    }
}
