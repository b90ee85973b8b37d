import EventLog
import Foundation
import LMDB
import Logging
import Synchronization

/// Runs projections over the event log: catch-up in large batches, then live; rebuilds.
///
/// Every batch is one write transaction on the log's writer thread (DESIGN.md rule 2) that
/// reads the events after the checkpoint straight from the `events` database, runs the
/// handlers, flushes the projection's tables and moves the checkpoint (rule 5). For a
/// ``PreparedStepProjection`` a live step is folded and encoded beforehand in a read
/// transaction on the caller's thread; the write transaction then only checks that the
/// checkpoint has not moved and writes. A handler
/// that throws aborts its batch and stops that projection with an error naming the event's
/// position; other projections go on.
///
/// Storage (schemas/storage.md "Projections"): `proj.checkpoints` maps a projection name to
/// its checkpoint and active slot; each projection has two table databases,
/// `proj.<name>.a` and `proj.<name>.b`, of which one is active.
public final class ProjectionRunner: Sendable {
    /// Events per write transaction while catching up or rebuilding.
    public static let defaultBatchSize = 8_192

    /// The default of ``residentFileBudget``: that of ``MappedPageBudget/default``, 256 MiB.
    public static let defaultResidentFileBudget = MappedPageBudget.default.residentBytes

    /// File-backed memory (shared libraries included, ``Environment/residentFileBytes()``)
    /// above which the runner has the log drop the process's mappings of the data file after
    /// a step (``EventLog/relinquishMappedPages(afterReading:budget:)``): after every batch of a
    /// catch-up and every live step that folded a backlog (``bulkStepEvents`` or more), and
    /// otherwise at most once per ``liveReleaseInterval``. Every page read stays mapped
    /// otherwise and counts as the process's resident memory: a catch-up over a large log,
    /// a calendar version that brings in every open case, or a server whose appends land on
    /// pages all over the file (each read of one maps 16 pages around it) leave gigabytes of
    /// the file mapped. The pages stay in the page cache, so readers only map them again.
    public let residentFileBudget: Int

    /// The shortest time between two releases after live steps of a few events. Releasing
    /// after every step made every query fault its pages in again under a stream of
    /// commands; once a second, a query's pages are mapped again at most once a second.
    public let liveReleaseInterval: Duration

    /// A live step that folds at least this many events is folding a backlog (a restart, a
    /// burst), like a catch-up batch: it releases the data file's pages above the budget.
    public static let bulkStepEvents: UInt64 = 4_096

    /// ``residentFileBudget``, ``bulkStepEvents`` and ``liveReleaseInterval`` as the log's
    /// page budget, which the log applies after each step.
    var pageBudget: MappedPageBudget {
        MappedPageBudget(residentBytes: residentFileBudget, bulkRecords: Int(Self.bulkStepEvents), liveInterval: liveReleaseInterval)
    }

    let log: EventLog
    let logger: Logger
    let entries: [Entry]
    let checkpoints: Database
    let state: Mutex<State>

    struct State {
        var checkpoints: [String: UInt64] = [:]
        var failures: [String: ProjectionError] = [:]
    }

    /// A projection with its databases, its generic step type-erased.
    struct Entry: Sendable {
        let name: String
        let tables: (a: Database, b: Database)
        /// One step: the transaction, where to read and write, the rebuild's carried working
        /// set (nil: flush every step), events read ahead (nil: read the log here), flush now.
        let step: @Sendable (borrowing WriteTransaction, StepTarget, CarriedBatch?, PreparedChunk?, Bool) throws -> StepResult
        /// The event types the projection handles.
        let types: Set<String>
        /// The projection's ``Projection/predecode(_:)``.
        let predecode: @Sendable (ProjectionEvent) -> (any Sendable)?
        /// ``ParallelRebuildProjection/rebuildInParallel(log:upTo:progress:append:)``, when it has one.
        let parallelRebuild: ParallelRebuild?
        /// ``Projection/formatVersion``.
        let formatVersion: Int
        /// A live step folded and encoded in a read transaction, for a
        /// ``PreparedStepProjection``: nil for the others.
        let prepare: (@Sendable (borrowing ReadTransaction, StepTarget) throws -> PreparedStep)?
    }

    /// A live step prepared off the writer thread: the checkpoint it starts from and the
    /// one it reaches, and what to write (nil when no event was folded).
    struct PreparedStep: Sendable {
        let from: Checkpoint
        let to: UInt64
        let writes: TableWrites?
    }

    typealias ParallelRebuild = @Sendable (EventLog, UInt64, @escaping @Sendable (UInt64) -> Void,
                                           @escaping @Sendable (SortedChunk) throws -> Void) throws -> Bool

    /// Where a step reads its checkpoint: the live key, or the rebuild key.
    struct StepTarget: Sendable {
        /// The log the step reads (in its own transaction).
        let log: EventLog
        let checkpoints: Database
        let key: [UInt8]
        let tables: (a: Database, b: Database)
        let limit: Int
    }

    struct StepResult: Sendable {
        let from: UInt64
        let to: UInt64
    }

    /// Opens (creating when missing) the projections' databases in the log's environment.
    ///
    /// - Parameter residentFileBudget: see ``residentFileBudget``.
    /// - Parameter liveReleaseInterval: see ``liveReleaseInterval``.
    /// - Throws: ``ProjectionError`` `.storage` when a database cannot be opened, or
    ///   `.unknownProjection` for a duplicate or malformed name.
    public init(log: EventLog, projections: [any Projection], logger: Logger,
                residentFileBudget: Int = ProjectionRunner.defaultResidentFileBudget,
                liveReleaseInterval: Duration = .seconds(1)) throws {
        self.log = log
        self.logger = logger
        self.residentFileBudget = max(0, residentFileBudget)
        self.liveReleaseInterval = max(.zero, liveReleaseInterval)
        var seen = Set<String>()
        for p in projections {
            guard !p.name.isEmpty, p.name.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }) else {
                throw ProjectionError(.unknownProjection, projection: p.name, "projection name \"\(p.name)\" must be lowercase letters, digits and '-'")
            }
            guard seen.insert(p.name).inserted else {
                throw ProjectionError(.unknownProjection, projection: p.name, "projection \(p.name) is registered twice")
            }
        }
        let names = projections.map(\.name)
        do {
            let opened = try log.writer.performAndWait { context -> (Database, [(Database, Database)]) in
                let cp = try context.openDatabase(named: "proj.checkpoints")
                var tables: [(Database, Database)] = []
                for name in names {
                    tables.append((try context.openDatabase(named: "proj.\(name).a"), try context.openDatabase(named: "proj.\(name).b")))
                }
                return (cp, tables)
            }
            self.checkpoints = opened.0
            var entries: [Entry] = []
            for (i, p) in projections.enumerated() { entries.append(Self.entry(p, tables: opened.1[i])) }
            self.entries = entries
        } catch {
            throw ProjectionError(.storage, projection: names.joined(separator: ","), "cannot open projection databases: \(error)")
        }
        self.state = Mutex(State())
        for e in entries {
            let cp = try readCheckpoint(key: Array(e.name.utf8))
            state.withLock { $0.checkpoints[e.name] = cp.position }
        }
    }

    private static func entry<P: Projection>(_ p: P, tables: (Database, Database)) -> Entry {
        Entry(name: p.name, tables: tables, step: { txn, target, carried, chunk, flushNow in
            try step(p, txn: txn, target: target, carried: carried, chunk: chunk, flushNow: flushNow)
        }, types: Set(p.handlers.keys), predecode: { p.predecode($0) }, parallelRebuild: parallelRebuild(p),
              formatVersion: p.formatVersion, prepare: prepare(p))
    }

    private static func prepare<P: Projection>(_ p: P) -> (@Sendable (borrowing ReadTransaction, StepTarget) throws -> PreparedStep)? {
        guard let q = p as? any PreparedStepProjection else { return nil }
        return { txn, target in try prepareStep(q, txn: txn, target: target) }
    }

    private static func parallelRebuild<P: Projection>(_ p: P) -> ParallelRebuild? {
        guard let q = p as? any ParallelRebuildProjection else { return nil }
        return { log, head, progress, append in
            try q.prepareRebuild(log: log, upTo: head)
            return try q.rebuildInParallel(log: log, upTo: head, progress: progress, append: append)
        }
    }

    /// Names of the projections, in registration order.
    public var names: [String] { entries.map(\.name) }

    // MARK: - Checkpoints

    struct Checkpoint: Sendable, Equatable {
        var position: UInt64
        var slotB: Bool
    }

    static func decodeCheckpoint(_ value: UnsafeRawBufferPointer?) -> Checkpoint {
        guard let value, value.count == 9 else { return Checkpoint(position: 0, slotB: false) }
        return Checkpoint(position: Keys.uint64(value, at: 0), slotB: value[8] == UInt8(ascii: "b"))
    }

    static func encodeCheckpoint(_ c: Checkpoint) -> [UInt8] {
        Keys.be64(c.position) + [c.slotB ? UInt8(ascii: "b") : UInt8(ascii: "a")]
    }

    func readCheckpoint(key: [UInt8]) throws -> Checkpoint {
        do {
            return try log.environment.read { txn in Self.decodeCheckpoint(try txn.get(checkpoints, key: key)) }
        } catch {
            throw ProjectionError(.storage, projection: String(decoding: key, as: UTF8.self), "cannot read checkpoint: \(error)")
        }
    }

    /// Progress of every projection: checkpoint, log head, lag, active slot, failure.
    public func statuses() throws -> [ProjectionStatus] {
        let head = try log.head().position
        let failures = state.withLock { $0.failures }
        return try entries.map { e in
            let cp = try readCheckpoint(key: Array(e.name.utf8))
            return ProjectionStatus(name: e.name, checkpoint: cp.position, head: head, slot: cp.slotB ? "b" : "a",
                                    failure: failures[e.name]?.message)
        }
    }

    /// Progress of projection `name`.
    public func status(_ name: String) throws -> ProjectionStatus {
        guard let s = try statuses().first(where: { $0.name == name }) else { throw unknown(name) }
        return s
    }

    func unknown(_ name: String) -> ProjectionError {
        ProjectionError(.unknownProjection, projection: name, "no projection named \(name); known: \(names.joined(separator: ", "))")
    }

    // MARK: - Stepping

    /// One batch of `p` inside `txn`: events after the checkpoint under `target.key`, at
    /// most `target.limit`, into the slot that checkpoint names; or, with `chunk`, exactly the
    /// events a rebuild read ahead (they must start right after the checkpoint).
    ///
    /// With `carried` (rebuilds), the batch folded so far is taken out of the box (so it is
    /// mutated in place, not copied) and put back unflushed unless `flushNow` or the
    /// projection asks for a flush. A transaction that runs this twice (LMDB retries after
    /// growing the map) must not fold the same events into the box again: rebuilds detect
    /// the retry and start over (``RebuildInterrupted``).
    static func step<P: Projection>(_ p: P, txn: borrowing WriteTransaction, target: StepTarget, carried: CarriedBatch? = nil,
                                     chunk: PreparedChunk? = nil, flushNow: Bool = false) throws -> StepResult {
        let cp = decodeCheckpoint(try txn.get(target.checkpoints, key: target.key))
        let table = cp.slotB ? target.tables.b : target.tables.a
        let handlers = p.handlers
        var hadCarried = false
        var batch: P.Batch
        if let box = carried, let value = box.value as? P.Batch {
            box.value = nil  // `batch` is now the only reference: folding mutates in place
            batch = value
            hadCarried = true
        } else {
            batch = p.makeBatch()
        }
        var last = cp.position
        func apply(_ handler: ProjectionHandler<P.Batch>, _ event: ProjectionEvent) throws {
            do {
                try handler(&batch, event, table, txn)
            } catch {
                throw handlerFailure(p.name, event, error)
            }
        }
        if let chunk {
            guard chunk.first == cp.position + 1 else {
                throw ProjectionError(.storage, projection: p.name, position: chunk.first,
                                      "events read ahead start at \(chunk.first), not after the checkpoint \(cp.position)")
            }
            for event in chunk.events {
                if let handler = handlers[event.type] { try apply(handler, event) }
            }
            if let error = chunk.error { throw error }
            last = chunk.last
        } else {
            last = try forEachEvent(txn, target: target, after: cp.position, projection: p.name,
                                    handles: { handlers[$0] != nil }) { event in
                if let handler = handlers[event.type] { try apply(handler, event) }
            }
        }
        let moved = last != cp.position
        let flushing = carried == nil || flushNow || p.shouldFlushDuringRebuild(batch)
        if flushing && (moved || hadCarried) { try p.flush(&batch, table: table, txn: txn) }
        if moved {
            try txn.put(target.checkpoints, key: target.key, value: encodeCheckpoint(Checkpoint(position: last, slotB: cp.slotB)))
            // Tables started from nothing are of the current layout.
            if cp.position == 0 && target.key.elementsEqual(p.name.utf8) {
                try txn.put(target.checkpoints, key: formatKey(p.name), value: Keys.be32(UInt32(p.formatVersion)))
            }
        }
        if let box = carried { box.value = flushing ? nil : batch }
        return StepResult(from: cp.position, to: last)
    }

    /// Calls `body` with each event after `position` (up to the target's limit) whose type
    /// `handles`, read by the log's scan inside `txn`; returns the last position read,
    /// handled or not (`position` when none).
    static func forEachEvent<T: TransactionReading & ~Copyable>(
        _ txn: borrowing T, target: StepTarget, after position: UInt64, projection: String,
        handles: (String) -> Bool, _ body: (ProjectionEvent) throws -> Void
    ) throws -> UInt64 {
        do {
            return try target.log.scan(in: txn, after: position, limit: target.limit) { record in
                let type = record.type
                if handles(type) { try body(ProjectionEvent(record)) }
            }
        } catch let error as EventLogError {
            throw ProjectionError.unreadable(projection, error)
        }
    }

    /// The error a handler's `error` stops projection `name` with, naming the event.
    static func handlerFailure(_ name: String, _ event: ProjectionEvent, _ error: any Error) -> ProjectionError {
        if let error = error as? ProjectionError { return error }
        return ProjectionError(.handlerFailed, projection: name, position: event.position,
                               "projection \(name) stopped at log position \(event.position) (\(event.type) in \(event.stream)): \(error)")
    }

    /// A live step of `p` folded and encoded in the read transaction `txn`: what ``step(_:txn:target:carried:chunk:flushNow:)``
    /// would write in a write transaction that starts where `txn` does.
    static func prepareStep<P: PreparedStepProjection>(_ p: P, txn: borrowing ReadTransaction, target: StepTarget) throws -> PreparedStep {
        let cp = decodeCheckpoint(try txn.get(target.checkpoints, key: target.key))
        let table = cp.slotB ? target.tables.b : target.tables.a
        let types = Set(p.handlers.keys)
        var batch = p.makeBatch()
        let last = try forEachEvent(txn, target: target, after: cp.position, projection: p.name, handles: types.contains) { event in
            do {
                try p.fold(&batch, event, table: table, txn: txn)
            } catch {
                throw handlerFailure(p.name, event, error)
            }
        }
        guard last != cp.position else { return PreparedStep(from: cp, to: last, writes: nil) }
        return PreparedStep(from: cp, to: last, writes: try p.writes(flushing: &batch))
    }

    /// Writes a prepared step and moves the checkpoint, as the step would have; `nil`, with
    /// nothing written, when the checkpoint is no longer where the step was prepared from
    /// (another step or a rebuild's swap came first).
    static func applyPrepared(_ prepared: PreparedStep, txn: borrowing WriteTransaction, target: StepTarget,
                              name: String, formatVersion: Int) throws -> StepResult? {
        let cp = decodeCheckpoint(try txn.get(target.checkpoints, key: target.key))
        guard cp == prepared.from else { return nil }
        guard let writes = prepared.writes else { return StepResult(from: cp.position, to: cp.position) }
        try writes.apply(to: cp.slotB ? target.tables.b : target.tables.a, txn: txn)
        try txn.put(target.checkpoints, key: target.key, value: encodeCheckpoint(Checkpoint(position: prepared.to, slotB: cp.slotB)))
        if cp.position == 0 && target.key.elementsEqual(name.utf8) {
            try txn.put(target.checkpoints, key: formatKey(name), value: Keys.be32(UInt32(formatVersion)))
        }
        return StepResult(from: cp.position, to: prepared.to)
    }

    /// Runs one batch of every projection that has not failed, each in its own transaction.
    /// Returns whether any checkpoint moved. When one did and the process holds more than
    /// ``residentFileBudget`` of file-backed memory, the data file's pages are unmapped if
    /// the step folded ``bulkStepEvents`` events or more, or if the last release was
    /// ``liveReleaseInterval`` ago or longer.
    @discardableResult
    public func step(batchSize: Int = ProjectionRunner.defaultBatchSize) async throws -> Bool {
        try await step(batchSize: batchSize, bulk: false)
    }

    /// ``step(batchSize:)``; `bulk` (a catch-up's batch) releases above the budget whatever
    /// the step folded.
    func step(batchSize: Int, bulk: Bool) async throws -> Bool {
        var moved = false
        var folded: UInt64 = 0
        for e in entries {
            if state.withLock({ $0.failures[e.name] != nil }) { continue }
            let target = StepTarget(log: log, checkpoints: checkpoints, key: Array(e.name.utf8), tables: e.tables,
                                    limit: max(1, batchSize))
            do {
                let r: StepResult
                if let prepare = e.prepare {
                    // Fold and encode here, in a read transaction; the writer thread only
                    // writes (and folds in place if the checkpoint moved meanwhile).
                    let prepared = try log.environment.read { txn in try prepare(txn, target) }
                    r = try await log.writer.perform { context in
                        try context.transaction { txn in
                            try Self.applyPrepared(prepared, txn: txn, target: target, name: e.name, formatVersion: e.formatVersion)
                                ?? e.step(txn, target, nil, nil, false)
                        }
                    }
                } else {
                    r = try await log.writer.perform { context in
                        try context.transaction { txn in try e.step(txn, target, nil, nil, false) }
                    }
                }
                state.withLock { $0.checkpoints[e.name] = r.to }
                if r.to != r.from {
                    moved = true
                    folded = max(folded, r.to - r.from)
                }
            } catch {
                let failure = (error as? ProjectionError)
                    ?? ProjectionError(.storage, projection: e.name, "projection \(e.name) failed to write: \(error)")
                logger.error("projection stopped", metadata: ["projection": "\(e.name)", "error": "\(failure.message)"])
                state.withLock { $0.failures[e.name] = failure }
            }
        }
        if moved {
            // The log's page budget: a bulk step releases above it, a small one at most once per interval.
            log.relinquishMappedPages(afterReading: bulk ? Int.max : Int(clamping: folded), budget: pageBudget)
        }
        return moved
    }

    /// Brings every projection up to the log's current head (catch-up), batch by batch.
    ///
    /// - Parameter progress: called after each batch with the lowest checkpoint and the head.
    /// - Throws: the first ``ProjectionError`` of a projection that stopped.
    public func catchUp(batchSize: Int = ProjectionRunner.defaultBatchSize,
                        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) async throws {
        try await rebuildOutdated(batchSize: batchSize)
        let head = try log.head().position
        while try await step(batchSize: batchSize, bulk: true) {
            let low = state.withLock { s in s.checkpoints.values.min() ?? 0 }
            progress?(low, head)
            if low >= head { break }
        }
        if let failure = state.withLock({ s in s.failures.values.sorted { $0.projection < $1.projection }.first }) {
            throw failure
        }
    }

    /// Catches up, then follows the log live until the task is cancelled or the log closes.
    /// A projection that fails stops; the others keep running.
    public func run(batchSize: Int = ProjectionRunner.defaultBatchSize) async throws {
        try await rebuildOutdated(batchSize: batchSize)
        while !Task.isCancelled {
            if try await step(batchSize: batchSize) { continue }
            let low = state.withLock { s in
                s.checkpoints.filter { s.failures[$0.key] == nil }.values.min() ?? UInt64.max
            }
            if low == UInt64.max { return }  // every projection stopped
            var waiting = log.subscribe(from: low + 1, batchSize: 1).makeAsyncIterator()
            guard try await waiting.next() != nil else { return }
        }
    }

    /// Waits until every projection (or `projection`) has folded the log up to `position`:
    /// read-your-writes for a caller that got `position` back from an append.
    ///
    /// - Throws: `.timeout` after `timeout`, `.stopped` when the projection failed.
    public func waitUntil(position: UInt64, projection: String? = nil, timeout: Duration = .seconds(5)) async throws {
        if let projection, !names.contains(projection) { throw unknown(projection) }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (reached, failure) = state.withLock { s -> (Bool, ProjectionError?) in
                let relevant = entries.map(\.name).filter { projection == nil || $0 == projection }
                if let f = relevant.compactMap({ s.failures[$0] }).first { return (false, f) }
                return (relevant.allSatisfy { (s.checkpoints[$0] ?? 0) >= position }, nil)
            }
            if let failure {
                throw ProjectionError(.stopped, projection: failure.projection, position: failure.position, failure.message)
            }
            if reached { return }
            if clock.now >= deadline {
                throw ProjectionError(.timeout, projection: projection ?? names.joined(separator: ","), position: position,
                                      "projections did not reach log position \(position) within \(timeout); check `docket` projection status for lag")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    // MARK: - Reading

    /// Runs `body` in a read transaction with the active table database of `projection`.
    public func read<R>(_ projection: String, _ body: (borrowing ReadTransaction, Database) throws -> R) throws -> R {
        guard let e = entries.first(where: { $0.name == projection }) else { throw unknown(projection) }
        let key = Array(projection.utf8)
        return try log.environment.read { txn in
            let cp = Self.decodeCheckpoint(try txn.get(checkpoints, key: key))
            return try body(txn, cp.slotB ? e.tables.b : e.tables.a)
        }
    }

    /// Every entry of `projection`'s active table whose key starts with `prefix`, in key
    /// order, at most `limit`, passed to `body` (which returns what to keep).
    public func scan<T>(_ projection: String, prefix: [UInt8], limit: Int = Int.max,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> T) throws -> [T] {
        try read(projection) { txn, db in
            try txn.withCursor(db) { cursor in
                var out: [T] = []
                var e = try cursor.get(.setRange, key: prefix)
                while let x = e, Keys.hasPrefix(x.key, prefix), out.count < limit {
                    out.append(try body(x.key, x.value))
                    e = try cursor.get(.next)
                }
                return out
            }
        }
    }

    // MARK: - Rebuild

    /// Rebuilds `projection` from position 1 into its inactive slot, then swaps it in: one
    /// write transaction folds the last events up to the head, makes the new slot active
    /// and moves the checkpoint; the old slot is emptied afterwards. Readers see either the
    /// old tables or the new ones, never a mix.
    ///
    /// - Parameter progress: called after each batch with the rebuilt position and the head.
    public func rebuild(_ projection: String, batchSize: Int = ProjectionRunner.defaultBatchSize,
                        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) async throws {
        guard let e = entries.first(where: { $0.name == projection }) else { throw unknown(projection) }
        let liveKey = Array(projection.utf8)
        let rebuildKey = Array((projection + "#rebuild").utf8)
        let cps = checkpoints
        let target = StepTarget(log: log, checkpoints: cps, key: rebuildKey, tables: e.tables, limit: max(1, batchSize))
        // A rebuild reads every page of the log, writes a second copy of the tables and then
        // frees the first: keep none of those pages resident longer than a moment.
        let releaser = log.startPageReleaseTimer()
        defer { releaser.stop() }
        @Sendable func live(_ txn: borrowing WriteTransaction) throws -> Checkpoint { Self.decodeCheckpoint(try txn.get(cps, key: liveKey)) }
        // 1. Empty the inactive slot and point the rebuild checkpoint at it.
        try await log.writer.perform { context in
            try context.transaction { txn in
                try txn.removeAll(live(txn).slotB ? e.tables.a : e.tables.b)
                try txn.put(cps, key: rebuildKey, value: Self.encodeCheckpoint(Checkpoint(position: 0, slotB: !live(txn).slotB)))
            }
        }
        // 2. Fill it batch by batch, up to the head as it is now. A reader thread reads the
        //    log ahead and decodes payloads (``Projection/predecode(_:)``) on the other core
        //    while the writer thread folds and writes. The projection's working set is carried
        //    from one transaction to the next (flushed when the projection says it holds too
        //    much), so a case touched in many batches is loaded and written once.
        // 3. Swap: fold what arrived meanwhile, activate, move the checkpoint.
        //    A transaction retried by LMDB (the map grew) would fold carried events twice, so
        //    a retry starts the rebuild over instead (the map is larger by then).
        var swapped: (UInt64, Bool)?
        for attempt in 1...3 {
            do {
                if attempt > 1 {
                    try await log.writer.perform { context in
                        try context.transaction { txn in
                            try txn.removeAll(live(txn).slotB ? e.tables.a : e.tables.b)
                            try txn.put(cps, key: rebuildKey, value: Self.encodeCheckpoint(Checkpoint(position: 0, slotB: !live(txn).slotB)))
                        }
                    }
                }
                swapped = try await fillAndSwap(e, target: target, liveKey: liveKey, batchSize: batchSize, progress: progress)
                break
            } catch is RebuildInterrupted {
                logger.warning("projection rebuild restarted: the map grew during a carried transaction",
                               metadata: ["projection": "\(projection)", "attempt": "\(attempt)"])
            }
        }
        guard let (position, oldSlotB) = swapped else {
            throw ProjectionError(.storage, projection: projection, "the rebuild of \(projection) was interrupted by map growth three times; run it again")
        }
        // 4. Empty the old slot. LMDB reads every leaf of a table with overflow pages to free
        //    it, a gigabyte in a fraction of a second: release the pages more often meanwhile.
        releaser.enterHeavyPhase()
        try await log.writer.perform { context in
            try context.transaction { txn in try txn.removeAll(oldSlotB ? e.tables.b : e.tables.a) }
        }
        state.withLock { s in
            s.checkpoints[projection] = position
            s.failures[projection] = nil
        }
        logger.info("projection rebuilt", metadata: ["projection": "\(projection)", "position": "\(position)"])
    }
}

extension ProjectionRunner {
    /// The `proj.checkpoints` key of a projection's table layout version.
    static func formatKey(_ name: String) -> [UInt8] { Array((name + "#format").utf8) }

    /// The layout version the tables of projection `name` were built with: what its
    /// `#format` key says, 1 when there is none (tables from before versions were recorded).
    func storedFormat(_ name: String) throws -> Int {
        try log.environment.read { txn in
            try txn.get(checkpoints, key: Self.formatKey(name)).map { b in b.count == 4 ? Int(Keys.uint32(b, at: 0)) : 1 } ?? 1
        }
    }

    /// Rebuilds every projection whose tables were built by an older layout
    /// (``Projection/formatVersion``) and hold something; `catchUp` and `run` call it first.
    public func rebuildOutdated(batchSize: Int = ProjectionRunner.defaultBatchSize) async throws {
        for e in entries where state.withLock({ $0.failures[e.name] == nil }) {
            let stored = try storedFormat(e.name)
            guard stored != e.formatVersion, try readCheckpoint(key: Array(e.name.utf8)).position > 0 else { continue }
            logger.warning("projection tables are of an older layout; rebuilding them",
                           metadata: ["projection": "\(e.name)", "stored": "\(stored)", "current": "\(e.formatVersion)"])
            try await rebuild(e.name, batchSize: batchSize)
        }
    }

    /// Phases 2 and 3 of ``rebuild(_:batchSize:progress:)``; returns the rebuilt position and
    /// whether the old live slot was b.
    fileprivate func fillAndSwap(_ e: Entry, target: StepTarget, liveKey: [UInt8], batchSize: Int,
                                 progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws -> (UInt64, Bool) {
        let cps = checkpoints
        let carried = CarriedBatch()
        let head = try log.head().position
        var folded = false
        if let parallel = e.parallelRebuild {
            folded = try await rebuildInParallel(e, parallel, target: target, head: head, progress: progress)
        }
        let ahead = ReadAhead(log: log, entry: e, upTo: folded ? 0 : head, chunkSize: max(1, batchSize))
        defer { ahead.cancel() }
        while true {
            let r = try await log.writer.perform { context in
                guard let chunk = ahead.next() else { return nil as StepResult? }
                var attempts = 0
                return try context.transaction { txn -> StepResult in
                    attempts += 1
                    guard attempts == 1 else { throw RebuildInterrupted() }
                    return try e.step(txn, target, carried, chunk, false)
                }
            }
            guard let r else { break }
            progress?(r.to, max(head, r.to))
        }
        return try await log.writer.perform { context in
            var attempts = 0
            return try context.transaction { txn -> (UInt64, Bool) in
                attempts += 1
                guard attempts == 1 else { throw RebuildInterrupted() }
                while true {
                    let r = try e.step(txn, target, carried, nil, false)
                    if r.to == r.from { break }
                }
                _ = try e.step(txn, target, carried, nil, true)
                let built = Self.decodeCheckpoint(try txn.get(cps, key: target.key))
                let live = Self.decodeCheckpoint(try txn.get(cps, key: liveKey))
                try txn.put(cps, key: liveKey, value: Self.encodeCheckpoint(built))
                try txn.delete(cps, key: target.key)
                try txn.put(cps, key: Self.formatKey(e.name), value: Keys.be32(UInt32(e.formatVersion)))
                return (built.position, live.slotB)
            }
        }
    }
}

extension ProjectionRunner {
    /// Phase 2 of a rebuild through ``ParallelRebuildProjection``: the projection folds on
    /// its own threads and hands the table over in key order; each chunk is appended
    /// (`MDB_APPEND`) in one transaction on the writer thread, so the table is written once,
    /// page after page (a retry after the map grew simply appends the chunk again). Then the
    /// rebuild checkpoint moves to `head`.
    fileprivate func rebuildInParallel(_ e: Entry, _ parallel: @escaping ParallelRebuild, target: StepTarget, head: UInt64,
                                       progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws -> Bool {
        let cps = checkpoints
        let writer = log.writer
        let slot = try await writer.perform { context in
            try context.transaction { txn in Self.decodeCheckpoint(try txn.get(cps, key: target.key)).slotB }
        }
        let table = slot ? target.tables.b : target.tables.a
        let log = self.log
        // Appends run on the writer thread while the projection merges the next chunk: at most
        // two chunks are queued (bounded memory); the first failure stops the rest.
        let slots = DispatchSemaphore(value: 2)
        let failure = Mutex<(any Error)?>(nil)
        @Sendable func drain() throws {
            for _ in 0..<2 { slots.wait() }
            for _ in 0..<2 { slots.signal() }
            if let error = failure.withLock({ $0 }) { throw error }
        }
        let folded = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
            let thread = Thread {
                continuation.resume(with: Result {
                    let result = Result {
                        try parallel(log, head, { position in progress?(position, head) }) { chunk in
                            slots.wait()
                            if let error = failure.withLock({ $0 }) {
                                slots.signal()
                                throw error
                            }
                            let accepted = writer.submit { context in
                                do {
                                    try context.transaction { txn in
                                        try chunk.forEach { key, value in try txn.put(table, key: key, value: value, flags: .append) }
                                    }
                                    // A chunk's pages were all just written: drop them whatever is resident.
                                    log.relinquishMappedPages(afterReading: .max, budget: .none)
                                } catch {
                                    failure.withLock { f in if f == nil { f = error } }
                                }
                                slots.signal()
                            }
                            if !accepted {
                                slots.signal()
                                throw ProjectionError(.storage, projection: e.name, "the LMDB writer shut down during the rebuild of \(e.name); nothing was swapped in")
                            }
                        }
                    }
                    try drain()
                    return try result.get()
                })
            }
            thread.name = "docket-rebuild"
            thread.start()
        }
        guard folded else { return false }
        try await writer.perform { context in
            try context.transaction { txn in
                try txn.put(cps, key: target.key, value: Self.encodeCheckpoint(Checkpoint(position: head, slotB: slot)))
            }
        }
        return true
    }
}

/// A rebuild transaction was retried by LMDB after it had taken the carried working set.
struct RebuildInterrupted: Error {}

/// Events of a position range read (and their payloads decoded) ahead of the writer thread.
struct PreparedChunk: Sendable {
    /// First position the chunk covers.
    let first: UInt64
    /// Last position the chunk covers (events of unhandled types are skipped, not listed).
    let last: UInt64
    /// The handled events, in order.
    let events: [ProjectionEvent]
    /// A malformed record after the listed events, reported when the chunk is applied.
    let error: ProjectionError?
}

/// Reads the log up to a position on its own thread and hands out chunks in order, at most
/// `depth` ahead of the consumer (bounded memory).
///
/// `@unchecked Sendable`: every mutable field is read and written only with `condition`
/// locked; the log, the entry and the bounds are immutable and `Sendable`.
final class ReadAhead: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [PreparedChunk] = []
    private var finished = false
    private var cancelled = false
    private let depth = 4

    init(log: EventLog, entry: ProjectionRunner.Entry, upTo head: UInt64, chunkSize: Int) {
        let thread = Thread { [self] in self.produce(log: log, entry: entry, upTo: head, chunkSize: chunkSize) }
        thread.name = "docket-rebuild-read-ahead"
        thread.start()
    }

    private func produce(log: EventLog, entry: ProjectionRunner.Entry, upTo head: UInt64, chunkSize: Int) {
        var position: UInt64 = 1
        defer {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        while position <= head {
            var events: [ProjectionEvent] = []
            var last = position - 1
            var failure: ProjectionError?
            let upTo = min(head, position + UInt64(chunkSize) - 1)
            do {
                // The log's scan applies the rebuild's page budget after the chunk, besides the
                // rebuild's page-release timer, so resident memory stays bounded even when the
                // timer's thread gets no CPU on a busy machine.
                try log.scan(positions: position...upTo, chunk: chunkSize, budget: .rebuild) { record in
                    let type = record.type
                    if entry.types.contains(type) {
                        var event = ProjectionEvent(record)
                        event.decoded = entry.predecode(event)
                        events.append(event)
                    }
                    last = record.position
                }
            } catch {
                failure = ProjectionError.unreadable(entry.name, error, at: last + 1)
            }
            if last < position && failure == nil { return }
            let chunk = PreparedChunk(first: position, last: max(last, position - 1), events: events, error: failure)
            condition.lock()
            while ready.count >= depth && !cancelled { condition.wait() }
            if cancelled {
                condition.unlock()
                return
            }
            ready.append(chunk)
            condition.broadcast()
            condition.unlock()
            if failure != nil { return }
            position = last + 1
        }
    }

    /// The next chunk, waiting for it; `nil` once everything up to the head was handed out.
    func next() -> PreparedChunk? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        guard !ready.isEmpty else { return nil }
        let chunk = ready.removeFirst()
        condition.broadcast()
        return chunk
    }

    /// Stops the reader (at most one more chunk is read).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A projection's working set carried between the transactions of a rebuild. Safe as
/// `@unchecked Sendable`: it is created by `fillAndSwap`, then read and written only inside
/// jobs on the one writer thread, which run one after another (the awaiting caller never
/// touches it).
final class CarriedBatch: @unchecked Sendable {
    var value: Any?
}
