import ArgumentParser
import CaseDomain
import Catalog
import CommandHandling
import DocketJSON
import EventLog
import Foundation
import Projections
import Scheduling

/// `docket import commands.ndjson`: runs a history of commands through the same decide path
/// as the HTTP endpoint (migrations from another helpdesk), in atomic batches.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Run commands from an NDJSON file through the command handler, as if sent at their times.",
        discussion: """
            Each line: a command envelope as POST /v1/commands takes it ({"commandId","type","streamId",\
            "expectedVersion"?,"payload"}) plus "at" (ISO 8601, the decision's time) and "actor" (a \
            principal: {"id","role","organisationID"?,"access"?,"staffRole"?,"channel"?}). \
            Times must not go backwards. The whole file is checked first: a malformed line or a time \
            going backwards is reported with its line number and nothing is appended (exit 65). \
            Then the commands are decided in batches (the whole file, or --batch-size commands each): \
            each command sees the state the batch's earlier commands produced, and a batch's events \
            are appended in one atomic append, or none of them. A refused command is reported with \
            its line number and why; nothing from its batch is appended, batches before it stay \
            committed (the message says how many lines) and the import stops (exit 1). If another \
            writer (docket serve) changed a stream the batch writes to meanwhile, the batch fails the \
            same way (exit 1). Fix the line and re-run the same file: commands already applied are \
            recognised by their commandId and append nothing again. Before each command the deadline \
            scheduler fires the time-driven commands due by its time (at-risk, breaches, update \
            overdue, auto-close, survey expiry), as if time had passed: those due before a batch's \
            first line (a backlog the log already held) are committed first, in batches of their own \
            of at most --fired-batch-size commands; those due between its lines go into the batch. \
            --until also fires what falls due after the last line, up to that instant, in batches of \
            their own. \
            Exit codes: 0 ok, 1 a command was refused or a batch conflicted, 64 bad arguments, \
            65 malformed file, 66 no such file, 74 storage error.
            """)

    @OptionGroup var data: DataDirOptions
    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "The NDJSON file of commands ('-' for standard input).") var file: String
    @Option(help: ArgumentHelp("After the last line, fire the time-driven commands due up to this instant (ISO 8601).",
                               valueName: "instant"))
    var until: String?
    @Option(name: .customLong("batch-size"),
            help: ArgumentHelp("Commands (non-blank lines) per atomic batch; default: the whole file is one batch. "
                               + "For very large migrations: a batch's events are held in memory and appended in one transaction.",
                               valueName: "n"))
    var batchSize: Int?
    @Option(name: .customLong("fired-batch-size"),
            help: ArgumentHelp("Time-driven commands per batch of their own, for what falls due before a batch's first line "
                               + "or with --until after the last: bounds the memory a large backlog of deadlines takes.",
                               valueName: "n"))
    var firedBatchSize: Int = BatchImport.defaultFiredBatchSize

    func validate() throws {
        if let until, parseInstant(until) == nil {
            throw ValidationError("--until \(until) is not an ISO 8601 instant; use e.g. 2026-03-31T00:00:00Z")
        }
        if let batchSize, batchSize < 1 {
            throw ValidationError("--batch-size \(batchSize) must be 1 or more (commands per batch); leave it out for one batch of the whole file")
        }
        if firedBatchSize < 1 {
            throw ValidationError("--fired-batch-size \(firedBatchSize) must be 1 or more (time-driven commands per batch); "
                                  + "leave it out for \(BatchImport.defaultFiredBatchSize)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let reader = try LineReader.open(file)
            // Check every line before applying any.
            var commands: [ImportedCommand] = []
            var lineNumber = 0
            while let line = reader.next() {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do throws(ImportLineError) {
                    let command = try parseCommandLine(line, number: lineNumber)
                    if let last = commands.last, command.at < last.at {
                        throw ImportLineError(message: "\"at\" \(DomainTime.format(command.at)) is before line \(last.line)'s \(DomainTime.format(last.at)); times must not go backwards")
                    }
                    commands.append(command)
                } catch {
                    throw CLIFailure(message: "\(file):\(lineNumber): \(error.message); nothing was appended (the file is checked before any command runs)",
                                     code: Exit.dataError)
                }
            }
            let untilInstant = until.flatMap(parseInstant)
            if let untilInstant, let last = commands.last, untilInstant < last.at {
                throw CLIFailure(message: "--until \(DomainTime.format(untilInstant)) is before the last line's time \(DomainTime.format(last.at)) (line \(last.line)); nothing was appended",
                                 code: Exit.usage)
            }
            let log = try openLog(data, create: true)
            defer { log.close() }
            let handler = CommandHandler(log: log, catalog: try auditing { try catalog.load(log: log) }, logger: cliLogger)
            let scheduler = DeadlineScheduler(handler: handler, logger: cliLogger)
            var importer = BatchImport(file: file, handler: handler, scheduler: scheduler, firedBatchSize: firedBatchSize,
                                       progress: ProgressBar(label: "importing", total: UInt64(commands.count)))
            let size = max(1, batchSize ?? commands.count)
            var start = 0
            while start < commands.count {
                let slice = commands[start..<min(start + size, commands.count)]
                start += size
                try await importer.run(slice, wholeFile: batchSize == nil || slice.count == commands.count)
            }
            if let untilInstant {
                try await importer.fireOnTheirOwn(upTo: untilInstant, place: "\(file): for --until")
            }
            importer.progress.update(UInt64(commands.count), force: true)
            importer.progress.finish()
            let head = try log.head()
            let t = importer.committed
            print(try jsonLine([
                "lines": lineNumber, "commands": commands.count, "applied": t.applied, "duplicates": t.duplicates,
                "events": t.events, "fired": t.fired, "firedEvents": t.firedEvents, "batches": t.batches,
                "firedBatches": t.firedBatches,
                "position": head.position, "hash": head.hash.hex,
            ] as [String: Any]))
        }
    }
}

/// Runs an import's batches one after another and keeps the tally of what was committed.
struct BatchImport {
    /// What the import did (a batch's share counts once it is committed).
    struct Tally {
        var applied = 0, duplicates = 0, events = 0, fired = 0, firedEvents = 0, batches = 0
        /// Batches of their own that held only time-driven commands.
        var firedBatches = 0
        /// The last line of the last committed batch (0: none).
        var throughLine = 0

        static func += (a: inout Tally, b: Tally) {
            a.applied += b.applied
            a.duplicates += b.duplicates
            a.events += b.events
            a.fired += b.fired
            a.firedEvents += b.firedEvents
        }
    }

    /// Time-driven commands per batch of their own when `--fired-batch-size` is left out.
    /// On a copy of the 2 M-event benchmark log, 111 920 due commands in one batch peaked at
    /// 773 MB of anonymous memory, in batches of 4 096 at 299 MB.
    static let defaultFiredBatchSize = 4_096
    /// Mapped pages of the data file kept resident between batches of their own (bytes):
    /// enough for the pages the batches read again, so that releasing costs few refaults.
    static let pageBudget = MappedPageBudget(residentBytes: 1 << 30)

    let file: String
    let handler: CommandHandler
    let scheduler: DeadlineScheduler
    /// Time-driven commands per batch of their own (``fireOnTheirOwn(upTo:place:)``).
    let firedBatchSize: Int
    var progress: ProgressBar
    private(set) var committed = Tally()
    private var done = 0

    init(file: String, handler: CommandHandler, scheduler: DeadlineScheduler, firedBatchSize: Int = defaultFiredBatchSize,
         progress: ProgressBar) {
        self.file = file
        self.handler = handler
        self.scheduler = scheduler
        self.firedBatchSize = max(1, firedBatchSize)
        self.progress = progress
    }

    /// What was committed before the failing batch, for error messages.
    private var before: String {
        guard committed.batches > 0 || committed.firedBatches > 0 else {
            return "nothing was committed before it"
        }
        let fired = "\(committed.fired) time-driven commands fired"
            + (committed.firedBatches > 0 ? " (\(committed.firedBatches) of their own batches)" : "")
        guard committed.batches > 0 else { return "\(fired) stay committed" }
        return "\(committed.batches) batch\(committed.batches == 1 ? "" : "es") before it stay committed "
            + "(lines 1–\(committed.throughLine): \(committed.applied) commands applied, \(committed.events) events, "
            + "\(committed.duplicates) already applied before, \(fired))"
    }

    /// Fires what fell due by `instant` and commits it in batches of their own, each of at
    /// most ``firedBatchSize`` commands, until nothing due is left. The commands are the
    /// scheduler's, due whatever the file holds next, so committing them apart from the
    /// file's batches gives every stream the same events; only the interleaving of streams
    /// may differ (each batch takes the earliest due, including what the last one made due).
    mutating func fireOnTheirOwn(upTo instant: Date, place: String) async throws {
        while true {
            let batch = handler.beginBatch()
            var tally = Tally()
            let span = "time-driven commands due by \(DomainTime.format(instant)), batch of their own"
            let added = try await fire(upTo: instant, into: batch, limit: firedBatchSize, tally: &tally, place: place, span: span)
            guard added > 0 else { return }
            try await commit(batch, span: span)
            committed += tally
            committed.firedBatches += 1
            // The first batch read every case in the log; those pages are page cache, but a
            // long backlog would otherwise show as gigabytes of resident memory.
            handler.log.relinquishMappedPages(afterReading: .max, budget: Self.pageBudget)
            progress.update(UInt64(done), note: "\(committed.fired) time-driven commands fired")
            if added < firedBatchSize { return }
        }
    }

    /// Commits the backlog due before `slice`'s first line in batches of their own, then
    /// decides `slice` into one batch (with what falls due between its lines) and commits it
    /// atomically. Throws a ``CLIFailure`` naming the line, the batch and what stays
    /// committed.
    mutating func run(_ slice: ArraySlice<ImportedCommand>, wholeFile: Bool) async throws {
        if let first = slice.first {
            try await fireOnTheirOwn(upTo: first.at, place: "\(file):\(first.line): before this line")
        }
        let batch = handler.beginBatch()
        let number = committed.batches + 1
        let span = wholeFile ? "the whole file, one batch"
            : "batch \(number), lines \(slice.first?.line ?? 0)–\(slice.last?.line ?? 0)"
        var tally = Tally()
        for command in slice {
            try await fire(upTo: command.at, into: batch, tally: &tally, place: "\(file):\(command.line): before this line", span: span)
            do throws(CommandError) {
                let decided = try batch.decide(command.envelope, actor: command.actor, at: command.at)
                if decided.duplicate {
                    tally.duplicates += 1
                } else {
                    tally.applied += 1
                    tally.events += decided.eventTypes.count
                }
            } catch {
                progress.finish()
                throw CLIFailure(
                    message: "\(file):\(command.line): \(command.envelope.type) on \(command.envelope.streamId) refused (\(error.code.rawValue)"
                        + (error.domain.map { ", \($0.rule)" } ?? "") + "): \(error.message); "
                        + "nothing from its batch (\(span)) was appended; \(before); "
                        + "fix the line and re-run the same file: commands already applied are recognised by their commandId and skipped",
                    code: error.code == .storage ? Exit.ioError : Exit.refused)
            }
            done += 1
            progress.update(UInt64(done), note: "\(done) commands")
        }
        try await commit(batch, span: span)
        committed += tally
        committed.batches += 1
        committed.throughLine = slice.last?.line ?? committed.throughLine
    }

    /// Commits `batch`, or throws a ``CLIFailure`` saying what stays committed.
    private func commit(_ batch: CommandBatch, span: String) async throws {
        do throws(CommandError) {
            try await batch.commit()
        } catch {
            progress.finish()
            throw CLIFailure(
                message: "\(file): the batch (\(span)) was not appended: \(error.message); \(before)",
                code: error.code == .storage ? Exit.ioError : Exit.refused)
        }
    }

    /// Fires into `batch` what fell due by `instant`, as the deadline scheduler would have
    /// (at most `limit` commands that add events). Returns how many added events.
    @discardableResult
    private mutating func fire(upTo instant: Date, into batch: CommandBatch, limit: Int = .max, tally: inout Tally,
                               place: String, span: String) async throws -> Int {
        do {
            var added = 0
            for decided in try await scheduler.fireDue(upTo: instant, into: batch, limit: limit)
            where !decided.duplicate && !decided.eventTypes.isEmpty {
                added += 1
                tally.fired += 1
                tally.firedEvents += decided.eventTypes.count
            }
            return added
        } catch {
            progress.finish()
            throw CLIFailure(message: "\(place): firing the time-driven commands due by \(DomainTime.format(instant)) failed: \(error); "
                                + "nothing from its batch (\(span)) was appended; \(before)",
                             code: Exit.ioError)
        }
    }
}

/// One line of a command import.
struct ImportedCommand {
    /// Its line number.
    var line: Int
    /// The command as the HTTP endpoint takes it.
    var envelope: CommandEnvelope
    /// Who sends it.
    var actor: Principal
    /// When it is decided.
    var at: Date
}

/// Parses one NDJSON line of `docket import`: the command envelope as `POST /v1/commands`
/// takes it (``CommandEnvelope/parse(json:extraKeys:)``, the same strict parser and errors:
/// duplicate member names, a non-integer `expectedVersion`, over-long ids are refused),
/// plus `at` and `actor`.
func parseCommandLine(_ line: ArraySlice<UInt8>, number: Int) throws(ImportLineError) -> ImportedCommand {
    let envelope: CommandEnvelope
    let extras: [String: Data]
    do {
        (envelope, extras) = try CommandEnvelope.parse(json: Data(line), extraKeys: ["at", "actor"])
    } catch {
        if error.path == "$", error.message.contains("not valid JSON") {
            throw ImportLineError(message: "not a JSON object (malformed JSON)")
        }
        throw ImportLineError(message: (error.path.map { "\($0): " } ?? "") + error.message)
    }
    guard let atData = extras["at"], case .string(let atText)? = try? JSONValue.parse(atData) else {
        throw ImportLineError(message: "$.at: must be an ISO 8601 instant such as 2026-03-02T09:00:00Z")
    }
    let at: Date
    do {
        at = try RFC3339.parse(atText)
    } catch {
        throw ImportLineError(message: "$.at: must be an ISO 8601 instant such as 2026-03-02T09:00:00Z (\(error.message))")
    }
    guard let actorData = extras["actor"], actorData.first == UInt8(ascii: "{") else {
        throw ImportLineError(message: "$.actor: must be a principal object such as {\"id\":\"s1\",\"role\":\"staff\",\"staffRole\":\"tier1\"}")
    }
    let actor: Principal
    do {
        actor = try DocketJSONDecoder().decode(Principal.self, from: actorData)
    } catch {
        throw ImportLineError(message: "$.actor: not a principal ({id, role: contact|staff|auditor|reporting-job|system, organisationID?, access?, staffRole?, channel?}): \(decodingReason(error))")
    }
    return ImportedCommand(line: number, envelope: envelope, actor: actor, at: at)
}

/// A one-line reason from a `DecodingError`.
private func decodingReason(_ error: any Error) -> String {
    switch error as? DecodingError {
    case .dataCorrupted(let c)?, .typeMismatch(_, let c)?, .valueNotFound(_, let c)?:
        return (c.codingPath.map(\.stringValue).joined(separator: ".").nilIfEmpty.map { "\($0): " } ?? "") + c.debugDescription
    case .keyNotFound(let key, _)?:
        return "missing \(key.stringValue)"
    default:
        return "\(error)"
    }
}

extension String {
    /// `nil` for the empty string.
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
