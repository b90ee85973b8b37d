import Foundation

/// A lookup that cannot be answered from a ``PolicyCatalog``: each case says what was
/// asked and what would have been accepted.
public enum PolicyError: Error, CustomStringConvertible, Hashable, Sendable {
    /// No policy of that name (or version).
    case unknownPolicy(String, version: Int?, known: [String])
    /// No calendar of that name (or version).
    case unknownCalendar(String, version: Int?, known: [String])
    /// A policy names a calendar the catalog does not hold.
    case policyNamesUnknownCalendar(policy: String, region: String, calendar: String, known: [String])
    /// The policy maps calendars by region, has no default, and no (or an unknown) region was given.
    case regionRequired(policy: String, given: String?, regions: [String])
    /// The priority is not on the policy's scale.
    case unknownPriority(policy: String, priority: String, known: [String])
    /// The policy has no clock for this target at this priority.
    case noTarget(policy: String, target: SLATarget, priority: String)
    /// Two files define the same name and version.
    case duplicate(kind: String, name: String, version: Int, files: [String])

    /// One line saying what was wrong and what would be right.
    public var description: String {
        switch self {
        case .unknownPolicy(let name, let version, let known):
            return "unknown policy \(name)\(version.map { " version \($0)" } ?? ""); known policies: \(known.joined(separator: ", "))"
        case .unknownCalendar(let name, let version, let known):
            return "unknown calendar \(name)\(version.map { " version \($0)" } ?? ""); known calendars: \(known.joined(separator: ", "))"
        case .policyNamesUnknownCalendar(let policy, let region, let calendar, let known):
            return "policy \(policy) maps region \(region) to unknown calendar \(calendar); known calendars: \(known.joined(separator: ", "))"
        case .regionRequired(let policy, let given, let regions):
            let what = given.map { "unknown region \($0)" } ?? "a region is required"
            return "policy \(policy) picks its calendar by region: \(what); regions: \(regions.joined(separator: ", "))"
        case .unknownPriority(let policy, let priority, let known):
            return "policy \(policy) has no priority \(priority); priorities: \(known.joined(separator: ", "))"
        case .noTarget(let policy, let target, let priority):
            return "policy \(policy) has no \(target.rawValue) target for \(priority)"
        case .duplicate(let kind, let name, let version, let files):
            return "\(kind) \(name) version \(version) is defined twice: \(files.joined(separator: ", "))"
        }
    }
}

/// One file's name and contents, for loading from memory.
public struct NamedData: Sendable, Hashable {
    /// Name used in errors, e.g. `calendars/sweden.json`.
    public var name: String
    /// The bytes.
    public var data: Data

    /// Creates a named blob.
    public init(name: String, data: Data) {
        self.name = name
        self.data = data
    }
}

/// Everything a target's clock needs: the duration, the measure it counts in, and where they came from.
public struct ResolvedTarget: Sendable {
    /// The policy (the exact version used).
    public var policy: SupportPolicy
    /// The calendar of the case's region (used for business time and business days).
    public var calendar: BusinessCalendar
    /// The priority.
    public var priority: String
    /// The target.
    public var target: SLATarget
    /// Its length.
    public var duration: TargetDuration
    /// Wall-clock time or the calendar, depending on ``duration``.
    public var measure: any TimeMeasure
    /// The target in seconds of its own kind of time.
    public var targetSeconds: Int64 { duration.seconds(standardDaySeconds: calendar.standardDaySeconds) }
}

/// Support policies and business calendars by name and version (R4.9), checked against each
/// other: every calendar a policy names exists.
public struct PolicyCatalog: Sendable {
    private var policyVersions: [String: [Int: SupportPolicy]]
    private var calendarVersions: [String: [Int: BusinessCalendar]]
    /// Per calendar name and version, the log position from which a version only the event
    /// log holds is in force (R4.9); a version of the calendar files has no entry: it is in
    /// force from the start of the log.
    private var calendarSince: [String: [Int: UInt64]] = [:]

    /// Builds a catalog; refuses duplicates and policies naming unknown calendars.
    public init(policies: [SupportPolicy], calendars: [BusinessCalendar]) throws {
        var cals: [String: [Int: BusinessCalendar]] = [:]
        for c in calendars {
            if cals[c.name]?[c.version] != nil {
                throw PolicyError.duplicate(kind: "calendar", name: c.name, version: c.version, files: [c.name, c.name])
            }
            cals[c.name, default: [:]][c.version] = c
        }
        var pols: [String: [Int: SupportPolicy]] = [:]
        for p in policies {
            if pols[p.name]?[p.version] != nil {
                throw PolicyError.duplicate(kind: "policy", name: p.name, version: p.version, files: [p.name, p.name])
            }
            for (region, cal) in p.calendarByRegion.sorted(by: { $0.key < $1.key }) where cals[cal] == nil {
                throw PolicyError.policyNamesUnknownCalendar(policy: p.name, region: region, calendar: cal,
                                                             known: cals.keys.sorted())
            }
            pols[p.name, default: [:]][p.version] = p
        }
        policyVersions = pols
        calendarVersions = cals
    }

    /// Loads calendar and policy files from memory. Errors name the file and JSON path
    /// (``DataLoadError``); a policy naming an unknown calendar is refused with an error
    /// naming the policy file.
    public static func load(calendars: [NamedData], policies: [NamedData]) throws -> PolicyCatalog {
        var defs: [(NamedData, CalendarDefinition)] = []
        for file in calendars { defs.append((file, try CalendarDefinition.decode(from: file.data, file: file.name))) }
        var seen: [String: String] = [:]
        for (file, def) in defs {
            let key = "\(def.name)#\(def.version)"
            if let other = seen[key] {
                throw PolicyError.duplicate(kind: "calendar", name: def.name, version: def.version, files: [other, file.name])
            }
            seen[key] = file.name
        }
        let known = Set(defs.map(\.1.name))
        var pols: [SupportPolicy] = []
        var seenPolicies: [String: String] = [:]
        for file in policies {
            let p = try SupportPolicy.decode(from: file.data, file: file.name)
            for (region, cal) in p.calendarByRegion.sorted(by: { $0.key < $1.key }) where !known.contains(cal) {
                throw DataLoadError(file: file.name, path: JSONNode.path("$.calendarByRegion", region),
                                    message: "unknown calendar \"\(cal)\"; expected one of \(known.sorted().joined(separator: ", "))")
            }
            let key = "\(p.name)#\(p.version)"
            if let other = seenPolicies[key] {
                throw PolicyError.duplicate(kind: "policy", name: p.name, version: p.version, files: [other, file.name])
            }
            seenPolicies[key] = file.name
            pols.append(p)
        }
        // Build the engines last: refusing a bad file should not wait for precomputation.
        let cals = try defs.map { try BusinessCalendar($0.1) }
        return try PolicyCatalog(policies: pols, calendars: cals)
    }

    /// Loads every `*.json` file (except `*.schema.json`) of two directories.
    /// This reads files: call it from the edge of the system, not from domain logic.
    public static func load(calendarsDirectory: URL, policiesDirectory: URL) throws -> PolicyCatalog {
        try load(calendars: readDirectory(calendarsDirectory), policies: readDirectory(policiesDirectory))
    }

    /// Reads every `*.json` file (except `*.schema.json`) of a directory, sorted by name.
    /// - Throws: ``DataLoadError`` naming the directory or file that cannot be read.
    public static func readDirectory(_ dir: URL) throws -> [NamedData] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        } catch {
            throw DataLoadError(file: dir.path, path: "$", message: "cannot list directory: expected a readable directory of *.json files")
        }
        return try names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".schema.json") }.sorted().map { name in
            let url = dir.appendingPathComponent(name)
            do {
                return NamedData(name: url.path, data: try Data(contentsOf: url))
            } catch {
                throw DataLoadError(file: url.path, path: "$", message: "cannot read file")
            }
        }
    }

    /// The embedded calendar files, named `calendars/<file>`.
    public static var shippedCalendarFiles: [NamedData] {
        ShippedData.calendars.map { NamedData(name: "calendars/\($0.file)", data: Data($0.contents.utf8)) }
    }

    /// The embedded policy files, named `policies/<file>`.
    public static var shippedPolicyFiles: [NamedData] {
        ShippedData.policies.map { NamedData(name: "policies/\($0.file)", data: Data($0.contents.utf8)) }
    }

    private static let shippedResult: Result<PolicyCatalog, any Error> = Result {
        try load(calendars: shippedCalendarFiles, policies: shippedPolicyFiles)
    }

    /// The calendars and policies shipped in `schemas/`, embedded in the binary (parsed once).
    public static func shipped() throws -> PolicyCatalog { try shippedResult.get() }

    /// Policy names, sorted.
    public var policyNames: [String] { policyVersions.keys.sorted() }
    /// Calendar names, sorted.
    public var calendarNames: [String] { calendarVersions.keys.sorted() }
    /// Every policy version, by name then version.
    public var policies: [SupportPolicy] {
        policyVersions.keys.sorted().flatMap { n in (policyVersions[n] ?? [:]).values.sorted { $0.version < $1.version } }
    }
    /// Every calendar version, by name then version.
    public var calendars: [BusinessCalendar] {
        calendarVersions.keys.sorted().flatMap { n in (calendarVersions[n] ?? [:]).values.sorted { $0.version < $1.version } }
    }

    /// A policy by name; the latest version unless `version` is given (a case keeps its version, R4.9).
    public func policy(named name: String, version: Int? = nil) throws -> SupportPolicy {
        guard let versions = policyVersions[name],
              let p = version.map({ versions[$0] }) ?? versions.max(by: { $0.key < $1.key })?.value else {
            throw PolicyError.unknownPolicy(name, version: version, known: policyNames)
        }
        return p
    }

    /// A calendar by name; the latest version unless `version` is given. Running clocks use
    /// the latest (R4.9: a calendar change applies to clocks still running).
    public func calendar(named name: String, version: Int? = nil) throws -> BusinessCalendar {
        guard let versions = calendarVersions[name],
              let c = version.map({ versions[$0] }) ?? versions.max(by: { $0.key < $1.key })?.value else {
            throw PolicyError.unknownCalendar(name, version: version, known: calendarNames)
        }
        return c
    }

    /// The log position from which calendar `name` version `version` is in force: 0 for a
    /// version of the calendar files (from the start of the log), the position of the event
    /// that recorded it for a version only the log holds; `nil` when the catalog does not
    /// hold that version.
    public func calendarInForce(named name: String, version: Int) -> UInt64? {
        guard calendarVersions[name]?[version] != nil else { return nil }
        return calendarSince[name]?[version] ?? 0
    }

    /// Calendar `name` as it was in force at log position `position` (R4.9): the latest
    /// version in force at or before that position, so that a row or a replay derived for
    /// an event measures time as it was measured when the event was appended, however many
    /// versions were recorded since. A position before every version held was in force (a
    /// log appended to elsewhere) gets the earliest one. `nil` when no calendar has that name.
    public func calendar(named name: String, asOf position: UInt64) -> BusinessCalendar? {
        guard let versions = calendarVersions[name] else { return nil }
        guard let since = calendarSince[name] else { return versions.max { $0.key < $1.key }?.value }
        var best: Int?
        var earliest: (since: UInt64, version: Int)?
        for version in versions.keys {
            let from = since[version] ?? 0
            if from <= position, version > best ?? .min { best = version }
            if earliest.map({ (from, version) < $0 }) ?? true { earliest = (from, version) }
        }
        return (best ?? earliest?.version).flatMap { versions[$0] }
    }

    /// This catalog with `recorded` calendar versions added, each in force from the log
    /// position that recorded it (R4.9); an entry with the name and version of one already
    /// held replaces it (the event log's versions win over files) and keeps the earlier
    /// start: a version of the files stays in force from the start of the log, and a version
    /// recorded twice from its first recording. Position 0 (not appended yet) means from the start.
    public func recording(calendars recorded: [(calendar: BusinessCalendar, position: UInt64)]) -> PolicyCatalog {
        var copy = self
        for (c, position) in recorded {
            let from = min(copy.calendarInForce(named: c.name, version: c.version) ?? position, position)
            copy.calendarVersions[c.name, default: [:]][c.version] = c
            if from > 0 {
                copy.calendarSince[c.name, default: [:]][c.version] = from
            } else {
                copy.calendarSince[c.name]?[c.version] = nil  // from the start: no entry
            }
        }
        return copy
    }

    /// The calendar a policy uses for a case region (falling back to `"*"`).
    public func calendar(for policy: SupportPolicy, region: String?) throws -> BusinessCalendar {
        guard let name = policy.calendarName(forRegion: region) else {
            throw PolicyError.regionRequired(policy: policy.name, given: region, regions: policy.regions)
        }
        return try calendar(named: name)
    }

    /// The same catalog with `calendar` added as a new version (e.g. after a closure, R4.9).
    public func adding(_ calendar: BusinessCalendar) throws -> PolicyCatalog {
        try PolicyCatalog(policies: policies, calendars: calendars + [calendar])
    }

    /// The same catalog with `policies` and `calendars` added; an entry with the name and
    /// version of one already held replaces it (the event log's versions win over files,
    /// R4.9). Calendars are added before policies, so a new policy may name a new calendar.
    /// - Throws: ``PolicyError/policyNamesUnknownCalendar(policy:region:calendar:known:)``
    ///   when a policy names a calendar the result would not hold; the catalog is unchanged.
    public func replacing(policies newPolicies: [SupportPolicy] = [], calendars newCalendars: [BusinessCalendar] = []) throws
        -> PolicyCatalog
    {
        var cals = calendarVersions
        for c in newCalendars { cals[c.name, default: [:]][c.version] = c }
        var pols = policyVersions
        for p in newPolicies { pols[p.name, default: [:]][p.version] = p }
        for p in newPolicies {
            for (region, cal) in p.calendarByRegion.sorted(by: { $0.key < $1.key }) where cals[cal] == nil {
                throw PolicyError.policyNamesUnknownCalendar(policy: p.name, region: region, calendar: cal, known: cals.keys.sorted())
            }
        }
        var copy = self
        copy.policyVersions = pols
        copy.calendarVersions = cals
        return copy
    }

    /// The policy of exactly this name and version, or `nil` (no fallback to the latest).
    public func policy(named name: String, exactVersion version: Int) -> SupportPolicy? {
        policyVersions[name]?[version]
    }

    /// The calendar of exactly this name and version, or `nil` (no fallback to the latest).
    public func calendar(named name: String, exactVersion version: Int) -> BusinessCalendar? {
        calendarVersions[name]?[version]
    }

    /// Resolves the clock of one target: duration, calendar and the measure to count it in.
    /// - Throws: ``PolicyError`` for an unknown policy, priority or region, or a missing target.
    public func resolve(policy name: String, version: Int? = nil, region: String?, priority: String,
                        target: SLATarget) throws -> ResolvedTarget {
        let p = try policy(named: name, version: version)
        guard p.priorities.contains(priority) else {
            throw PolicyError.unknownPriority(policy: p.name, priority: priority, known: p.priorities)
        }
        guard let duration = p.duration(for: priority, target: target) else {
            throw PolicyError.noTarget(policy: p.name, target: target, priority: priority)
        }
        let cal = try calendar(for: p, region: region)
        return ResolvedTarget(policy: p, calendar: cal, priority: priority, target: target,
                              duration: duration, measure: duration.measure(calendar: cal))
    }
}
