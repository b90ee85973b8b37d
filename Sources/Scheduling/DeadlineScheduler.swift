import CaseDomain
import Catalog
import CommandHandling
import EventLog
import Foundation
import Logging
import Synchronization

/// The time source of the ``DeadlineScheduler``: injected so tests can drive time.
public protocol SchedulerClock: Sendable {
    /// The current instant.
    func now() -> Date
    /// Suspends until `instant` (or the task is cancelled).
    func sleep(until instant: Date) async throws
}

/// The system clock.
public struct SystemSchedulerClock: SchedulerClock {
    /// Creates the clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }
    /// `Task.sleep` for the remaining time.
    public func sleep(until instant: Date) async throws {
        let seconds = instant.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up)))) }
    }
}

/// Sends the time-driven case commands (clock at-risk and breached, update overdue,
/// auto-close after the solution went unanswered, survey expiry) as
/// ``Principal/deadlineScheduler``, exactly once each (issue 4 item 7; DESIGN.md rule 1).
///
/// - Schedule: after every append to a case it folds the case's stream and asks
///   ``CaseDecider/dueTimeDrivenCommands(_:measures:policy:)`` what the case waits for; it
///   keeps that list per case and sleeps until the earliest instant (at most
///   ``pollInterval``, so appends from elsewhere are noticed).
/// - Exactly once: each command's id is derived from the stream, command type, target or
///   survey and due instant (``commandId(stream:due:)``), and it is decided at the due
///   instant. A crash after the append but before the scheduler noted it therefore resends
///   the same commandId, which the ``CommandHandler`` answers with the first outcome and no
///   new events; and `decide` itself refuses a deadline already recorded.
/// - Versions (R4.9): deadlines are measured with the handler's catalog in force
///   (``CommandHandler/liveCatalog``). When a pass reads an event of a `calendar-` or
///   `policy-` stream, every scheduled case is measured again (a calendar change applies to
///   clocks still running), after putting in force any recorded version the catalog lacks.
/// - Start-up: the first pass folds every case, so deadlines that passed while the service
///   was down fire at once, each at its own due instant.
/// - Batches: ``fireDue(upTo:into:limit:)`` decides the due commands into a ``CommandBatch``
///   instead of appending them (`docket import`): they see the batch's state and are
///   appended with it, atomically.
public actor DeadlineScheduler {
    let handler: CommandHandler
    let log: EventLog
    let clock: any SchedulerClock
    let logger: Logger
    /// Longest sleep between passes while nothing is due.
    public let pollInterval: TimeInterval
    var position: UInt64 = 0
    var schedule: [String: [DueCommand]] = [:]
    /// The batch whose changes the schedule follows (``fireDue(upTo:into:limit:)``), how far, and
    /// which case streams it wrote to.
    var followedBatch: FollowedBatch?
    /// Commands sent by this instance (for tests and monitoring).
    public private(set) var sent = 0
    /// File-backed memory above which a pass that reads the log in bulk (the start-up pass
    /// folds every case) drops the process's mappings of the data file, as the projection
    /// runner's catch-up does (the projection runner's budget): while it reads new
    /// events in log order, after each batch of them; after folding the cases they touched,
    /// once at the end. That fold reads each case's events where they lie, scattered over
    /// the file, so dropping the mappings during it would fault most pages in again (about
    /// half as much CPU again for a start-up on a 5 M-event log). A pass over a few new
    /// events releases nothing, so the pages queries read stay mapped.
    public let residentFileBudget: Int

    /// A scheduler sending through `handler`; `clock` decides when deadlines pass.
    public init(handler: CommandHandler, clock: any SchedulerClock = SystemSchedulerClock(), pollInterval: TimeInterval = 1,
                residentFileBudget: Int = MappedPageBudget.default.residentBytes, logger: Logger) {
        self.handler = handler
        self.log = handler.log
        self.clock = clock
        self.pollInterval = pollInterval
        self.residentFileBudget = max(0, residentFileBudget)
        self.logger = logger
    }

    /// Events read, or cases folded, in one pass from which the pass is bulk work.
    static let defaultBulkPass = 4_096
    /// ``defaultBulkPass``, lowered by tests (``lowerBulkPass(to:)``).
    private(set) var bulkPass = DeadlineScheduler.defaultBulkPass

    /// Treats passes from `n` events or cases as bulk work (tests, on small logs).
    func lowerBulkPass(to n: Int) { bulkPass = max(1, n) }

    /// ``residentFileBudget`` as the log's page budget, bulk from ``bulkPass`` (a pass over a
    /// few events or cases releases nothing).
    private var pageBudget: MappedPageBudget { MappedPageBudget(residentBytes: residentFileBudget, bulkRecords: bulkPass) }

    /// The deterministic command id of a time-driven command: a UUID derived from the
    /// stream, the command type, its target or survey, and the due instant.
    public static func commandId(stream: String, due: DueCommand) -> UUID {
        let detail: String = switch due.command {
        case .recordClockAtRisk(let c): c.target.rawValue
        case .recordClockBreached(let c): c.target.rawValue
        case .expireSurvey(let c): c.surveyID
        default: ""
        }
        return DerivedID.make(namespace: "docket/deadline-scheduler",
                              [stream, due.command.type, detail, DomainTime.format(due.due)])
    }

    /// Runs until the task is cancelled: fires what is due, sleeps until the next deadline.
    public func run() async throws {
        while !Task.isCancelled {
            do {
                _ = try await fireDue(upTo: clock.now())
            } catch is CancellationError {
                return
            } catch {
                logger.error("deadline scheduler pass failed; retrying", metadata: ["error": "\(error)"])
            }
            let now = clock.now()
            var wake = now.addingTimeInterval(pollInterval)
            if let next = nextDue(), next < wake { wake = max(next, now) }
            do {
                try await clock.sleep(until: wake)
            } catch {
                return
            }
        }
    }

    /// The earliest instant at which a known case command falls due.
    public func nextDue() -> Date? {
        schedule.values.compactMap { $0.first?.due }.min()
    }

    /// Reads the log's new events, then sends every time-driven command due at or before
    /// `instant`, earliest first, until none is left (a sent command may make another due,
    /// e.g. a survey after an auto-close). For imports and tests: call it with the instant
    /// being replayed. Returns the outcomes of the commands that appended events.
    @discardableResult
    public func fireDue(upTo instant: Date) async throws -> [CommandOutcome] {
        let handler = self.handler
        return try await fire(upTo: instant, batch: nil) { envelope, at throws(CommandError) in
            let outcome = try await handler.handle(envelope, actor: .deadlineScheduler, at: at)
            return (outcome, !outcome.events.isEmpty && !outcome.duplicate)
        }
    }

    /// Like ``fireDue(upTo:)``, but decides the time-driven commands into `batch` instead of
    /// appending them: they see the state the batch's commands produced (a case opened
    /// earlier in the batch gets its deadlines), later commands of the batch see theirs, and
    /// they are appended with the batch, atomically, or not at all. Their commandIds are the
    /// same as on the live path (``commandId(stream:due:)``), so a batch decided again after
    /// an earlier commit adds nothing twice. Returns the commands that were decided.
    ///
    /// With `limit`, it stops once that many of them added events, earliest first, so that a
    /// large backlog can be committed in batches of bounded size: call it again with a new
    /// batch after committing this one, until fewer than `limit` were added.
    @discardableResult
    public func fireDue(upTo instant: Date, into batch: CommandBatch, limit: Int = .max) async throws -> [BatchedCommand] {
        try await fire(upTo: instant, batch: batch, limit: limit) { envelope, at throws(CommandError) in
            let decided = try batch.decide(envelope, actor: .deadlineScheduler, at: at)
            return (decided, !decided.eventTypes.isEmpty && !decided.duplicate)
        }
    }

    /// The firing loop of both ``fireDue(upTo:)`` and ``fireDue(upTo:into:limit:)``: `send`
    /// decides one command and says whether it added events; the loop ends when nothing
    /// due is left or `limit` commands added events.
    private func fire<Outcome>(upTo instant: Date, batch: CommandBatch?, limit: Int = .max,
                               send: (CommandEnvelope, Date) async throws(CommandError) -> (Outcome, added: Bool)) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var added = 0
        var tried = Set<UUID>()
        while true {
            try refresh(batch: batch)
            var due: [(stream: String, command: DueCommand)] = []
            for (stream, list) in schedule {
                for d in list where d.due <= instant { due.append((stream, d)) }
            }
            // Earliest first, then by stream and command type (a stable sort: the schedule's own
            // order after that). With a `limit` a large backlog is walked in many calls, so only
            // the commands due soonest are ordered: those up to the instant of the one that
            // would fill the limit, ties included, which are the first of the full order.
            // (Ordering every due command, whose type is computed through its message, or
            // deriving every id, each call cost tens of seconds on a backlog of 437 400.)
            var chosen = Array(due.indices)
            let wanted = limit - added
            if wanted < due.count {
                var instants = due.map(\.command.due)
                instants.sort()
                let bound = instants[max(0, wanted - 1)]
                chosen = chosen.filter { due[$0].command.due <= bound }
            }
            let keys = chosen.map { (instant: due[$0].command.due, stream: due[$0].stream, type: due[$0].command.command.type) }
            let order = keys.indices.sorted { a, b in
                if keys[a].instant != keys[b].instant { return keys[a].instant < keys[b].instant }
                return (keys[a].stream, keys[a].type) < (keys[b].stream, keys[b].type)
            }
            var progressed = false
            for (stream, command) in order.lazy.map({ due[chosen[$0]] }) {
                let item = (stream: stream, command: command, id: Self.commandId(stream: stream, due: command))
                guard tried.insert(item.id).inserted else { continue }
                progressed = true
                try Task.checkCancellation()
                let payload: Data
                do {
                    payload = try item.command.command.encoded().payload
                } catch {
                    logger.error("cannot encode a time-driven command", metadata: ["stream": "\(item.stream)", "error": "\(error)"])
                    continue
                }
                let envelope = CommandEnvelope(commandId: item.id, type: item.command.command.type, streamId: item.stream, payload: payload)
                do {
                    let (outcome, appended) = try await send(envelope, item.command.due)
                    outcomes.append(outcome)
                    // Sent (or applied before): not due again. The stream's next refresh gives
                    // what it waits for now; until then it is not chosen again.
                    unschedule(item.command, of: item.stream)
                    if appended {
                        sent += 1
                        added += 1
                        if added >= limit { return outcomes }
                    }
                } catch where error.code != .storage {
                    // Stale schedule: the case moved on (met, closed, already recorded). Drop
                    // the entry until the case changes again, so it is not retried in a loop.
                    unschedule(item.command, of: item.stream)
                    logger.debug("time-driven command refused", metadata: ["stream": "\(item.stream)", "error": "\(error.message)"])
                } catch {
                    throw error
                }
            }
            guard progressed else { return outcomes }
        }
    }

    /// Drops `command` from `stream`'s schedule.
    private func unschedule(_ command: DueCommand, of stream: String) {
        schedule[stream]?.removeAll { $0 == command }
        if schedule[stream]?.isEmpty == true { schedule[stream] = nil }
    }

    /// Folds the case streams touched since the last pass and recomputes their schedules.
    /// With `batch`, also the case streams the batch wrote to, folded as the batch left them.
    /// Streams a different (or no) batch wrote to before are folded again from the log, so
    /// a batch that was never committed leaves no schedule behind.
    func refresh(batch: CommandBatch? = nil) throws {
        // Each touched case stream, with the last version read from the log (nil: from a batch).
        var touched: [String: UInt64?] = [:]
        var versionsChanged = false
        // Only streams and versions are needed here (states come from the handler's cache): the
        // log's scan, in chunks of a bulk pass, applies the page budget after each full one.
        if let last = try log.scan(from: position + 1, chunk: bulkPass, budget: pageBudget, { record in
            if record.streamHasPrefix("case-") {
                touched[record.stream] = .some(record.version)
            } else if record.streamHasPrefix("calendar-") || record.streamHasPrefix("policy-") {
                versionsChanged = true
            }
        }) {
            position = last
        }
        if let followed = followedBatch, followed.id != batch?.id {
            for stream in followed.streams { touched[stream] = .some(nil) }
            followedBatch = nil
        }
        if let batch {
            var followed = followedBatch ?? FollowedBatch(id: batch.id)
            let changed = batch.changedStreams(since: followed.cursor)
            let cases = changed.streams.filter { $0.hasPrefix("case-") }
            followed.cursor = changed.cursor
            followed.streams.formUnion(cases)
            followedBatch = followed
            for stream in cases { touched[stream] = .some(nil) }
        }
        if versionsChanged {
            // A calendar change applies to clocks still running (R4.9): every scheduled case
            // is measured again with the catalog in force (the handler put the version there
            // before its append returned; one appended by another process is read here).
            try catchUpVersions()
            for stream in schedule.keys where touched[stream] == nil { touched[stream] = .some(nil) }
        }
        let catalog = handler.catalog
        let measures = CalendarMeasureProvider { name in try? catalog.calendar(named: name) }
        // Released at the end only (``residentFileBudget``): the folds read scattered pages.
        defer { log.relinquishMappedPages(afterReading: touched.count, budget: pageBudget) }
        for (stream, version) in touched {
            let state: CaseState
            if let batch {
                state = try batch.caseState(stream).state
            } else if let version {
                state = try handler.caseState(stream, atLeast: version).state
            } else {
                state = try foldCase(stream)
            }
            guard let policy = try? catalog.policy(named: state.policyName, version: state.policyVersion) else {
                schedule[stream] = nil
                continue
            }
            let list = CaseDecider.dueTimeDrivenCommands(state, measures: measures, policy: policy)
            schedule[stream] = list.isEmpty ? nil : list
        }
    }

    /// Puts in force any policy or calendar version the log holds and the handler's catalog
    /// does not (one appended by another process, e.g. `docket log append`).
    private func catchUpVersions() throws {
        let held = handler.catalog
        let missing = try PolicyCatalog.recordedVersions(in: log, reuse: held, logger: logger).filter { !held.holds($0) }
        if !missing.isEmpty { handler.liveCatalog.include(missing, logger: logger) }
    }

    /// Case stream `stream` folded as the log holds it, through the command handler's cache
    /// of folded states (a command just decided on it left its state there).
    private func foldCase(_ stream: String) throws -> CaseState {
        try handler.caseState(stream).state
    }
}

/// How far a ``DeadlineScheduler`` has followed a ``CommandBatch``.
struct FollowedBatch {
    /// The batch's ``CommandBatch/id``.
    var id: UUID
    /// Its ``CommandBatch/changedStreams(since:)`` cursor.
    var cursor = 0
    /// The case streams it wrote to so far.
    var streams: Set<String> = []
}
