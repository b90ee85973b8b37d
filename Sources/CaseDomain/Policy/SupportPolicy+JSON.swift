import DocketJSON
import Foundation

extension SupportPolicy {
    /// Decodes a policy file (format: `schemas/policies/policy.schema.json`).
    ///
    /// Calendar names are not checked here (the file alone cannot know them);
    /// ``PolicyCatalog`` refuses a policy that names an unknown calendar.
    /// - Throws: ``DataLoadError`` naming the file, the JSON path and what was expected.
    public static func decode(from data: Data, file: String) throws -> SupportPolicy {
        try decode(JSONNode(JSONValue.parse(data, file: file), file: file))
    }

    static let topKeys: Set<String> = [
        "$schema", "name", "version", "description", "priorities", "contactOpeningCaps", "calendarByRegion",
        "targets", "pauseWhileAwaitingCustomer", "atRiskShare", "autoCloseDays", "reopenWindowDays",
        "surveyAnswerDays", "designatedContactsMin", "designatedContactsMax", "attachmentMaxBytes",
        "customerEscalationAnyTime",
    ]

    static let durationKeys = ["wallClockHours", "businessHours", "businessDays"]

    static func decode(_ root: JSONNode) throws -> SupportPolicy {
        let o = try root.object(allowed: topKeys)
        let name = try o.required("name", in: root, "the policy name, a string").nonEmptyString()
        let version = try o.required("version", in: root, "an integer version >= 1").int(in: 1...Int(Int32.max))
        _ = try o["description"]?.string()
        let prioritiesNode = try o.required("priorities", in: root, "the priority scale, highest first, e.g. [\"P1\",\"P2\",\"P3\"]")
        let priorities = try prioritiesNode.array().map { try $0.nonEmptyString() }
        guard !priorities.isEmpty else { throw prioritiesNode.error("expected at least one priority") }
        guard Set(priorities).count == priorities.count else { throw prioritiesNode.error("expected distinct priorities") }

        var caps: [String: String] = [:]
        for (key, node) in try o["contactOpeningCaps"]?.object() ?? [:] {
            let to = try node.string()
            guard priorities.contains(key), priorities.contains(to) else {
                throw node.error("expected a cap between priorities of \(priorities.joined(separator: ", ")), found \"\(key)\" -> \"\(to)\"")
            }
            caps[key] = to
        }
        let regionsNode = try o.required("calendarByRegion", in: root, "an object of region to calendar name (\"*\" for any region)")
        var byRegion: [String: String] = [:]
        for (key, node) in try regionsNode.object() { byRegion[key] = try node.nonEmptyString() }
        guard !byRegion.isEmpty else { throw regionsNode.error("expected at least one region or \"*\"") }

        let targetsNode = try o.required("targets", in: root, "an object of priority to targets")
        var targets: [String: [SLATarget: TargetDuration]] = [:]
        for (priority, node) in try targetsNode.object() {
            guard priorities.contains(priority) else {
                throw node.error("unknown priority \"\(priority)\"; expected one of \(priorities.joined(separator: ", "))")
            }
            var perTarget: [SLATarget: TargetDuration] = [:]
            for (key, dnode) in try node.object(allowed: Set(SLATarget.allCases.map(\.rawValue))) {
                guard let target = SLATarget(rawValue: key) else { continue }
                perTarget[target] = try duration(dnode)
            }
            targets[priority] = perTarget
        }

        let defaults = SupportPolicy(name: name, priorities: priorities, calendarByRegion: byRegion, targets: [:])
        let shareNode = o["atRiskShare"]
        let share = try shareNode?.number() ?? defaults.atRiskShare
        if let shareNode, !(share > 0 && share < 1) {
            throw shareNode.error("expected a share between 0 and 1 exclusive, e.g. 0.75, found \(share)")
        }
        let minContacts = try o["designatedContactsMin"]?.int(in: 0...1000) ?? defaults.designatedContactsMin
        let maxNode = o["designatedContactsMax"]
        let maxContacts = try maxNode?.int(in: 0...1000) ?? defaults.designatedContactsMax
        if let maxNode, maxContacts < minContacts {
            throw maxNode.error("expected at least designatedContactsMin (\(minContacts)), found \(maxContacts)")
        }
        return SupportPolicy(
            name: name, version: version, priorities: priorities, contactOpeningCaps: caps,
            calendarByRegion: byRegion, targets: targets,
            pauseWhileAwaitingCustomer: try o["pauseWhileAwaitingCustomer"]?.bool() ?? defaults.pauseWhileAwaitingCustomer,
            atRiskShare: share,
            autoCloseDays: try o["autoCloseDays"]?.int(in: 0...3650) ?? defaults.autoCloseDays,
            reopenWindowDays: try o["reopenWindowDays"]?.int(in: 0...3650) ?? defaults.reopenWindowDays,
            surveyAnswerDays: try o["surveyAnswerDays"]?.int(in: 0...3650) ?? defaults.surveyAnswerDays,
            designatedContactsMin: minContacts, designatedContactsMax: maxContacts,
            attachmentMaxBytes: Int64(try o["attachmentMaxBytes"]?.int(in: 1...Int.max) ?? Int(defaults.attachmentMaxBytes)),
            customerEscalationAnyTime: try o["customerEscalationAnyTime"]?.bool() ?? defaults.customerEscalationAnyTime)
    }

    /// `{"wallClockHours": h}`, `{"businessHours": h}` or `{"businessDays": n}`.
    static func duration(_ node: JSONNode) throws -> TargetDuration {
        let shape = "expected an object with one of \(durationKeys.joined(separator: ", "))"
        guard case .object(let dict) = node.value, dict.count == 1, let key = dict.keys.first,
              durationKeys.contains(key), let raw = dict[key] else {
            throw node.error(shape)
        }
        let value = node.child(key, raw)
        if key == "businessDays" {
            return .businessDays(try value.int(in: 1...3650))
        }
        let hours = try value.number()
        let seconds = (hours * 3600).rounded()
        guard hours > 0, seconds >= 1, seconds < 1e12 else {
            throw value.error("expected a positive number of hours, found \(hours)")
        }
        return key == "wallClockHours" ? .wallClock(seconds: Int64(seconds)) : .businessTime(seconds: Int64(seconds))
    }
}

extension SupportPolicy {
    /// The target's length for a priority, or `nil` when the policy has no such clock (DOMAIN.md §4).
    public func duration(for priority: String, target: SLATarget) -> TargetDuration? {
        targets[priority]?[target]
    }

    /// The measure a target of this kind counts in: wall-clock time (R4.2) or the calendar (R4.1, R4.3).
    public func measure(for duration: TargetDuration, calendar: BusinessCalendar) -> any TimeMeasure {
        duration.measure(calendar: calendar)
    }

    /// Regions named by ``calendarByRegion`` (without the `"*"` default), sorted.
    public var regions: [String] { calendarByRegion.keys.filter { $0 != "*" }.sorted() }
}

extension TargetDuration {
    /// ``WallClockTime`` for a wall-clock target, else `calendar`.
    public func measure(calendar: BusinessCalendar) -> any TimeMeasure {
        isBusinessTime ? calendar : WallClockTime()
    }
}
