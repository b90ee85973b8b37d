import CaseDomain
import Catalog
import EventLog
import Foundation
import Logging
import Synchronization

/// Handles commands the Decider way (DESIGN.md): load the stream's state, decide with the
/// context (time, actor, policy in force, calendars, organisation snapshots), append the
/// events with the expected version, and return a result value.
///
/// - Idempotency: event `i` of a command gets the id ``DerivedID/event(commandId:index:)``,
///   so a retried commandId is found in the log (even after a restart) and returns the
///   first outcome without deciding again.
/// - Concurrency: without a client `expectedVersion`, a version conflict (another command
///   landed in between) re-loads and re-decides, a few times; with one, it is the client's
///   conflict (409).
/// - Time: `at` is the decision's `now` (the HTTP layer passes the clock; imports and the
///   deadline scheduler pass the instant being replayed).
/// - Batches: ``beginBatch()`` returns a ``CommandBatch`` that decides commands with the
///   same decide and encode code against in-memory state and appends them all in one
///   atomic append (`docket import`). Only the source of stream states differs
///   (``StreamStates``: the log here, the batch's overlay there).
public final class CommandHandler: Sendable {
    /// The event log commands append to.
    public let log: EventLog
    /// The policies and calendars in force, shared with whoever else reads them (the case
    /// projection and the deadline scheduler of `docket serve`).
    public let liveCatalog: LiveCatalog
    let logger: Logger
    private let locks = StreamLocks()
    let stateCache: StateCache
    /// Organisations' contact lists as queries read them (``rights(of:)``).
    let contactLists = ContactListCache()
    /// How many times a conflicting command without expected version is re-decided.
    public let maxAttempts: Int

    /// Creates a handler over `log`, with `catalog` as the policies and calendars in force
    /// (held in a ``LiveCatalog`` of its own, which recorded versions update).
    /// `cachedStreams` bounds how many streams' folded states are kept in memory.
    public convenience init(log: EventLog, catalog: PolicyCatalog, logger: Logger, maxAttempts: Int = 8, cachedStreams: Int = 50_000) {
        self.init(log: log, liveCatalog: LiveCatalog(catalog), logger: logger, maxAttempts: maxAttempts, cachedStreams: cachedStreams)
    }

    /// Creates a handler over `log` deciding with the policies and calendars of `liveCatalog`,
    /// shared with the readers that must see the same versions (R4.9). After it appends a
    /// `record-policy-version` or `record-calendar-version` command, the handler adds the
    /// version to `liveCatalog` before returning, so any command handled afterwards (and any
    /// event decided with the new version) is appended only once every reader can see it.
    /// `cachedStreams` bounds how many streams' folded states are kept in memory.
    public init(log: EventLog, liveCatalog: LiveCatalog, logger: Logger, maxAttempts: Int = 8, cachedStreams: Int = 50_000) {
        self.log = log
        self.stateCache = StateCache(capacity: cachedStreams)
        self.liveCatalog = liveCatalog
        self.logger = logger
        self.maxAttempts = maxAttempts
    }

    /// The policies and calendars in force now.
    public var catalog: PolicyCatalog { liveCatalog.current }

    /// Replaces the policies and calendars in force (e.g. after reloading them, R4.9).
    public func updateCatalog(_ catalog: PolicyCatalog) {
        liveCatalog.replace(with: catalog)
    }

    /// Handles one command from `actor` at instant `at`.
    public func handle(_ envelope: CommandEnvelope, actor: Principal, at: Date) async throws(CommandError) -> CommandOutcome {
        let command = try self.command(of: envelope)
        await locks.acquire(envelope.streamId)
        defer { locks.release(envelope.streamId) }
        if let previous = try previousOutcome(of: envelope, actor: actor) { return previous }
        var attempt = 0
        while true {
            attempt += 1
            var states = LogStates(handler: self)
            let decision = try decide(command, envelope: envelope, actor: actor, at: at, catalog: catalog, states: &states)
            guard !decision.events.isEmpty else {
                return CommandOutcome(commandId: envelope.commandId, streamId: envelope.streamId, events: [],
                                      streamVersion: decision.loadedVersion, position: try head(), duplicate: false)
            }
            let expected: ExpectedVersion
            if let v = envelope.expectedVersion {
                expected = .exact(v)
            } else {
                expected = decision.loadedVersion.map { .exact($0) } ?? .noStream
            }
            do {
                let result = try await log.append(to: envelope.streamId, expectedVersion: expected, events: decision.events)
                // A changed contact list holds for every query from now on (R1.10).
                if envelope.streamId.utf8.starts(with: "org-".utf8) { contactLists.invalidate() }
                // A recorded policy or calendar version is in force from now on (R4.9), for
                // every reader of the live catalog, before anyone learns of the append.
                if !decision.versions.isEmpty {
                    liveCatalog.include(RecordedCatalogVersion.appended(decision.versions, at: result.positions), logger: logger)
                }
                // The stream now stands at the decided state, if the events went right after
                // the version decided on: keep it, so that the next reader of the stream (the
                // deadline scheduler, the next command) need not read and decode them again
                // (decode(encode(event)) == event, DomainTime).
                let base = decision.loadedVersion.map { $0 + 1 } ?? 0
                if !result.duplicate, result.version == base + UInt64(decision.events.count) - 1 {
                    stateCache.put(envelope.streamId, state: decision.stateAfter(), version: result.version)
                }
                let appended = zip(decision.events, zip(result.positions, result.positions.indices)).map { event, p in
                    AppendedEvent(type: event.type, position: p.0,
                                  version: result.version - UInt64(result.positions.count - 1 - p.1), id: event.id)
                }
                return CommandOutcome(commandId: envelope.commandId, streamId: envelope.streamId, events: appended,
                                      streamVersion: result.version, position: result.positions.last ?? 0,
                                      duplicate: result.duplicate)
            } catch let error as EventLogError {
                switch error.code {
                case .wrongExpectedVersion where envelope.expectedVersion == nil && attempt < maxAttempts:
                    continue
                case .wrongExpectedVersion:
                    throw CommandError(.conflict, "stream \(envelope.streamId) is at version \(error.currentVersion.map(String.init) ?? "none (no events)"), not \(envelope.expectedVersion.map(String.init) ?? "the version read"); read it again and retry",
                                       currentVersion: error.currentVersion)
                case .duplicateEventId, .partialDuplicate:
                    // The same commandId raced with itself: return the winner's outcome.
                    if let previous = try previousOutcome(of: envelope, actor: actor) { return previous }
                    throw CommandError(.conflict, error.message)
                default:
                    logger.error("append failed", metadata: ["stream": "\(envelope.streamId)", "error": "\(error.message)"])
                    throw CommandError(.storage, error.message)
                }
            } catch {
                throw CommandError(.storage, "\(error)")
            }
        }
    }

    // MARK: - Idempotency

    /// The outcome of an earlier handling of this commandId, if there was one. Only the
    /// principal who sent it gets it back; anyone else gets a conflict that names nothing
    /// of the other command (R1.9: no stream, no type).
    func previousOutcome(of envelope: CommandEnvelope, actor: Principal) throws(CommandError) -> CommandOutcome? {
        var events: [RecordedEvent] = []
        do {
            while let e = try log.event(id: DerivedID.event(commandId: envelope.commandId, index: events.count)) {
                events.append(e)
            }
        } catch {
            throw CommandError(.storage, "cannot read the log: \(error)")
        }
        guard let first = events.first, let last = events.last else { return nil }
        // The same principal: kind, organisation and id (a contact id may repeat across organisations).
        let recorded = RecordedPrincipal.of(first.metadata)
        guard first.actor == actor.id, let recorded, recorded.role == actor.role.rawValue,
              recorded.organisationId == actor.organisationID else {
            throw CommandError(.conflict, "commandId \(envelope.commandId.uuidString.lowercased()) was already used by another principal; use a new commandId")
        }
        let firstType = recorded.commandType
        guard first.stream == envelope.streamId, firstType == nil || firstType == envelope.type else {
            throw CommandError(.conflict, "commandId \(envelope.commandId.uuidString.lowercased()) was already used for \(firstType ?? "another command") on \(first.stream); use a new commandId for a new command")
        }
        return CommandOutcome(
            commandId: envelope.commandId, streamId: envelope.streamId,
            events: events.map { AppendedEvent(type: $0.type, position: $0.position, version: $0.version, id: $0.id) },
            streamVersion: last.version, position: last.position, duplicate: true)
    }

    func head() throws(CommandError) -> UInt64 {
        do { return try log.head().position } catch { throw CommandError(.storage, "cannot read the log head: \(error)") }
    }
}
