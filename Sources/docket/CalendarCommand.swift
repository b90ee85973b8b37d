import ArgumentParser
import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation

/// `docket calendar ...`: business calendars (DOMAIN.md §4.1).
struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Business calendars: opening hours, holidays, half-days, bridge days and closures.",
        discussion: """
            Calendars are data (JSON files embedded in this binary). Use \
            --calendars-dir to read another directory of calendar files instead, and --data-dir to \
            add the versions recorded in a data directory's log (record-calendar-version, R4.9).
            """,
        subcommands: [CalendarShowCommand.self]
    )
}

/// Where calendars and policies come from: the embedded copies, or directories.
struct CatalogOptions: ParsableArguments {
    @Option(name: .customLong("calendars-dir"), help: ArgumentHelp(
        "Read calendars from this directory of *.json files instead of the embedded ones.",
        discussion: "Commands that open a data directory add the versions recorded in its log; the log wins where both define a version.",
        valueName: "dir"))
    var calendarsDir: String?

    @Option(name: .customLong("policies-dir"), help: ArgumentHelp(
        "Read policies from this directory of *.json files instead of the embedded ones.", valueName: "dir"))
    var policiesDir: String?

    /// The catalog to use; load errors name the file and JSON path.
    func load() throws -> PolicyCatalog {
        if calendarsDir == nil && policiesDir == nil { return try PolicyCatalog.shipped() }
        let calendars = try calendarsDir.map { try PolicyCatalog.readDirectory(URL(fileURLWithPath: $0)) }
            ?? PolicyCatalog.shippedCalendarFiles
        let policies = try policiesDir.map { try PolicyCatalog.readDirectory(URL(fileURLWithPath: $0)) }
            ?? PolicyCatalog.shippedPolicyFiles
        return try PolicyCatalog.load(calendars: calendars, policies: policies)
    }

    /// The catalog in force for the data directory of `log` (R4.9): these files plus every
    /// policy and calendar version recorded in the log; where both define a name and
    /// version differently the log's wins, with a warning on stderr naming both.
    func load(log: EventLog) throws -> PolicyCatalog {
        try PolicyCatalog.inForce(base: load(), log: log, logger: cliLogger)
    }
}

/// `--data-dir` for the commands that read calendars and policies without working on a data
/// directory (`calendar show`, `sla due`): when given, the versions recorded in its log are
/// added to the files (R4.9), as `docket serve` has them.
struct RecordedVersionsOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "Also use the policy and calendar versions recorded in this data directory's log.",
        discussion: "Versions recorded through the API (record-calendar-version, record-policy-version) are in force for docket serve but are in no file; without this option only the files are read.",
        valueName: "dir"))
    var dataDir: String?

    /// The files of `files`, plus the versions the log of `--data-dir` holds when given.
    func load(_ files: CatalogOptions) throws -> PolicyCatalog {
        guard let dataDir else { return try files.load() }
        guard FileManager.default.fileExists(atPath: dataDir) else {
            throw CLIFailure(message: "--data-dir \(dataDir): no such directory; give the data directory of docket serve (or leave the option out to read the files only)",
                             code: Exit.noInput)
        }
        let log = try EventLog.open(directory: dataDir, create: false, logger: cliLogger)
        defer { log.close() }
        return try files.load(log: log)
    }
}

/// A bad-input failure: printed as one line on stderr, exit status 64.
struct CLIInputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`; any error becomes one line `docket: <message>` on stderr and a non-zero exit.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        if let known = knownFailure(error) {
            printError("docket: \(known.message)")
            throw ExitCode(known.code)
        }
        let message = "docket: \(String(describing: error))\n"
        FileHandle.standardError.write(Data(message.utf8))
        throw error is CLIInputError || error is PolicyError ? ExitCode.validationFailure : ExitCode.failure
    }
}

/// The JSON form of one calendar day (schemas/cli/calendar-show.schema.json).
struct CalendarDayJSON: Encodable {
    var date: String
    var kind: String
    var name: String?
    var intervals: [[String]]
}

/// Encodes with sorted keys and no escaped slashes; pretty-printed unless `compact`.
func encodeJSON(_ value: some Encodable, compact: Bool = false) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `docket calendar show`: one line (or JSON object) per day.
struct CalendarShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show each day of a date range as the calendar sees it.",
        discussion: """
            For every date from --from to --to (inclusive, at most 3660 days) prints the kind of \
            day and its opening hours in the calendar's own time zone.

            Kinds: open (weekly hours), half-day (shortened hours), weekend (no weekly hours), \
            holiday (a generated or dated holiday or extra closed day, also on a weekend), \
            bridge (an open day closed by the bridge-day rule), closure (an announced ad-hoc closure).

            --format json prints a JSON array, one object per day: "date" (YYYY-MM-DD), "kind", \
            "name" (holiday, closure, bridge or half-day name, when any) and "intervals" (a list \
            of ["HH:MM","HH:MM"] pairs in the calendar's zone; empty on closed days).

            Example: docket calendar show --calendar sweden --from 2024-06-17 --to 2024-06-23 --format json
            """
    )

    @Option(help: "Calendar name, e.g. sweden, uk, americas, apac, europe.")
    var calendar: String

    @Option(help: ArgumentHelp("First date, YYYY-MM-DD.", valueName: "date"))
    var from: String

    @Option(help: ArgumentHelp("Last date (inclusive), YYYY-MM-DD.", valueName: "date"))
    var to: String

    @Option(help: "Output format: text (a table) or json.")
    var format: OutputFormat = .text

    @Option(help: ArgumentHelp("This version of the calendar (default: the latest).", valueName: "n"))
    var version: Int?

    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var recorded: RecordedVersionsOptions

    /// Output formats.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    func run() async throws {
        try reportingErrors {
            guard let first = CivilDate(iso: from) else { throw CLIInputError("--from \(from): expected a date YYYY-MM-DD") }
            guard let last = CivilDate(iso: to) else { throw CLIInputError("--to \(to): expected a date YYYY-MM-DD") }
            guard first <= last else { throw CLIInputError("--from \(first) is after --to \(last); expected from <= to") }
            guard last.dayNumber - first.dayNumber < 3660 else {
                throw CLIInputError("--from \(first) to --to \(last) is more than 3660 days; ask for a shorter range")
            }
            let loaded = try recorded.load(catalog)
            let cal = try loaded.calendar(named: calendar, version: version)
            let days = (first.dayNumber...last.dayNumber).map { cal.day(on: CivilDate(dayNumber: $0)) }
            switch format {
            case .json:
                // A JSON array with one compact object per line.
                let lines = try days.map {
                    try encodeJSON(CalendarDayJSON(date: $0.date.description, kind: $0.kind.rawValue, name: $0.name,
                                                   intervals: $0.intervals.map { [$0.start.description, $0.end.description] }),
                                   compact: true)
                }
                print("[\n  " + lines.joined(separator: ",\n  ") + "\n]")
            case .text:
                let since = loaded.calendarInForce(named: cal.name, version: cal.version) ?? 0
                let inForce = since > 0 ? "; recorded at log position \(since), in force from there" : ""
                print("\(cal.name) version \(cal.version), \(cal.definition.timeZone), standard day \(cal.definition.standardDayHours) h\(inForce)")
                print("DATE        DAY  KIND      HOURS                     NAME")
                for d in days {
                    let hours = d.intervals.isEmpty ? "-" : d.intervals.map(\.description).joined(separator: ", ")
                    let day = d.date.weekday.key.prefix(1).uppercased() + d.date.weekday.key.dropFirst()
                    print("\(d.date)  \(day)  \(pad(d.kind.rawValue, 8))  \(pad(hours, 24))  \(d.name ?? "")"
                        .trimmingCharacters(in: .whitespaces))
                }
            }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
