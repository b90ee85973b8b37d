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
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z`; returns `nil` for anything else.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// ``parse(_:)`` on UTF-8 bytes (the JSON decoders call this without making a `String`).
    public static func parse(utf8 u: UnsafeRawBufferPointer) -> Date? {
        guard u.count >= 20, u[u.count - 1] == UInt8(ascii: "Z"), u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
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
            frac = f * (digits == 1 ? 100 : digits == 2 ? 10 : 1)
        } else if u[19] != UInt8(ascii: "Z") {
            return nil
        }
        // Refuse dates that do not exist (2026-02-31 would otherwise roll into March).
        guard d <= 28 || Int(d) <= CivilDate.daysIn(year: Int(y), month: Int(mo)) else { return nil }
        let days = Int64(CivilDate.dayNumber(year: Int(y), month: Int(mo), day: Int(d)))
        return date(milliseconds: ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + frac)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.sssZ` to `out` (what ``format(_:)`` returns, without a `String`).
    public static func append(_ date: Date, to out: inout [UInt8]) {
        let ms = milliseconds(date)
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let civil = CivilDate(dayNumber: Int(days))
        if (0...9999).contains(civil.year) {
            // The common case in one write of 24 bytes.
            let y = civil.year, h = Int(msOfDay / 3_600_000), mi = Int((msOfDay / 60_000) % 60)
            let sec = Int((msOfDay / 1000) % 60), frac = Int(msOfDay % 1000)
            @inline(__always) func d(_ v: Int) -> UInt8 { UInt8(truncatingIfNeeded: 48 + v) }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { b in
                b[0] = d(y / 1000); b[1] = d(y / 100 % 10); b[2] = d(y / 10 % 10); b[3] = d(y % 10); b[4] = 0x2D
                b[5] = d(civil.month / 10); b[6] = d(civil.month % 10); b[7] = 0x2D
                b[8] = d(civil.day / 10); b[9] = d(civil.day % 10); b[10] = 0x54
                b[11] = d(h / 10); b[12] = d(h % 10); b[13] = 0x3A; b[14] = d(mi / 10); b[15] = d(mi % 10); b[16] = 0x3A
                b[17] = d(sec / 10); b[18] = d(sec % 10); b[19] = 0x2E
                b[20] = d(frac / 100); b[21] = d(frac / 10 % 10); b[22] = d(frac % 10); b[23] = 0x5A
                out.append(contentsOf: UnsafeBufferPointer(b))
            }
            return
        }
        func digits(_ v: Int64, _ width: Int) {
            if v < 0 || width > 4 || (width == 4 && v > 9999) {
                let text = String(v)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - text.utf8.count)))
                out.append(contentsOf: text.utf8)
                return
            }
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = v
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int64(civil.year), 4)
        out.append(UInt8(ascii: "-"))
        digits(Int64(civil.month), 2)
        out.append(UInt8(ascii: "-"))
        digits(Int64(civil.day), 2)
        out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2)
        out.append(UInt8(ascii: ":"))
        digits((msOfDay / 60_000) % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits((msOfDay / 1000) % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3)
        out.append(UInt8(ascii: "Z"))
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }


    /// Seconds in one calendar day as the domain counts calendar days (R2.6, R2.7, R5.3):
    /// 24 wall-clock hours.
    public static let daySeconds: TimeInterval = 86_400

    /// `date` plus `days` calendar days of 24 hours, normalised.
    public static func adding(days: Int, to date: Date) -> Date {
        normalised(date.addingTimeInterval(TimeInterval(days) * daySeconds))
    }
}
