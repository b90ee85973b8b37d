import CaseDomain
import Catalog
import EventLog
import Foundation
import Synchronization

/// A batch of commands decided one after another against in-memory state, then appended
/// in one atomic multi-stream append (`docket import`, schemas/cli/import.md).
///
/// - Same decide path: each command goes through the handler's own decide and encode code
///   (``CommandHandler/handle(_:actor:at:)`` uses it too); only where stream states come
///   from differs. A batch reads a stream from the log the first time it needs it and from
///   then on from its overlay, which holds the state the batch's earlier commands produced.
/// - Idempotency: event ids derive from the commandId as in the live path
///   (``DerivedID/event(commandId:index:)``). A command whose events are in the log already
///   is recognised and adds nothing; so is a commandId repeated within the batch.
/// - Atomicity: ``commit()`` appends every decided event in one append: all or nothing.
///   Each part carries the expected version of its stream (the version the batch read, or
///   "no stream"), so if another writer changed a stream the batch writes to, the whole
///   batch fails with a conflict and nothing is appended. Streams only read (a case's
///   organisation, the organisations an incident notifies) are not version-checked, as in
///   the live path.
/// - A refused command (``decide(_:actor:at:)`` throws) leaves the batch as it was; the
///   caller decides whether to commit what came before it or to drop the batch.
///
/// Thread safety: the overlay is behind a `Mutex`, so the batch is `Sendable` and can be
/// handed to the ``DeadlineScheduler`` actor. It is meant for one caller at a time; its
/// commands are decided in the order the calls arrive.
public final class CommandBatch: Sendable {
    /// The handler whose decide path, log and state cache the batch uses.
    public let handler: CommandHandler
    /// Identifies this batch (e.g. for a scheduler following its changes).
    public let id = UUID()
    private let overlay: Mutex<Overlay>

    init(handler: CommandHandler) {
        self.handler = handler
        self.overlay = Mutex(Overlay(handler: handler, catalog: handler.catalog))
    }

    /// Decides `envelope` from `actor` at instant `at` against the state the batch has
    /// produced so far, and keeps its events for ``commit()``.
    ///
    /// Returns a ``BatchedCommand`` with ``BatchedCommand/duplicate`` set when the commandId
    /// was applied before (in the log, or earlier in this batch): nothing is added then.
    ///
    /// - Throws: ``CommandError`` as ``CommandHandler/handle(_:actor:at:)`` would for the same
    ///   command on that state (malformed, forbidden, not found, conflict, refused); the batch
    ///   is unchanged. `.conflict` also when the batch was committed already.
    public func decide(_ envelope: CommandEnvelope, actor: Principal, at: Date) throws(CommandError) -> BatchedCommand {
        let command = try handler.command(of: envelope)
        return try overlay.withLock { o throws(CommandError) -> BatchedCommand in
            guard !o.sealed else {
                throw CommandError(.conflict, "this batch was committed already; begin a new batch (CommandHandler.beginBatch()) for command \(envelope.commandId.uuidString.lowercased())")
            }
            if let earlier = o.commands[envelope.commandId] {
                guard earlier.actor == PrincipalIdentity(actor) else {
                    throw CommandError(.conflict, "commandId \(envelope.commandId.uuidString.lowercased()) was already used by another principal; use a new commandId")
                }
                guard earlier.stream == envelope.streamId, earlier.type == envelope.type else {
                    throw CommandError(.conflict, "commandId \(envelope.commandId.uuidString.lowercased()) was already used for \(earlier.type) on \(earlier.stream); use a new commandId for a new command")
                }
                return BatchedCommand(commandId: envelope.commandId, streamId: envelope.streamId, eventTypes: earlier.eventTypes,
                                      streamVersion: earlier.version, duplicate: true)
            }
            if let previous = try handler.previousOutcome(of: envelope, actor: actor) {
                return BatchedCommand(commandId: envelope.commandId, streamId: envelope.streamId, eventTypes: previous.events.map(\.type),
                                      streamVersion: previous.streamVersion, duplicate: true)
            }
            let decision = try handler.decide(command, envelope: envelope, actor: actor, at: at, catalog: o.catalog, states: &o)
            if let expected = envelope.expectedVersion, expected != decision.loadedVersion {
                throw CommandError(.conflict, "stream \(envelope.streamId) is at version \(decision.loadedVersion.map(String.init) ?? "none (no events)"), not \(expected); read it again and retry",
                                   currentVersion: decision.loadedVersion)
            }
            guard !decision.events.isEmpty else {
                return BatchedCommand(commandId: envelope.commandId, streamId: envelope.streamId, eventTypes: [],
                                      streamVersion: decision.loadedVersion, duplicate: false)
            }
            for event in decision.events {
                do throws(EventLogError) {
                    try EventLogInput.check(stream: envelope.streamId, event: event)
                } catch {
                    throw CommandError(.malformed, "the log would refuse \(event.type) on \(envelope.streamId): \(error.message)", path: "$")
                }
            }
            let version = (decision.loadedVersion.map { $0 + 1 } ?? 0) + UInt64(decision.events.count) - 1
            o.parts.append(StreamAppend(stream: envelope.streamId,
                                        expectedVersion: decision.loadedVersion.map { .exact($0) } ?? .noStream,
                                        events: decision.events))
            o.streams[envelope.streamId] = Overlay.Entry(state: decision.stateAfter(), version: version, written: true)
            o.changes.append(envelope.streamId)
            let types = decision.events.map(\.type)
            o.commands[envelope.commandId] = Overlay.Pending(actor: PrincipalIdentity(actor), stream: envelope.streamId, type: envelope.type,
                                                            eventTypes: types, version: version)
            o.eventCount += decision.events.count
            if !decision.versions.isEmpty {
                // Later commands of the batch decide with the version (R4.9); the handler's
                // catalog gets it when the batch is appended.
                o.catalog = o.catalog.including(decision.versions, logger: handler.logger)
                o.versions.append((decision.versions, part: o.parts.count - 1))
            }
            return BatchedCommand(commandId: envelope.commandId, streamId: envelope.streamId, eventTypes: types,
                                  streamVersion: version, duplicate: false)
        }
    }

    /// The state of case stream `stream` as the batch has left it (its pending events folded
    /// over the log), and its version (`nil`: no events). Reading it does not make the batch
    /// depend on it.
    public func caseState(_ stream: String) throws(CommandError) -> (state: CaseState, version: UInt64?) {
        try overlay.withLock { o throws(CommandError) -> (state: CaseState, version: UInt64?) in
            let extract: (DomainEvent) -> CaseEvent? = { if case .case(let e) = $0 { e } else { nil } }
            // A stream the batch has not read stays out of the overlay: the scheduler looks
            // at every case, and only what a command decides on needs pinning.
            if o.streams[stream] == nil {
                let (state, version) = try handler.load(CaseDecider.self, stream: stream, extract: extract)
                return (state, version)
            }
            let (state, version) = try o.load(CaseDecider.self, stream: stream, extract: extract)
            return (state, version)
        }
    }

    /// The streams that commands of this batch wrote to since `cursor` (0 at first), and the
    /// cursor to pass next time.
    public func changedStreams(since cursor: Int) -> (streams: Set<String>, cursor: Int) {
        overlay.withLock { o in
            let from = min(max(cursor, 0), o.changes.count)
            return (Set(o.changes[from...]), o.changes.count)
        }
    }

    /// How many commands of the batch decided events, and how many events they are.
    public var pending: (commands: Int, events: Int) {
        overlay.withLock { ($0.parts.count, $0.eventCount) }
    }

    /// Appends every event the batch decided in one atomic multi-stream append, in the
    /// order decided, each stream's part with its expected version. Afterwards the batch
    /// takes no more commands. Committing an empty batch appends nothing.
    ///
    /// - Throws: ``CommandError`` with `.conflict` when another writer changed a stream the
    ///   batch writes to, or applied one of its commands, after the batch read it (deciding
    ///   the batch again, e.g. re-running the import, is safe); `.storage` when the log
    ///   failed. Nothing of the batch is appended then.
    @discardableResult
    public func commit() async throws(CommandError) -> BatchCommit {
        let (parts, written, versions) = overlay.withLock { o -> ([StreamAppend], [(String, Overlay.Entry)], [(versions: [RecordedCatalogVersion], part: Int)]) in
            o.sealed = true
            return (o.parts, o.streams.filter(\.value.written).map { ($0.key, $0.value) }, o.versions)
        }
        guard !parts.isEmpty else {
            return BatchCommit(commands: 0, events: 0, streams: 0, position: try handler.head())
        }
        let results: [AppendResult]
        do {
            results = try await handler.log.append(parts)
        } catch let error as EventLogError {
            switch error.code {
            case .wrongExpectedVersion:
                let expected = parts.first { $0.stream == error.stream }?.expectedVersion
                let read = expected.map { if case .exact(let v) = $0 { "version \(v)" } else { "no stream" } } ?? "another version"
                throw CommandError(.conflict, "stream \(error.stream ?? "?") changed while the batch was decided: the batch read it at \(read), it is at \(error.currentVersion.map { "version \($0)" } ?? "no stream") now (another writer, e.g. docket serve, appended meanwhile); nothing of the batch was appended; decide the batch again (re-running the import is safe)",
                                   currentVersion: error.currentVersion)
            case .duplicateEventId, .partialDuplicate:
                throw CommandError(.conflict, "another writer applied some of the batch's commands meanwhile (\(error.message)); nothing of the batch was appended; decide the batch again (re-running the import is safe)")
            case .invalidInput:
                throw CommandError(.malformed, "the log refused the batch: \(error.message); nothing of it was appended")
            default:
                throw CommandError(.storage, "appending the batch failed: \(error.message); nothing of it was appended")
            }
        } catch {
            throw CommandError(.storage, "appending the batch failed: \(error); nothing of it was appended")
        }
        // A changed contact list holds for every query from now on (R1.10).
        if parts.contains(where: { $0.stream.utf8.starts(with: "org-".utf8) }) { handler.contactLists.invalidate() }
        // Versions the batch recorded are in force from now on (R4.9).
        if !versions.isEmpty {
            let placed = versions.flatMap { v in
                RecordedCatalogVersion.appended(v.versions, at: v.part < results.count ? results[v.part].positions : [])
            }
            handler.liveCatalog.include(placed, logger: handler.logger)
        }
        // The log now holds exactly the overlay's states (expected versions held), so the
        // next batch or live command need not fold these streams again.
        if !results.contains(where: \.duplicate) {
            for (stream, entry) in written {
                if let version = entry.version { handler.stateCache.put(stream, state: entry.state, version: version) }
            }
        }
        let events = results.reduce(0) { $0 + ($1.duplicate ? 0 : $1.positions.count) }
        let position: UInt64
        if let last = results.compactMap({ $0.positions.max() }).max() {
            position = last
        } else {
            position = try handler.head()
        }
        return BatchCommit(commands: parts.count, events: events, streams: Set(parts.map(\.stream)).count, position: position)
    }
}

/// The overlay of a ``CommandBatch``: stream states as its commands left them, over the log.
struct Overlay: StreamStates {
    /// A stream's state in the batch.
    struct Entry {
        var state: any Sendable
        var version: UInt64?
        /// True when a command of the batch wrote to the stream.
        var written: Bool
    }

    /// A command of the batch that decided events.
    struct Pending {
        var actor: PrincipalIdentity
        var stream: String
        var type: String
        var eventTypes: [String]
        var version: UInt64
    }

    let handler: CommandHandler
    var streams: [String: Entry] = [:]
    var parts: [StreamAppend] = []
    var changes: [String] = []
    var commands: [UUID: Pending] = [:]
    var eventCount = 0
    var sealed = false
    /// The policies and calendars the batch decides with: the handler's when it began, and
    /// the versions its own commands recorded.
    var catalog: PolicyCatalog
    /// The policy and calendar versions the batch's commands recorded, with the index of
    /// the part (command) whose events record them.
    var versions: [(versions: [RecordedCatalogVersion], part: Int)] = []

    init(handler: CommandHandler, catalog: PolicyCatalog) {
        self.handler = handler
        self.catalog = catalog
    }

    mutating func load<D: Decider>(_ decider: D.Type, stream: String, extract: (DomainEvent) -> D.Event?) throws(CommandError)
        -> (D.State, UInt64?)
    {
        if let entry = streams[stream] {
            guard let state = entry.state as? D.State else {
                throw CommandError(.malformed, "stream \(stream) holds \(type(of: entry.state)) in this batch, not \(D.State.self); send the command to a stream of its own aggregate")
            }
            return (state, entry.version)
        }
        let (state, version) = try handler.load(decider, stream: stream, extract: extract)
        streams[stream] = Entry(state: state, version: version, written: false)
        return (state, version)
    }

    mutating func allOrganisations() throws(CommandError) -> [String: OrganisationState] {
        var result = try handler.allOrganisations()
        for (stream, entry) in streams where stream.hasPrefix("org-") {
            if let state = entry.state as? OrganisationState, let id = state.id { result[id] = state }
        }
        return result
    }
}

/// One command decided in a ``CommandBatch``.
public struct BatchedCommand: Sendable, Hashable {
    /// The command's id.
    public var commandId: UUID
    /// The stream it went to.
    public var streamId: String
    /// The types of the events it decided (pending until the batch commits), or of the
    /// events it appended earlier when ``duplicate``.
    public var eventTypes: [String]
    /// The stream's version after the command (`nil` when the stream has no events).
    public var streamVersion: UInt64?
    /// True when this commandId had been applied before (in the log or earlier in the batch):
    /// it adds nothing to the batch.
    public var duplicate: Bool
}

/// What ``CommandBatch/commit()`` appended.
public struct BatchCommit: Sendable, Hashable {
    /// Commands whose events were appended.
    public var commands: Int
    /// Events appended.
    public var events: Int
    /// Streams written to.
    public var streams: Int
    /// The log position of the batch's last event (the log head when nothing was appended).
    public var position: UInt64
}

extension CommandHandler {
    /// Begins a batch of commands decided against in-memory state and appended atomically
    /// by ``CommandBatch/commit()``. The batch uses the policies and calendars in force now.
    public func beginBatch() -> CommandBatch {
        CommandBatch(handler: self)
    }
}
