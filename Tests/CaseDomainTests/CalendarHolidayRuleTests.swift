import Foundation
import Testing
@testable import CaseDomain

@Suite("Holiday rules (DOMAIN.md §4.1)")
struct CalendarHolidayRuleTests {
    @Test("Easter computus matches known dates 1900-2100 samples")
    func easter() {
        let known: [(Int, Int, Int)] = [
            (1900, 4, 15), (1961, 4, 2), (2000, 4, 23), (2008, 3, 23), (2011, 4, 24), (2019, 4, 21),
            (2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2038, 4, 25), (2100, 3, 28),
        ]
        for (y, m, d) in known {
            #expect(CivilDate.easterSunday(year: y) == date(y, m, d), "Easter \(y)")
        }
    }

    @Test("Date rules: nth weekday, last weekday, weekday in a range crossing a month end")
    func rules() {
        #expect(DateRule.nthWeekday(n: 3, weekday: .monday, month: 1).date(in: 2024) == date(2024, 1, 15))
        #expect(DateRule.nthWeekday(n: 4, weekday: .thursday, month: 11).date(in: 2024) == date(2024, 11, 28))
        #expect(DateRule.nthWeekday(n: 5, weekday: .monday, month: 2).date(in: 2024) == nil)
        #expect(DateRule.lastWeekday(weekday: .monday, month: 5).date(in: 2024) == date(2024, 5, 27))
        #expect(DateRule.lastWeekday(weekday: .monday, month: 8).date(in: 2021) == date(2021, 8, 30))
        let allSaints = DateRule.weekdayInRange(weekday: .saturday, fromMonth: 10, fromDay: 31, toMonth: 11, toDay: 6)
        #expect(allSaints.date(in: 2026) == date(2026, 10, 31))
        #expect(allSaints.date(in: 2027) == date(2027, 11, 6))
        #expect(DateRule.fixed(month: 2, day: 29).date(in: 2023) == nil)
        #expect(DateRule.date(date(2025, 5, 8)).date(in: 2025) == date(2025, 5, 8))
        #expect(DateRule.date(date(2025, 5, 8)).date(in: 2026) == nil)
    }

    @Test("§4.1 americas: US federal holidays as observed (Sat -> Fri before, Sun -> Mon after)")
    func usObserved() throws {
        let cal = try shippedCalendar("americas")
        let observed: [(CivilDate, String)] = [
            (date(2021, 7, 5), "Independence Day (observed)"),
            (date(2022, 12, 26), "Christmas Day (observed)"),
            (date(2021, 12, 31), "New Year's Day (observed)"),
            (date(2021, 12, 24), "Christmas Day (observed)"),
            (date(2023, 11, 10), "Veterans Day (observed)"),
            (date(2022, 6, 20), "Juneteenth (observed)"),
        ]
        for (d, name) in observed {
            let day = cal.day(on: d)
            #expect(day.kind == .holiday && day.name == name, "\(d): \(day.kind) \(day.name ?? "-")")
        }
        // The real dates on a weekend are holidays too, with their own name.
        #expect(cal.day(on: date(2021, 7, 4)).kind == .holiday)
        #expect(cal.day(on: date(2022, 1, 1)).name == "New Year's Day")
        // 2024 rule-generated holidays.
        let y2024 = [date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 5, 27), date(2024, 6, 19),
                     date(2024, 7, 4), date(2024, 9, 2), date(2024, 10, 14), date(2024, 11, 11), date(2024, 11, 28),
                     date(2024, 12, 25)]
        let closed = (CivilDate.dayNumber(year: 2024, month: 1, day: 1)...CivilDate.dayNumber(year: 2024, month: 12, day: 31))
            .map(CivilDate.init(dayNumber:)).filter { cal.day(on: $0).kind == .holiday }
        #expect(closed == y2024)
        // Juneteenth became a federal holiday in 2021.
        #expect(cal.day(on: date(2020, 6, 19)).kind == .open)
        // The day after an observed Monday is an ordinary day.
        #expect(cal.day(on: date(2021, 7, 6)).kind == .open)
        #expect(cal.standardDaySeconds == 11 * 3600)
    }

    @Test("§4.1 uk: England and Wales bank holidays with substitute days")
    func ukSubstitutes() throws {
        let cal = try shippedCalendar("uk")
        func kinds(_ y: Int, _ m: Int, _ from: Int, _ to: Int) -> [String] {
            (from...to).map { d in
                let day = cal.day(on: date(y, m, d))
                return "\(d):\(day.kind.rawValue)"
            }
        }
        // 2021: Christmas Sat -> Mon 27; Boxing Day Sun -> Tue 28.
        #expect(kinds(2021, 12, 24, 29) == ["24:open", "25:holiday", "26:holiday", "27:holiday", "28:holiday", "29:open"])
        #expect(cal.day(on: date(2021, 12, 27)).name == "Christmas Day (substitute day)")
        #expect(cal.day(on: date(2021, 12, 28)).name == "Boxing Day (substitute day)")
        // 2022: Christmas Sun -> Tue 27 (Mon 26 is Boxing Day); New Year Sat -> Mon 3 Jan.
        #expect(kinds(2022, 12, 23, 28) == ["23:open", "24:weekend", "25:holiday", "26:holiday", "27:holiday", "28:open"])
        #expect(cal.day(on: date(2022, 12, 27)).name == "Christmas Day (substitute day)")
        #expect(cal.day(on: date(2022, 1, 3)).name == "New Year's Day (substitute day)")
        // 2020: Boxing Day Sat -> Mon 28; 2027 is like 2021 (Christmas Sat).
        #expect(cal.day(on: date(2020, 12, 28)).name == "Boxing Day (substitute day)")
        #expect(kinds(2027, 12, 27, 28) == ["27:holiday", "28:holiday"])
        // 2024 standing rules.
        let names = [date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 6), date(2024, 5, 27), date(2024, 8, 26)]
            .map { cal.day(on: $0).name ?? "-" }
        #expect(names == ["Good Friday", "Easter Monday", "Early May bank holiday", "Spring bank holiday", "Summer bank holiday"])
        #expect(cal.day(on: date(2024, 3, 28)).intervals.map(\.description) == ["09:00-17:30"])
        #expect(cal.standardDaySeconds == 8 * 3600 + 1800)
    }

    @Test("Kinds: a generic calendar with every rule kind, a dated half-day and a closure range")
    func genericKinds() throws {
        let json = """
        {"name":"demo","version":3,"timeZone":"UTC","standardDayHours":8,
         "week":{"mon":[["08:00","12:00"],["13:00","17:00"]],"tue":[["08:00","16:00"]],"wed":[["08:00","16:00"]],
                 "thu":[["08:00","16:00"]],"fri":[["08:00","16:00"]]},
         "holidays":[{"name":"Founders","fixed":"03-05","category":"company"},
                     {"name":"Anniversary","date":"2024-03-15","category":"company"},
                     {"name":"Sat-shift","fixed":"03-09","shift":"nearestWeekday"}],
         "halfDayRules":[{"name":"Eve","whenNextDayIn":["company"],"intervals":[["08:00","10:00"]]}],
         "bridgeDayRule":{"name":"Bridge","whenNeighbourIn":["company"]},
         "halfDays":[{"date":"2024-03-12","name":"Stocktake","intervals":[["10:00","11:00"]]}],
         "closures":[{"from":"2024-03-19","to":"2024-03-20","name":"Move"}]}
        """
        let cal = try BusinessCalendar(CalendarDefinition.decode(from: Data(json.utf8), file: "demo.json"), years: 2023...2025)
        #expect(cal.version == 3)
        let kinds = (4...20).map { cal.day(on: date(2024, 3, $0)).kind }
        // 4 Mon: between Sunday and a company holiday -> bridge (wins over the half-day rule);
        // 8 Fri: Saturday 9's holiday observed; 12 dated half-day; 14 Thu: half-day before the
        // 15 Fri company holiday; 18 Mon stays open (its neighbour closure is no holiday); 19-20 closed.
        #expect(kinds == [.bridge, .holiday, .open, .open, .holiday, .holiday, .weekend, .open, .halfDay, .open,
                          .halfDay, .holiday, .weekend, .weekend, .open, .closure, .closure])
        #expect(cal.day(on: date(2024, 3, 8)).name == "Sat-shift (observed)")
        #expect(cal.day(on: date(2024, 3, 14)).intervals.map(\.description) == ["08:00-10:00"])
        #expect(cal.day(on: date(2024, 3, 14)).name == "Eve (Anniversary)")
        #expect(cal.day(on: date(2024, 3, 12)).name == "Stocktake")
        #expect(cal.day(on: date(2024, 3, 12)).intervals.map(\.description) == ["10:00-11:00"])
        // Mon 2024-03-11 07:00 + 6 h: 08-12 (4h), lunch, 13-15 -> 15:00.
        #expect(cal.adding(seconds: hours(6), to: utc(2024, 3, 11, 7)) == utc(2024, 3, 11, 15))
        // Fri 2024-03-01 15:00 + 2 h: 1 h Friday, weekend, Mon 4 bridge, Tue 5 holiday -> Wed 6 09:00.
        #expect(cal.adding(seconds: hours(2), to: utc(2024, 3, 1, 15)) == utc(2024, 3, 6, 9))
    }
}
