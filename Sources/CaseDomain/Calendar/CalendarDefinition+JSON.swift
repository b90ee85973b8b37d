import DocketJSON
import Foundation

extension CalendarDefinition {
    /// Decodes a calendar file (format: `schemas/calendars/calendar.schema.json`).
    ///
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - file: the name used in errors, e.g. `calendars/sweden.json`.
    /// - Throws: ``DataLoadError`` naming the file, the JSON path and what was expected.
    public static func decode(from data: Data, file: String) throws -> CalendarDefinition {
        try decode(JSONNode(JSONValue.parse(data, file: file), file: file))
    }

    static let topKeys: Set<String> = [
        "$schema", "name", "version", "description", "timeZone", "standardDayHours", "week", "holidays",
        "halfDayRules", "bridgeDayRule", "halfDays", "closures", "maintenanceWindows",
    ]

    static func decode(_ root: JSONNode) throws -> CalendarDefinition {
        let o = try root.object(allowed: topKeys)
        let name = try o.required("name", in: root, "the calendar name, a string").nonEmptyString()
        let version = try o.required("version", in: root, "an integer version >= 1").int(in: 1...Int(Int32.max))
        let description = try o["description"]?.string() ?? ""
        let tzNode = try o.required("timeZone", in: root, "an IANA time zone such as \"Europe/Stockholm\"")
        let tz = try tzNode.string()
        guard TimeZone(identifier: tz) != nil else {
            throw tzNode.error("unknown IANA time zone \"\(tz)\"; expected e.g. \"Europe/Stockholm\"")
        }
        let hoursNode = try o.required("standardDayHours", in: root, "a number of hours in (0, 24]")
        let hours = try hoursNode.number()
        guard hours > 0, hours <= 24 else { throw hoursNode.error("expected a number of hours in (0, 24], found \(hours)") }

        let weekNode = try o.required("week", in: root, "an object of weekday keys (mon...sun) to opening intervals")
        var week: [Weekday: [OpeningInterval]] = [:]
        for (key, node) in try weekNode.object(allowed: Set(Weekday.allCases.map(\.key))) {
            guard let wd = Weekday(key: key) else { continue }
            week[wd] = try intervals(node)
        }

        let holidays = try (o["holidays"]?.array() ?? []).map(holiday)
        let halfDayRules = try (o["halfDayRules"]?.array() ?? []).map { node -> HalfDayRule in
            let r = try node.object(allowed: ["name", "whenNextDayIn", "intervals"])
            return HalfDayRule(
                name: try r.required("name", in: node, "a string").nonEmptyString(),
                whenNextDayIn: Set(try r.required("whenNextDayIn", in: node, "an array of holiday categories").array().map { try $0.string() }),
                intervals: try intervals(r.required("intervals", in: node, "an array of [\"HH:MM\",\"HH:MM\"] pairs")))
        }
        var bridge: BridgeDayRule?
        if let node = o["bridgeDayRule"] {
            let r = try node.object(allowed: ["name", "whenNeighbourIn"])
            bridge = BridgeDayRule(
                name: try r.required("name", in: node, "a string").nonEmptyString(),
                whenNeighbourIn: Set(try r.required("whenNeighbourIn", in: node, "an array of holiday categories").array().map { try $0.string() }))
        }
        let halfDays = try (o["halfDays"]?.array() ?? []).map { node -> DatedHalfDay in
            let r = try node.object(allowed: ["date", "name", "intervals"])
            return DatedHalfDay(
                date: try date(r.required("date", in: node, "a date \"YYYY-MM-DD\"")),
                name: try r["name"]?.string(),
                intervals: try intervals(r.required("intervals", in: node, "an array of [\"HH:MM\",\"HH:MM\"] pairs")))
        }
        let closures = try (o["closures"]?.array() ?? []).map(closure)
        let windows = try (o["maintenanceWindows"]?.array() ?? []).map { node -> RecurringMaintenanceWindow in
            let r = try node.object(allowed: ["name", "timeZone", "weekday", "start", "end"])
            let zoneNode = try r.required("timeZone", in: node, "an IANA time zone")
            let zone = try zoneNode.string()
            guard TimeZone(identifier: zone) != nil else { throw zoneNode.error("unknown IANA time zone \"\(zone)\"") }
            return RecurringMaintenanceWindow(
                name: try r.required("name", in: node, "a string").nonEmptyString(), timeZone: zone,
                weekday: try weekday(r.required("weekday", in: node, "a weekday mon...sun")),
                start: try time(r.required("start", in: node, "a time \"HH:MM\"")),
                end: try time(r.required("end", in: node, "a time \"HH:MM\"")))
        }
        return CalendarDefinition(
            name: name, version: version, description: description, timeZone: tz, standardDayHours: hours,
            week: week, holidays: holidays, halfDayRules: halfDayRules, bridgeDayRule: bridge,
            halfDays: halfDays, closures: closures, maintenanceWindows: windows)
    }

    /// Decodes one ad-hoc closure object `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "name": "..."}`.
    static func closure(_ node: JSONNode) throws -> Closure {
        let r = try node.object(allowed: ["from", "to", "name"])
        let from = try date(r.required("from", in: node, "a date \"YYYY-MM-DD\""))
        let to = try r["to"].map(date) ?? from
        guard to >= from else { throw node.error("expected \"to\" on or after \"from\", found \(to) before \(from)") }
        return Closure(from: from, to: to, name: try r.required("name", in: node, "a string").nonEmptyString())
    }

    static let ruleKeys = ["fixed", "date", "nthWeekday", "lastWeekday", "easter", "weekdayInRange"]

    static func holiday(_ node: JSONNode) throws -> HolidayRule {
        let r = try node.object(allowed: Set(["name", "category", "shift", "fromYear", "toYear"] + ruleKeys))
        let present = ruleKeys.filter { r[$0] != nil }
        guard present.count == 1, let key = present.first, let ruleNode = r[key] else {
            throw node.error("expected exactly one of \(ruleKeys.joined(separator: ", ")), found \(present.isEmpty ? "none" : present.joined(separator: ", "))")
        }
        let rule: DateRule
        switch key {
        case "fixed":
            let (m, d) = try monthDay(ruleNode)
            rule = .fixed(month: m, day: d)
        case "date":
            rule = .date(try date(ruleNode))
        case "nthWeekday":
            let x = try ruleNode.object(allowed: ["n", "weekday", "month"])
            rule = .nthWeekday(
                n: try x.required("n", in: ruleNode, "an integer 1...5").int(in: 1...5),
                weekday: try weekday(x.required("weekday", in: ruleNode, "a weekday mon...sun")),
                month: try x.required("month", in: ruleNode, "a month 1...12").int(in: 1...12))
        case "lastWeekday":
            let x = try ruleNode.object(allowed: ["weekday", "month"])
            rule = .lastWeekday(
                weekday: try weekday(x.required("weekday", in: ruleNode, "a weekday mon...sun")),
                month: try x.required("month", in: ruleNode, "a month 1...12").int(in: 1...12))
        case "easter":
            rule = .easter(offset: try ruleNode.int(in: -366...366))
        default:
            let x = try ruleNode.object(allowed: ["weekday", "from", "to"])
            let (fm, fd) = try monthDay(x.required("from", in: ruleNode, "a month-day \"MM-DD\""))
            let (tm, td) = try monthDay(x.required("to", in: ruleNode, "a month-day \"MM-DD\""))
            rule = .weekdayInRange(weekday: try weekday(x.required("weekday", in: ruleNode, "a weekday mon...sun")),
                                   fromMonth: fm, fromDay: fd, toMonth: tm, toDay: td)
        }
        var shift = HolidayShift.none
        if let s = r["shift"] {
            let text = try s.string()
            guard let v = HolidayShift(rawValue: text) else {
                throw s.error("expected one of \(HolidayShift.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(text)\"")
            }
            shift = v
        }
        return HolidayRule(
            name: try r.required("name", in: node, "a string").nonEmptyString(),
            category: try r["category"]?.nonEmptyString() ?? "public", rule: rule, shift: shift,
            fromYear: try r["fromYear"]?.int(in: 1...9999), toYear: try r["toYear"]?.int(in: 1...9999))
    }

    static func intervals(_ node: JSONNode) throws -> [OpeningInterval] {
        var out: [OpeningInterval] = []
        for item in try node.array() {
            let pair = try item.array()
            guard pair.count == 2 else { throw item.error("expected a pair [\"HH:MM\",\"HH:MM\"]") }
            let s = try time(pair[0]), e = try time(pair[1])
            guard s < e else { throw item.error("expected the opening time before the closing time, found \(s)-\(e)") }
            if let last = out.last, last.end > s {
                throw item.error("expected intervals in order and not overlapping; \(s) is before \(last.end)")
            }
            out.append(OpeningInterval(start: s, end: e))
        }
        return out
    }

    static func time(_ node: JSONNode) throws -> LocalTime {
        let s = try node.string()
        guard let t = LocalTime(s) else { throw node.error("expected a time \"HH:MM\" from 00:00 to 24:00, found \"\(s)\"") }
        return t
    }

    static func date(_ node: JSONNode) throws -> CivilDate {
        let s = try node.string()
        guard let d = CivilDate(iso: s) else { throw node.error("expected a date \"YYYY-MM-DD\", found \"\(s)\"") }
        return d
    }

    static func monthDay(_ node: JSONNode) throws -> (Int, Int) {
        let s = try node.string()
        let parts = s.split(separator: "-")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let m = Int(parts[0]), let d = Int(parts[1]),
              CivilDate(year: 2000, month: m, day: d) != nil else {
            throw node.error("expected a month-day \"MM-DD\", found \"\(s)\"")
        }
        return (m, d)
    }

    static func weekday(_ node: JSONNode) throws -> Weekday {
        let s = try node.string()
        guard let wd = Weekday(key: s) else { throw node.error("expected a weekday mon, tue, wed, thu, fri, sat or sun, found \"\(s)\"") }
        return wd
    }
}
