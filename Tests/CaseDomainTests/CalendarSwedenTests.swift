import Foundation
import Testing
@testable import CaseDomain

/// The Swedish calendar (DOMAIN.md §4.1) checked against a table derived by hand.
///
/// How the table was derived, per year: Easter Sunday from an almanac (2024-03-31,
/// 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16, 2029-04-01, 2030-04-21); Good Friday
/// -2, Easter Monday +1, Ascension +39, Whit Sunday +49; weekdays from 1 January
/// (2024 Mon, 2025 Wed, 2026 Thu, 2027 Fri, 2028 Sat, 2029 Mon, 2030 Tue); then for every
/// open weekday: bridge if yesterday and tomorrow are closed and one of them is a public
/// holiday or Midsummer Eve / 24 Dec / 31 Dec; else half-day if tomorrow is a public holiday
/// (24 Dec and 31 Dec are not public holidays, so 23 Dec and 30 Dec are never half-days).
struct SwedenYear: Sendable, CustomStringConvertible {
    var year: Int
    /// Named closed Mon-Fri days (kind `holiday`), "MM-DD".
    var weekdayHolidays: [String]
    /// Holidays and extra closed days on a Saturday or Sunday (kind `holiday`).
    var weekendHolidays: [String]
    /// Open 09:00-12:00 only.
    var halfDays: [String]
    /// Closed bridge days.
    var bridges: [String]
    var description: String { String(year) }
}

let swedenTable: [SwedenYear] = [
    SwedenYear(year: 2024,
               weekdayHolidays: ["01-01", "03-29", "04-01", "05-01", "05-09", "06-06", "06-21", "12-24", "12-25", "12-26", "12-31"],
               weekendHolidays: ["01-06", "03-31", "05-19", "06-22", "11-02"],
               halfDays: ["01-05", "03-28", "04-30", "05-08", "06-05", "11-01"],
               bridges: ["05-10", "06-07", "12-23", "12-27", "12-30"]),
    SwedenYear(year: 2025,
               weekdayHolidays: ["01-01", "01-06", "04-18", "04-21", "05-01", "05-29", "06-06", "06-20", "12-24", "12-25", "12-26", "12-31"],
               weekendHolidays: ["04-20", "06-08", "06-21", "11-01"],
               halfDays: ["04-17", "04-30", "05-28", "06-05", "10-31"],
               bridges: ["05-02", "05-30"]),
    SwedenYear(year: 2026,
               weekdayHolidays: ["01-01", "01-06", "04-03", "04-06", "05-01", "05-14", "06-19", "12-24", "12-25", "12-31"],
               weekendHolidays: ["04-05", "05-24", "06-06", "06-20", "10-31", "12-26"],
               halfDays: ["04-02", "04-30", "05-13", "06-05", "10-30"],
               bridges: ["01-02", "01-05", "05-15"]),
    SwedenYear(year: 2027,
               weekdayHolidays: ["01-01", "01-06", "03-26", "03-29", "05-06", "06-25", "12-24", "12-31"],
               weekendHolidays: ["03-28", "05-01", "05-16", "06-06", "06-26", "11-06", "12-25", "12-26"],
               halfDays: ["01-05", "03-25", "04-30", "05-05", "11-05"],
               bridges: ["05-07"]),
    SwedenYear(year: 2028,
               weekdayHolidays: ["01-06", "04-14", "04-17", "05-01", "05-25", "06-06", "06-23", "12-25", "12-26"],
               weekendHolidays: ["01-01", "04-16", "06-04", "06-24", "11-04", "12-24", "12-31"],
               halfDays: ["01-05", "04-13", "05-24", "11-03"],
               bridges: ["01-07", "05-26", "06-05"]),
    SwedenYear(year: 2029,
               weekdayHolidays: ["01-01", "03-30", "04-02", "05-01", "05-10", "06-06", "06-22", "12-24", "12-25", "12-26", "12-31"],
               weekendHolidays: ["01-06", "04-01", "05-20", "06-23", "11-03"],
               halfDays: ["01-05", "03-29", "05-09", "06-05", "11-02"],
               bridges: ["04-30", "05-11"]),
    SwedenYear(year: 2030,
               weekdayHolidays: ["01-01", "04-19", "04-22", "05-01", "05-30", "06-06", "06-21", "12-24", "12-25", "12-26", "12-31"],
               weekendHolidays: ["01-06", "04-21", "06-09", "06-22", "11-02"],
               halfDays: ["04-18", "04-30", "05-29", "06-05", "11-01"],
               bridges: ["05-31", "06-07", "12-23", "12-27", "12-30"]),
]

@Suite("Swedish calendar (DOMAIN.md §4.1)")
struct CalendarSwedenTests {
    @Test("§4.1 sweden 2024-2030 matches the hand-checked table of holidays, half-days and bridge days",
          arguments: swedenTable)
    func yearTable(_ expected: SwedenYear) throws {
        let cal = try shippedCalendar("sweden")
        var weekdayHolidays: [String] = [], weekendHolidays: [String] = [], halfDays: [String] = [], bridges: [String] = []
        let first = CivilDate.dayNumber(year: expected.year, month: 1, day: 1)
        let last = CivilDate.dayNumber(year: expected.year, month: 12, day: 31)
        for n in first...last {
            let d = CivilDate(dayNumber: n)
            let day = cal.day(on: d)
            let key = String(d.description.dropFirst(5))
            let weekend = d.weekday == .saturday || d.weekday == .sunday
            switch day.kind {
            case .holiday: if weekend { weekendHolidays.append(key) } else { weekdayHolidays.append(key) }
            case .halfDay: halfDays.append(key)
            case .bridge: bridges.append(key)
            case .closure: Issue.record("unexpected closure on \(d)")
            case .weekend: #expect(weekend, "\(d) is weekend but not Sat/Sun")
            case .open: #expect(!weekend, "\(d) is open on a weekend")
            }
        }
        #expect(weekdayHolidays == expected.weekdayHolidays)
        #expect(weekendHolidays == expected.weekendHolidays)
        #expect(halfDays == expected.halfDays)
        #expect(bridges == expected.bridges)
    }

    @Test("§4.1 sweden opening hours: 09:00-12:00 and 13:00-16:00, half-day 09:00-12:00, named closed days")
    func hoursAndNames() throws {
        let cal = try shippedCalendar("sweden")
        let open = cal.day(on: date(2024, 3, 4))
        #expect(open.kind == .open)
        #expect(open.intervals.map(\.description) == ["09:00-12:00", "13:00-16:00"])
        // Winter: CET (+1): 09:00 local is 08:00Z.
        #expect(open.instants.map(\.start) == [utc(2024, 3, 4, 8), utc(2024, 3, 4, 12)])
        let half = cal.day(on: date(2024, 3, 28))
        #expect(half.kind == .halfDay)
        #expect(half.intervals.map(\.description) == ["09:00-12:00"])
        #expect(half.name?.contains("Good Friday") == true)
        #expect(cal.day(on: date(2024, 6, 21)) == CalendarDay(date: date(2024, 6, 21), kind: .holiday, name: "Midsummer Eve", intervals: [], instants: []))
        #expect(cal.day(on: date(2024, 12, 24)).name == "Christmas Eve")
        #expect(cal.day(on: date(2024, 12, 31)).name == "New Year's Eve")
        #expect(cal.day(on: date(2024, 6, 22)).name == "Midsummer Day")
        #expect(cal.day(on: date(2024, 5, 10)).kind == .bridge)
        #expect(cal.standardDaySeconds == 6 * 3600)
    }

    @Test("R4.1 sweden business hours skip the lunch gap and the half-day afternoon")
    func lunchGap() throws {
        let cal = try shippedCalendar("sweden")
        // Mon 2024-03-04 11:30 CET (10:30Z) + 2 h -> 30 min before lunch, 90 min after -> 14:30 CET.
        #expect(cal.adding(seconds: hours(2), to: utc(2024, 3, 4, 10, 30)) == utc(2024, 3, 4, 13, 30))
        // Lunch counts nothing.
        #expect(cal.seconds(from: utc(2024, 3, 4, 11), to: utc(2024, 3, 4, 12)) == 0)
        // Maundy Thursday 2024-03-28 is a half-day: 11:00 + 2 h -> 1 h that day, then Good Friday,
        // Easter weekend and Easter Monday are closed -> Tue 2 Apr 10:00 CEST (08:00Z).
        #expect(cal.adding(seconds: hours(2), to: utc(2024, 3, 28, 10)) == utc(2024, 4, 2, 8))
        // A deadline that ends exactly at lunch is at 12:00, not 13:00.
        #expect(cal.adding(seconds: hours(3), to: utc(2024, 3, 4, 8)) == utc(2024, 3, 4, 11))
    }

    @Test("R4.9 an ad-hoc closure added later moves running deadlines")
    func closureApplies() throws {
        let cal = try shippedCalendar("sweden")
        let start = utc(2024, 3, 4, 14) // Mon 15:00 CET, 1 h left that day
        #expect(cal.adding(seconds: hours(2), to: start) == utc(2024, 3, 5, 9))
        let closure = Closure(from: date(2024, 3, 5), to: date(2024, 3, 6), name: "Office move")
        let changed = try cal.addingClosures([closure])
        #expect(changed.version == cal.version + 1)
        #expect(changed.day(on: date(2024, 3, 5)).kind == .closure)
        #expect(changed.day(on: date(2024, 3, 6)).name == "Office move")
        #expect(changed.adding(seconds: hours(2), to: start) == utc(2024, 3, 7, 9))
        // An announced closure counts as a closed day for the bridge rule: closing Wed 2025-01-08
        // makes Tue 7 Jan (between Epiphany and the closure) a bridge day.
        let base = cal.day(on: date(2025, 1, 7))
        #expect(base.kind == .open)
        let withClosure = try cal.addingClosures([Closure(from: date(2025, 1, 8), to: date(2025, 1, 8), name: "Inventory")])
        #expect(withClosure.day(on: date(2025, 1, 7)).kind == .bridge)
    }
}
