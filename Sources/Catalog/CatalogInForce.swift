import CaseDomain
import EventLog
import Foundation
import Logging
import Synchronization

/// One policy or calendar version as recorded in the event log (R4.9): what the
/// `policy-version-recorded` / `calendar-version-recorded` event said, decoded and built.
public struct RecordedCatalogVersion: Sendable {
    /// A policy or a calendar, built from the event's `content`.
    public enum Entry: Sendable {
        /// A support policy version.
        case policy(SupportPolicy)
        /// A business calendar version.
        case calendar(BusinessCalendar)
    }

    /// The version.
    public var entry: Entry
    /// The stream it was recorded on (`policy-<name>`, `calendar-<name>`).
    public var stream: String
    /// Its position in the log (0 when it was not appended yet, e.g. decided in a batch).
    public var position: UInt64

    /// `policy concur-standard v2` or `calendar sweden v3`.
    public var label: String {
        switch entry {
        case .policy(let p): "policy \(p.name) v\(p.version)"
        case .calendar(let c): "calendar \(c.name) v\(c.version)"
        }
    }

    /// Creates a recorded version.
    public init(entry: Entry, stream: String, position: UInt64) {
        self.entry = entry
        self.stream = stream
        self.position = position
    }

    /// `versions` a version command decided (position 0, not appended yet) at the positions
    /// its events were appended at: the command's events are its versions, in order. From
    /// there each is in force for the projections and replays (R4.9).
    public static func appended(_ versions: [RecordedCatalogVersion], at positions: [UInt64]) -> [RecordedCatalogVersion] {
        versions.enumerated().map { i, v in
            var placed = v
            placed.position = i < positions.count ? positions[i] : positions.last ?? v.position
            return placed
        }
    }

    /// Builds the version a version event records: decodes its JSON `content`
    /// (``SupportPolicy/decode(from:file:)``, ``CalendarDefinition/decode(from:file:)``) and
    /// checks that the content's name and version are the event's.
    ///
    /// `reuse` is the catalog already held: a calendar whose definition equals the one held
    /// under the same name and version is taken from it rather than built again (building a
    /// calendar precomputes a century of days).
    /// - Throws: ``DataLoadError`` naming `where` and the JSON path of what is wrong.
    public static func make(_ event: VersionEvent, stream: String, position: UInt64, where place: String,
                            reuse: PolicyCatalog? = nil) throws -> RecordedCatalogVersion {
        switch event {
        case .policyVersionRecorded(let e):
            let policy = try SupportPolicy.decode(from: Data(e.content.utf8), file: place)
            try checkIdentity(kind: "policy", content: (policy.name, policy.version), event: (e.name, e.version), place: place)
            return RecordedCatalogVersion(entry: .policy(policy), stream: stream, position: position)
        case .calendarVersionRecorded(let e):
            let definition = try CalendarDefinition.decode(from: Data(e.content.utf8), file: place)
            try checkIdentity(kind: "calendar", content: (definition.name, definition.version), event: (e.name, e.version), place: place)
            if let held = reuse?.calendar(named: definition.name, exactVersion: definition.version), held.definition == definition {
                return RecordedCatalogVersion(entry: .calendar(held), stream: stream, position: position)
            }
            return RecordedCatalogVersion(entry: .calendar(try BusinessCalendar(definition)), stream: stream, position: position)
        }
    }

    private static func checkIdentity(kind: String, content: (name: String, version: Int), event: (name: String, version: Int),
                                      place: String) throws {
        guard content == event else {
            throw DataLoadError(file: place, path: "$",
                                message: "the content is \(kind) \(content.name) version \(content.version), but the command or event records \(kind) \(event.name) version \(event.version); they must be the same")
        }
    }
}

extension PolicyCatalog {
    /// The catalog in force for a data directory (R4.9): `base` (the shipped files, or the
    /// files given with `--calendars-dir` / `--policies-dir`) plus every policy and calendar
    /// version recorded in `log`.
    ///
    /// - Finds the version streams from the key-ordered stream heads
    ///   (``EventLog/streams(after:limit:)``) under the prefixes `calendar-` and `policy-`,
    ///   and reads only those streams, not the whole log.
    /// - When the log and `base` define the same name and version with different content,
    ///   the log wins (it is what cases were decided with) and a warning names both.
    /// - A recorded version that cannot be used (its content does not decode, names another
    ///   name or version than its event, or a policy names a calendar held nowhere) is left
    ///   out with an error naming its stream and position, so the rest stays usable; cases
    ///   that kept such a policy version show no deadlines until it is recorded correctly.
    /// - Throws: when the log cannot be read.
    public static func inForce(base: PolicyCatalog, log: EventLog, logger: Logger) throws -> PolicyCatalog {
        let versions = try recordedVersions(in: log, reuse: base, logger: logger)
        return base.including(versions, logger: logger)
    }

    /// Every policy and calendar version recorded in `log`, in stream then version order.
    /// Versions that cannot be decoded are logged (error) and left out.
    public static func recordedVersions(in log: EventLog, reuse: PolicyCatalog? = nil, logger: Logger) throws -> [RecordedCatalogVersion] {
        var out: [RecordedCatalogVersion] = []
        for prefix in ["calendar-", "policy-"] {
            var after = prefix
            scan: while true {
                let heads = try log.streams(after: after, limit: 256)
                for head in heads {
                    guard head.stream.hasPrefix(prefix) else { break scan }
                    out += try versions(inStream: head.stream, log: log, reuse: reuse, logger: logger)
                    after = head.stream
                }
                if heads.count < 256 { break }
            }
        }
        return out
    }

    private static func versions(inStream stream: String, log: EventLog, reuse: PolicyCatalog?, logger: Logger) throws
        -> [RecordedCatalogVersion]
    {
        var out: [RecordedCatalogVersion] = []
        var next: UInt64 = 0
        while true {
            let page = try log.readStream(stream, from: next, limit: 256)
            for recorded in page {
                guard recorded.type == PolicyVersionRecorded.type || recorded.type == CalendarVersionRecorded.type else { continue }
                let place = "\(stream) position \(recorded.position)"
                do {
                    let event = try VersionEvent.decode(type: recorded.type, schemaVersion: Int(recorded.schemaVersion),
                                                        payload: recorded.payload)
                    out.append(try RecordedCatalogVersion.make(event, stream: stream, position: recorded.position,
                                                               where: place, reuse: reuse))
                } catch {
                    logger.error("a recorded policy or calendar version cannot be used; it is left out of the catalog (record a corrected version)",
                                 metadata: ["stream": "\(stream)", "position": "\(recorded.position)", "error": "\(error)"])
                }
            }
            guard page.count == 256, let last = page.last else { return out }
            next = last.version + 1
        }
    }

    /// Whether this catalog holds `version` with the same content (nothing to add).
    public func holds(_ version: RecordedCatalogVersion) -> Bool {
        switch version.entry {
        case .calendar(let c): calendar(named: c.name, exactVersion: c.version)?.definition == c.definition
        case .policy(let p): policy(named: p.name, exactVersion: p.version) == p
        }
    }

    /// This catalog with `versions` added, each replacing an entry of the same name and
    /// version (with a warning naming both when their content differs), and each calendar
    /// version in force from its position (``PolicyCatalog/recording(calendars:)``).
    /// Calendars go in first, so a recorded policy may name a recorded calendar; a policy
    /// naming a calendar held nowhere is left out with an error.
    public func including(_ versions: [RecordedCatalogVersion], logger: Logger) -> PolicyCatalog {
        var calendars: [(calendar: BusinessCalendar, position: UInt64)] = []
        var policies: [(SupportPolicy, RecordedCatalogVersion)] = []
        for v in versions {
            switch v.entry {
            case .calendar(let c):
                if let held = calendar(named: c.name, exactVersion: c.version), held.definition != c.definition {
                    logger.warning("calendar \(c.name) version \(c.version) differs between the calendar files and the event log; using the log's (what cases were decided with)",
                                   metadata: ["file": "\(c.name) v\(c.version) (files)", "log": "\(v.stream) position \(v.position)"])
                }
                calendars.append((c, v.position))
            case .policy(let p):
                if let held = policy(named: p.name, exactVersion: p.version), held != p {
                    logger.warning("policy \(p.name) version \(p.version) differs between the policy files and the event log; using the log's (what cases were decided with)",
                                   metadata: ["file": "\(p.name) v\(p.version) (files)", "log": "\(v.stream) position \(v.position)"])
                }
                policies.append((p, v))
            }
        }
        // Each calendar version is in force from the position that recorded it (R4.9).
        var result = recording(calendars: calendars)
        for (p, v) in policies {
            do {
                result = try result.replacing(policies: [p])
            } catch {
                logger.error("a recorded policy version names a calendar held nowhere; it is left out of the catalog (record the calendar, then the policy again)",
                             metadata: ["stream": "\(v.stream)", "position": "\(v.position)", "error": "\(error)"])
            }
        }
        return result
    }
}

/// The policies and calendars in force, shared by everything that decides or projects in
/// one process (`docket serve`): the ``CommandHandler``, the case projection and the
/// deadline scheduler read it, and the handler adds a version to it as soon as a
/// `record-policy-version` / `record-calendar-version` command is appended (R4.9: a
/// calendar change applies to clocks still running, without a restart).
///
/// Reads take a `Mutex` and copy nothing but the looked-up value; updates replace the whole
/// catalog under the lock, so a reader sees either the old or the new catalog.
public final class LiveCatalog: Sendable {
    private let box: Mutex<PolicyCatalog>

    /// A holder starting with `catalog`.
    public init(_ catalog: PolicyCatalog) {
        box = Mutex(catalog)
    }

    /// The catalog now (a copy: later updates do not change it).
    public var current: PolicyCatalog { box.withLock { $0 } }

    /// Replaces the catalog.
    public func replace(with catalog: PolicyCatalog) {
        box.withLock { $0 = catalog }
    }

    /// A calendar by name, latest version (running clocks use the latest, R4.9); `nil` when unknown.
    public func calendar(named name: String) -> BusinessCalendar? {
        box.withLock { try? $0.calendar(named: name) }
    }

    /// A policy by name and version (latest when `nil`); `nil` when unknown.
    public func policy(named name: String, version: Int?) -> SupportPolicy? {
        box.withLock { try? $0.policy(named: name, version: version) }
    }

    /// A calendar by name as it was in force at log position `position`
    /// (``PolicyCatalog/calendar(named:asOf:)``); `nil` when unknown.
    public func calendar(named name: String, asOf position: UInt64) -> BusinessCalendar? {
        box.withLock { $0.calendar(named: name, asOf: position) }
    }

    /// The measure provider counting business time with the calendars in force at log
    /// position `position` (a row derived for the event there, R4.9).
    public func measures(asOf position: UInt64) -> CalendarMeasureProvider {
        CalendarMeasureProvider { [self] name in calendar(named: name, asOf: position) }
    }

    /// Adds recorded versions (each replacing an entry of the same name and version), atomically.
    public func include(_ versions: [RecordedCatalogVersion], logger: Logger) {
        guard !versions.isEmpty else { return }
        box.withLock { $0 = $0.including(versions, logger: logger) }
    }
}
