import ArgumentParser
import Audit
import CaseDomain
import EventLog
import Foundation

extension ReplayAggregate: ExpressibleByArgument {}

/// `docket replay case|incident|organisation ID`: an auditor's replay (R9.2).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a case, incident or organisation: every event and the state after it.",
        discussion: """
            For each event: position, time, actor, role, channel, type, and the state it produced \
            (status, priority, owner, every SLA clock with deadline, elapsed and paused, computed with \
            the calendar the policy version the case opened under names, in the version in force where \
            the clock finished or, while it runs, when the event was appended, and the flags with the \
            rule that raised them). --as-of stops at \
            an instant and shows the state then; --at-position stops after a log position. json \
            prints the whole replay as one object, ndjson one object per event. \
            Reads with short read transactions, so it works while the server appends. \
            Policies and calendars: the embedded ones, or --policies-dir/--calendars-dir, plus the \
            versions recorded in the log. \
            Exit codes: 0 ok, 64 bad arguments, 65 the policies or calendars do not load, 66 no such \
            case/incident/organisation or no log, 74 storage error.
            """)

    @OptionGroup var data: DataDirOptions
    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "What to replay: case, incident or organisation.") var aggregate: ReplayAggregate
    @Argument(help: "Its id: the case id (case-<id>), incident number (OPI-<n>) or organisation id (org-<id>).") var id: String
    @Option(help: ArgumentHelp("Stop at this instant (ISO 8601, e.g. 2026-03-02T12:00:00Z) and show the state then.", valueName: "instant"))
    var asOf: String?
    @Option(help: ArgumentHelp("Stop after this log position.", valueName: "position")) var atPosition: UInt64?
    @Option(help: "Output: text, json (one document) or ndjson (one line per event, then a summary line).")
    var format: ReplayFormat = .text

    enum ReplayFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, ndjson
    }

    func validate() throws {
        if asOf != nil && atPosition != nil { throw ValidationError("give at most one of --as-of and --at-position") }
        if let asOf, parseInstant(asOf) == nil {
            throw ValidationError("--as-of \(asOf) is not an ISO 8601 instant; use e.g. 2026-03-02T12:00:00Z or 2026-03-02T13:00:00+01:00")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let stop: ReplayStop = if let asOf, let instant = parseInstant(asOf) { .asOf(instant) }
                else if let atPosition { .atPosition(atPosition) } else { .end }
            let log = try openLog(data, create: false)
            defer { log.close() }
            let replay = try auditing { try Replayer(log: log, catalog: try catalog.load(log: log), logger: cliLogger)
                .replay(aggregate, id: id, stop: stop) }
            let out = FileHandle.standardOutput
            switch format {
            case .text:
                out.write(Data(replay.text().utf8))
            case .json:
                out.writeLine(try encodeReplayJSON(replay))
            case .ndjson:
                for step in replay.steps { out.writeLine(try encodeReplayJSON(ReplayLine.event(step))) }
                var summary = replay
                summary.steps = []
                out.writeLine(try encodeReplayJSON(ReplayLine.summary(summary)))
            }
        }
    }
}

/// One NDJSON line of `docket replay --format ndjson`: `{"kind":"event",...step}` or
/// `{"kind":"summary",...replay without steps}`.
enum ReplayLine: Encodable {
    case event(ReplayStep)
    case summary(Replay)

    private enum Key: String, CodingKey { case kind }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .event(let step):
            try container.encode("event", forKey: .kind)
            try step.encode(to: encoder)
        case .summary(let replay):
            try container.encode("summary", forKey: .kind)
            try replay.encode(to: encoder)
        }
    }
}

/// JSON with sorted keys and dates as `YYYY-MM-DDTHH:MM:SS.sssZ` (schemas/messages.md).
func encodeReplayJSON(_ value: some Encodable) throws -> String {
    String(decoding: try MessageCoding.encoder().encode(value), as: UTF8.self)
}

/// Runs an audit operation, mapping ``AuditError`` to the CLI's exit codes.
func auditing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as AuditError {
        let code: Int32 = switch error.code {
        case .notFound: Exit.noInput
        case .invalidInput: Exit.usage
        case .corrupt, .storage: Exit.ioError
        }
        throw CLIFailure(message: error.message, code: code)
    } catch let error as PolicyError {
        throw CLIFailure(message: "the policies and calendars do not load: \(error)", code: Exit.dataError)
    } catch let error as DataLoadError {
        throw CLIFailure(message: "the policies and calendars do not load: \(error)", code: Exit.dataError)
    }
}
