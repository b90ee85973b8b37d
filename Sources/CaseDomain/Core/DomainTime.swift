import Foundation

/// Docket's one time representation on the wire: ISO 8601 in UTC with exactly three
/// fractional digits, e.g. `2026-11-22T16:45:40.123Z`.
///
/// Every date in a command or event is kept at whole milliseconds. ``DecisionContext``
/// normalises `now` on creation and deciders normalise every derived instant, so
/// `decode(encode(event)) == event` holds for every event a decider emits and a replay
/// folds exactly the values the live service folded (DESIGN.md rule 1, R9.4).
/// The conversion is plain integer arithmetic (no `Calendar`, no formatter objects).
public enum DomainTime {
    /// Milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest millisecond.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The canonical date for a number of milliseconds since the Unix epoch.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `date` rounded to the nearest millisecond, in canonical form.
    public static func normalised(_ date: Date) -> Date {
        self.date(milliseconds: milliseconds(date))
    }

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.sssZ`.
    public static func format(_ date: Date) -> String {
        let ms = milliseconds(date)
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = civil(fromDays: days)
        let h = msOfDay / 3_600_000, mi = (msOfDay / 60_000) % 60, s = (msOfDay / 1000) % 60, f = msOfDay % 1000
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(h, 2) + ":" + pad(mi, 2) + ":"
            + pad(s, 2) + "." + pad(f, 3) + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z`; returns `nil` for anything else.
    public static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count >= 20, u.last == UInt8(ascii: "Z"), u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":")
        else { return nil }
        func num(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                guard u[i] >= 48, u[i] <= 57 else { return nil }
                v = v * 10 + Int64(u[i] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let s = num(17..<19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        var frac: Int64 = 0
        if u.count > 20 {
            let digits = u.count - 21
            guard u[19] == UInt8(ascii: "."), (1...3).contains(digits), let f = num(20..<(20 + digits)) else { return nil }
            frac = f * [1, 100, 10, 1][digits]
        } else if u[19] != UInt8(ascii: "Z") {
            return nil
        }
        let days = daysFromCivil(y, mo, d)
        return date(milliseconds: ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + frac)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Howard Hinnant's `civil_from_days`.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Howard Hinnant's `days_from_civil`.
    private static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Seconds in one calendar day as the domain counts calendar days (R2.6, R2.7, R5.3):
    /// 24 wall-clock hours.
    public static let daySeconds: TimeInterval = 86_400

    /// `date` plus `days` calendar days of 24 hours, normalised.
    public static func adding(days: Int, to date: Date) -> Date {
        normalised(date.addingTimeInterval(TimeInterval(days) * daySeconds))
    }
}
