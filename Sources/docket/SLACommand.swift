import ArgumentParser
import CaseDomain
import Foundation

/// `docket sla ...`: SLA deadlines (DOMAIN.md §4.2).
struct SLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "SLA deadlines computed from support policies and business calendars.",
        subcommands: [SLADueCommand.self]
    )
}

/// The JSON printed by `docket sla due` (schemas/cli/sla-due.schema.json).
struct SLADueJSON: Encodable {
    struct Pause: Encodable {
        var start: String
        var end: String
    }
    var policy: String
    var version: Int
    var calendar: String
    var calendarVersion: Int
    var timeZone: String
    var region: String?
    var priority: String
    var target: String
    var kind: String
    var targetSeconds: Int64
    var businessSeconds: Int64
    var from: String
    var due: String
    var pauses: [Pause]
}

/// `docket sla due`: the deadline of one target.
struct SLADueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due",
        abstract: "Compute when one SLA target of a case falls due.",
        discussion: """
            Looks up the policy's target for the priority, picks the calendar for the region, \
            starts the clock at --from (at the next opening when that is outside business hours, \
            R4.1), stops it during each --pause (R4.5: counted in the target's own kind of time, so \
            a closed weekend spent waiting costs and credits nothing) and prints one JSON object:

              due              the deadline, ISO 8601 UTC ("Z"), whole seconds
              businessSeconds  the target's length in seconds of its own kind of time
                               (business time for business hours/days, else wall-clock)
              targetSeconds    the same number
              kind             "business" or "wall-clock"
              policy, version, calendar, calendarVersion, timeZone, region, priority, target,
              from, pauses     what was used

            Example:
              docket sla due --policy concur-standard --region europe --priority P2 \\
                --target response --from 2024-03-01T16:00:00Z \\
                --pause 2024-03-01T16:30:00Z/2024-03-04T10:00:00Z
            """
    )

    @Option(help: "Policy name: concur-standard, concep-sla, genesys-cloud, timecare-se.")
    var policy: String

    @Option(name: .customLong("policy-version"), help: "Policy version (default: the latest).")
    var policyVersion: Int?

    @Option(help: "Case region (picks the calendar when the policy maps calendars by region).")
    var region: String?

    @Option(help: "Priority on the policy's scale, e.g. P1, sev2, critical.")
    var priority: String

    @Option(help: "Target: response, restoration, resolution or update.")
    var target: String

    @Option(help: ArgumentHelp("When the clock starts, ISO 8601 with a zone, e.g. 2024-03-04T09:00:00Z.", valueName: "instant"))
    var from: String

    @Option(help: ArgumentHelp("A pause START/END (ISO 8601 instants); repeatable.", valueName: "start/end"))
    var pause: [String] = []

    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var recorded: RecordedVersionsOptions

    func run() async throws {
        try reportingErrors {
            guard let slaTarget = SLATarget(rawValue: target) else {
                throw CLIInputError("--target \(target): expected one of response, restoration, resolution, update")
            }
            guard let start = parseInstant(from) else {
                throw CLIInputError("--from \(from): expected an ISO 8601 instant with a zone, e.g. 2024-03-04T09:00:00Z")
            }
            let pauses = try pause.map { text -> ClockInterval in
                let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, let s = parseInstant(parts[0]), let e = parseInstant(parts[1]) else {
                    throw CLIInputError("--pause \(text): expected START/END, two ISO 8601 instants")
                }
                guard s < e else { throw CLIInputError("--pause \(text): the start must be before the end") }
                return ClockInterval(start: s, end: e, reason: "awaiting-customer")
            }.sorted { $0.start < $1.start }
            let resolved = try recorded.load(catalog).resolve(policy: policy, version: policyVersion, region: region,
                                                      priority: priority, target: slaTarget)
            var clock = SLAClock(target: slaTarget, duration: resolved.duration, startedAt: start)
            clock.pauses = pauses
            guard let due = clock.deadline(measure: resolved.measure) else {
                throw CLIInputError("no deadline: the clock is paused")
            }
            let output = SLADueJSON(
                policy: resolved.policy.name, version: resolved.policy.version, calendar: resolved.calendar.name,
                calendarVersion: resolved.calendar.version, timeZone: resolved.calendar.definition.timeZone,
                region: region, priority: priority, target: slaTarget.rawValue,
                kind: resolved.duration.isBusinessTime ? "business" : "wall-clock",
                targetSeconds: resolved.targetSeconds, businessSeconds: resolved.targetSeconds,
                from: formatInstant(start), due: formatInstant(due),
                pauses: pauses.map { .init(start: formatInstant($0.start), end: formatInstant($0.end ?? $0.start)) })
            print(try encodeJSON(output))
        }
    }
}

/// Parses an RFC 3339 instant (`Z` or `±HH:MM`, optional fractions), by hand (``RFC3339``):
/// no formatter per call. `nil` when `text` is not one; ``RFC3339/parse(_:)`` says why.
func parseInstant(_ text: String) -> Date? {
    try? RFC3339.parse(text)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds, rounded down).
func formatInstant(_ date: Date) -> String {
    let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    return String(DomainTime.format(whole).prefix(19)) + "Z"
}
