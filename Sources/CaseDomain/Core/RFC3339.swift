import Foundation

/// RFC 3339 instants (`2026-03-02T09:00:00Z`, `2026-03-02T10:00:00.250+01:00`) parsed by
/// hand: the CLI reads one per imported command, and an `ISO8601DateFormatter` per call was
/// the largest cost of `docket import`.
///
/// Accepted: `YYYY-MM-DD`, `T` (or `t`), `HH:MM:SS`, optionally `.` and one or more
/// fractional digits (kept to the nanosecond, then as exact as a `Date` holds), and a zone
/// designator: `Z`, `z` or `±HH:MM`. Refused, with a message saying what is wrong: any other
/// shape, a date that does not exist (`2026-02-30`), an hour over 23, a minute or second
/// over 59 (no leap seconds), an offset over 23:59.
public enum RFC3339 {
    /// Why a text is not an RFC 3339 instant.
    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        /// What was wrong and what would be right.
        public var message: String
        public var description: String { message }
    }

    /// The instant `text` names.
    public static func parse(_ text: String) throws(ParseError) -> Date {
        var text = text
        let result: Result<Date, ParseError> = text.withUTF8 { u in
            do throws(ParseError) {
                return .success(try parse(utf8: UnsafeRawBufferPointer(u)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The instant the UTF-8 text `u` names.
    public static func parse(utf8 u: UnsafeRawBufferPointer) throws(ParseError) -> Date {
        func fail(_ what: String) -> ParseError {
            let shown = u.count <= 40 ? String(decoding: u, as: UTF8.self) : "a text of \(u.count) bytes"
            return ParseError(message: "\(shown) is not an RFC 3339 instant: \(what); use e.g. 2026-03-02T09:00:00Z or 2026-03-02T10:00:00.250+01:00")
        }
        func digits(_ at: Int, _ n: Int, _ what: String) throws(ParseError) -> Int {
            guard at + n <= u.count else { throw fail("it ends before the \(what)") }
            var v = 0
            for i in at..<(at + n) {
                guard u[i] >= 0x30, u[i] <= 0x39 else { throw fail("the \(what) must be \(n) digits") }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        func expect(_ at: Int, _ c: UInt8, _ what: String) throws(ParseError) {
            guard at < u.count, u[at] == c else { throw fail("expected \(what)") }
        }
        let year = try digits(0, 4, "year (YYYY)")
        try expect(4, UInt8(ascii: "-"), "'-' after the year")
        let month = try digits(5, 2, "month (MM)")
        try expect(7, UInt8(ascii: "-"), "'-' after the month")
        let day = try digits(8, 2, "day (DD)")
        guard u.count > 10, u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") else {
            throw fail("expected 'T' between the date and the time")
        }
        let hour = try digits(11, 2, "hour (HH)")
        try expect(13, UInt8(ascii: ":"), "':' after the hour")
        let minute = try digits(14, 2, "minute (MM)")
        try expect(16, UInt8(ascii: ":"), "':' after the minute")
        let second = try digits(17, 2, "second (SS)")
        guard (1...12).contains(month) else { throw fail("month \(month) is not 01 to 12") }
        guard day >= 1, day <= CivilDate.daysIn(year: year, month: month) else {
            throw fail("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        guard hour <= 23 else { throw fail("hour \(hour) is not 00 to 23") }
        guard minute <= 59 else { throw fail("minute \(minute) is not 00 to 59") }
        guard second <= 59 else { throw fail("second \(second) is not 00 to 59") }
        var i = 19
        var nanos = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 {
                if i - start < 9 { nanos = nanos * 10 + Int(u[i] - 0x30) }
                i += 1
            }
            guard i > start else { throw fail("expected digits after '.'") }
            for _ in min(i - start, 9)..<9 { nanos *= 10 }
        }
        guard i < u.count else { throw fail("the zone designator is missing (Z or ±HH:MM)") }
        var offset = 0
        switch u[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            let oh = try digits(i + 1, 2, "offset hours")
            try expect(i + 3, UInt8(ascii: ":"), "':' in the offset (±HH:MM)")
            let om = try digits(i + 4, 2, "offset minutes")
            guard oh <= 23, om <= 59 else { throw fail("offset \(oh):\(om) is not within ±23:59") }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        default:
            throw fail("expected a zone designator (Z or ±HH:MM)")
        }
        guard i == u.count else { throw fail("unexpected text after the zone designator") }
        let days = CivilDate.dayNumber(year: year, month: month, day: day)
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }
}
