import Foundation
import Testing
@testable import CaseDomain

/// R4.1: daylight-saving changes are honoured; intervals have their real length.
@Suite("Calendars across daylight-saving changes (R4.1)")
struct CalendarDSTTests {
    @Test("R4.1 America/Los_Angeles spring forward and fall back (americas 05:00-16:00)")
    func losAngeles() throws {
        let cal = try shippedCalendar("americas")
        // Spring forward Sun 2024-03-10: Friday is PST (-8), Monday PDT (-7).
        #expect(cal.day(on: date(2024, 3, 8)).instants.first?.start == utc(2024, 3, 8, 13))
        #expect(cal.day(on: date(2024, 3, 11)).instants.first?.start == utc(2024, 3, 11, 12))
        #expect(cal.day(on: date(2024, 3, 11)).instants.first?.duration == TimeInterval(11 * 3600))
        #expect(cal.seconds(from: utc(2024, 3, 8, 13), to: utc(2024, 3, 11, 13)) == hours(12))
        #expect(cal.adding(seconds: hours(12), to: utc(2024, 3, 8, 13)) == utc(2024, 3, 11, 13))
        // Fall back Sun 2024-11-03: Friday PDT, Monday PST.
        #expect(cal.day(on: date(2024, 11, 1)).instants.first?.start == utc(2024, 11, 1, 12))
        #expect(cal.day(on: date(2024, 11, 4)).instants.first?.start == utc(2024, 11, 4, 13))
        #expect(cal.adding(seconds: hours(11.5), to: utc(2024, 11, 1, 12)) == utc(2024, 11, 4, 13, 30))
        // The change days themselves have their real length.
        let allDay = try everyDayCalendar("America/Los_Angeles", [("00:00", "24:00")])
        #expect(allDay.seconds(from: utc(2024, 3, 10, 8), to: utc(2024, 3, 11, 7)) == hours(23))
        #expect(allDay.day(on: date(2024, 3, 10)).instants.first?.duration == TimeInterval(23 * 3600))
        #expect(allDay.day(on: date(2024, 11, 3)).instants.first?.duration == TimeInterval(25 * 3600))
        let night = try everyDayCalendar("America/Los_Angeles", [("01:00", "04:00")])
        #expect(night.day(on: date(2024, 3, 10)).instants.first?.duration == TimeInterval(2 * 3600))
        #expect(night.day(on: date(2024, 11, 3)).instants.first?.duration == TimeInterval(4 * 3600))
        #expect(night.day(on: date(2024, 11, 3)).instants.first?.start == utc(2024, 11, 3, 8))
    }

    @Test("R4.1 Europe/London spring forward and fall back (uk 09:00-17:30)")
    func london() throws {
        let cal = try shippedCalendar("uk")
        // Fall back Sun 2024-10-27: Friday BST (+1), Monday GMT.
        #expect(cal.day(on: date(2024, 10, 25)).instants.first?.start == utc(2024, 10, 25, 8))
        #expect(cal.day(on: date(2024, 10, 28)).instants.first?.start == utc(2024, 10, 28, 9))
        #expect(cal.adding(seconds: hours(9.5), to: utc(2024, 10, 25, 8)) == utc(2024, 10, 28, 10))
        #expect(cal.seconds(from: utc(2024, 10, 25, 12), to: utc(2024, 10, 28, 12)) == hours(4.5 + 3))
        // Spring forward Sun 2024-03-31 (01:00 GMT -> 02:00 BST).
        let allDay = try everyDayCalendar("Europe/London", [("00:00", "24:00")])
        #expect(allDay.day(on: date(2024, 3, 31)).instants.first?.duration == TimeInterval(23 * 3600))
        #expect(allDay.day(on: date(2024, 10, 27)).instants.first?.duration == TimeInterval(25 * 3600))
        let office = try everyDayCalendar("Europe/London", [("09:00", "18:00")])
        #expect(office.day(on: date(2024, 3, 30)).instants.first == DateInterval(start: utc(2024, 3, 30, 9), end: utc(2024, 3, 30, 18)))
        #expect(office.day(on: date(2024, 3, 31)).instants.first == DateInterval(start: utc(2024, 3, 31, 8), end: utc(2024, 3, 31, 17)))
        #expect(office.seconds(from: utc(2024, 3, 30, 0), to: utc(2024, 4, 1, 0)) == hours(18))
    }

    @Test("R4.1 Europe/Stockholm spring forward and fall back (sweden)")
    func stockholm() throws {
        let cal = try shippedCalendar("sweden")
        // Fall back Sun 2024-10-27: Friday CEST (+2), Monday CET (+1).
        #expect(cal.day(on: date(2024, 10, 25)).instants.first?.start == utc(2024, 10, 25, 7))
        #expect(cal.day(on: date(2024, 10, 28)).instants.first?.start == utc(2024, 10, 28, 8))
        #expect(cal.adding(seconds: hours(7), to: utc(2024, 10, 25, 7)) == utc(2024, 10, 28, 9))
        // Spring forward Sun 2024-03-31; Mon 1 Apr is Easter Monday, so Tue 2 Apr is CEST.
        #expect(cal.day(on: date(2024, 4, 2)).instants.first?.start == utc(2024, 4, 2, 7))
        #expect(cal.day(on: date(2024, 3, 27)).instants.first?.start == utc(2024, 3, 27, 8))
        let night = try everyDayCalendar("Europe/Stockholm", [("01:00", "04:00")])
        #expect(night.day(on: date(2024, 3, 31)).instants.first?.duration == TimeInterval(2 * 3600))
        #expect(night.day(on: date(2024, 10, 27)).instants.first?.duration == TimeInterval(4 * 3600))
        // Inside the skipped hour nothing counts; the first instant counted after 02:30 is 03:00 CEST.
        let span = night.seconds(from: utc(2024, 3, 31, 0), to: utc(2024, 3, 31, 1))
        #expect(span == hours(1))
    }

    @Test("R4.1 Australia/Sydney DST end (April) and start (October) (apac 09:00-18:00)")
    func sydney() throws {
        let cal = try shippedCalendar("apac")
        // DST ends Sun 2024-04-07: Friday AEDT (+11), Monday AEST (+10).
        #expect(cal.day(on: date(2024, 4, 5)).instants.first?.start == utc(2024, 4, 4, 22))
        #expect(cal.day(on: date(2024, 4, 8)).instants.first?.start == utc(2024, 4, 7, 23))
        #expect(cal.seconds(from: utc(2024, 4, 4, 22), to: utc(2024, 4, 7, 23)) == hours(9))
        #expect(cal.adding(seconds: hours(9.5), to: utc(2024, 4, 4, 22)) == utc(2024, 4, 7, 23, 30))
        // DST starts Sun 2024-10-06: Friday AEST, Monday AEDT.
        #expect(cal.day(on: date(2024, 10, 4)).instants.first?.start == utc(2024, 10, 3, 23))
        #expect(cal.day(on: date(2024, 10, 7)).instants.first?.start == utc(2024, 10, 6, 22))
        #expect(cal.adding(seconds: hours(9), to: utc(2024, 10, 3, 23)) == utc(2024, 10, 4, 8))
        #expect(cal.adding(seconds: hours(9) + 1, to: utc(2024, 10, 3, 23)) == utc(2024, 10, 6, 22, 0, 1))
        let allDay = try everyDayCalendar("Australia/Sydney", [("00:00", "24:00")])
        #expect(allDay.day(on: date(2024, 4, 7)).instants.first?.duration == TimeInterval(25 * 3600))
        #expect(allDay.day(on: date(2024, 10, 6)).instants.first?.duration == TimeInterval(23 * 3600))
    }

    @Test("R4.1 Europe/Berlin: europe calendar across the March change")
    func berlin() throws {
        let cal = try shippedCalendar("europe")
        // Fri 2024-03-29 09:00 CET (08:00Z); Mon 2024-04-01 09:00 CEST (07:00Z); no holidays shipped.
        #expect(cal.day(on: date(2024, 4, 1)).kind == .open)
        #expect(cal.adding(seconds: hours(10), to: utc(2024, 3, 29, 8)) == utc(2024, 4, 1, 8))
    }
}
