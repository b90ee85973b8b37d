import EventLog
import Foundation
import LMDB
import Logging
import Synchronization

/// Runs projections over the event log: catch-up in large batches, then live; rebuilds.
///
/// Every batch is one write transaction on the log's writer thread (DESIGN.md rule 2) that
/// reads the events after the checkpoint straight from the `events` database, runs the
/// handlers, flushes the projection's tables and moves the checkpoint (rule 5). A handler
/// that throws aborts its batch and stops that projection with an error naming the event's
/// position; other projections go on.
///
/// Storage (schemas/storage.md "Projections"): `proj.checkpoints` maps a projection name to
/// its checkpoint and active slot; each projection has two table databases,
/// `proj.<name>.a` and `proj.<name>.b`, of which one is active.
public final class ProjectionRunner: Sendable {
    /// Events per write transaction while catching up or rebuilding.
    public static let defaultBatchSize = 8_192

    let log: EventLog
    let logger: Logger
    let entries: [Entry]
    let checkpoints: Database
    let events: Database
    let state: Mutex<State>

    struct State {
        var checkpoints: [String: UInt64] = [:]
        var failures: [String: ProjectionError] = [:]
    }

    /// A projection with its databases, its generic step type-erased.
    struct Entry: Sendable {
        let name: String
        let tables: (a: Database, b: Database)
        let step: @Sendable (borrowing WriteTransaction, StepTarget) throws -> StepResult
    }

    /// Where a step reads its checkpoint: the live key, or the rebuild key.
    struct StepTarget: Sendable {
        let events: Database
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
    /// - Throws: ``ProjectionError`` `.storage` when a database cannot be opened, or
    ///   `.unknownProjection` for a duplicate or malformed name.
    public init(log: EventLog, projections: [any Projection], logger: Logger) throws {
        self.log = log
        self.logger = logger
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
            self.events = try log.environment.openExistingDatabase(named: EventLog.DatabaseName.events)
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
        Entry(name: p.name, tables: tables, step: { txn, target in try step(p, txn: txn, target: target) })
    }

    /// Names of the projections, in registration order.
    public var names: [String] { entries.map(\.name) }

    // MARK: - Checkpoints

    struct Checkpoint {
        var position: UInt64
        var slotB: Bool
    }

    static func decodeCheckpoint(_ value: UnsafeRawBufferPointer?) -> Checkpoint {
        guard let value, value.count == 9 else { return Checkpoint(position: 0, slotB: false) }
        return Checkpoint(position: RawRecord.be64(value, 0), slotB: value[8] == UInt8(ascii: "b"))
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
    /// most `target.limit`, into the slot that checkpoint names.
    static func step<P: Projection>(_ p: P, txn: borrowing WriteTransaction, target: StepTarget) throws -> StepResult {
        let cp = decodeCheckpoint(try txn.get(target.checkpoints, key: target.key))
        let table = cp.slotB ? target.tables.b : target.tables.a
        let handlers = p.handlers
        var batch = p.makeBatch()
        var last = cp.position
        var typeCache: [UInt64: String] = [:]
        try txn.withCursor(target.events) { cursor in
            var entry = try cursor.get(.setRange, key: Keys.be64(cp.position + 1))
            var count = 0
            while let e = entry, count < target.limit {
                let position = RawRecord.be64(e.key, 0)
                guard let typeBytes = RawRecord.typeBytes(e.value) else {
                    throw ProjectionError(.corruptRecord, projection: p.name, position: position,
                                          "the record at log position \(position) is malformed; run `docket log verify`")
                }
                let type = typeCache.cachedString(typeBytes)
                if let handler = handlers[type] {
                    guard let event = RawRecord.event(e.value, type: type) else {
                        throw ProjectionError(.corruptRecord, projection: p.name, position: position,
                                              "the record at log position \(position) is malformed; run `docket log verify`")
                    }
                    do {
                        try handler(&batch, event, table, txn)
                    } catch let error as ProjectionError {
                        throw error
                    } catch {
                        throw ProjectionError(.handlerFailed, projection: p.name, position: position,
                                              "projection \(p.name) stopped at log position \(position) (\(type) in \(event.stream)): \(error)")
                    }
                }
                last = position
                count += 1
                entry = try cursor.get(.next)
            }
        }
        guard last != cp.position else { return StepResult(from: cp.position, to: cp.position) }
        try p.flush(&batch, table: table, txn: txn)
        try txn.put(target.checkpoints, key: target.key, value: encodeCheckpoint(Checkpoint(position: last, slotB: cp.slotB)))
        return StepResult(from: cp.position, to: last)
    }

    /// Runs one batch of every projection that has not failed, each in its own transaction.
    /// Returns whether any checkpoint moved.
    @discardableResult
    public func step(batchSize: Int = ProjectionRunner.defaultBatchSize) async throws -> Bool {
        var moved = false
        for e in entries {
            if state.withLock({ $0.failures[e.name] != nil }) { continue }
            let target = StepTarget(events: events, checkpoints: checkpoints, key: Array(e.name.utf8), tables: e.tables,
                                    limit: max(1, batchSize))
            do {
                let r = try await log.writer.perform { context in try context.transaction { txn in try e.step(txn, target) } }
                state.withLock { $0.checkpoints[e.name] = r.to }
                if r.to != r.from { moved = true }
            } catch {
                let failure = (error as? ProjectionError)
                    ?? ProjectionError(.storage, projection: e.name, "projection \(e.name) failed to write: \(error)")
                logger.error("projection stopped", metadata: ["projection": "\(e.name)", "error": "\(failure.message)"])
                state.withLock { $0.failures[e.name] = failure }
            }
        }
        return moved
    }

    /// Brings every projection up to the log's current head (catch-up), batch by batch.
    ///
    /// - Parameter progress: called after each batch with the lowest checkpoint and the head.
    /// - Throws: the first ``ProjectionError`` of a projection that stopped.
    public func catchUp(batchSize: Int = ProjectionRunner.defaultBatchSize,
                        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) async throws {
        let head = try log.head().position
        while try await step(batchSize: batchSize) {
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
        let target = StepTarget(events: events, checkpoints: cps, key: rebuildKey, tables: e.tables, limit: max(1, batchSize))
        // 1. Empty the inactive slot and point the rebuild checkpoint at it.
        try await log.writer.perform { context in
            try context.transaction { txn in
                let live = Self.decodeCheckpoint(try txn.get(cps, key: liveKey))
                try txn.removeAll(live.slotB ? e.tables.a : e.tables.b)
                try txn.put(cps, key: rebuildKey, value: Self.encodeCheckpoint(Checkpoint(position: 0, slotB: !live.slotB)))
            }
        }
        // 2. Fill it batch by batch.
        while true {
            let head = try log.head().position
            let r = try await log.writer.perform { context in try context.transaction { txn in try e.step(txn, target) } }
            progress?(r.to, max(head, r.to))
            if r.to == r.from || r.to >= head { break }
        }
        // 3. Swap: fold what arrived meanwhile, activate, move the checkpoint.
        let (position, oldSlotB) = try await log.writer.perform { context in
            try context.transaction { txn -> (UInt64, Bool) in
                while true {
                    let r = try e.step(txn, target)
                    if r.to == r.from { break }
                }
                let built = Self.decodeCheckpoint(try txn.get(cps, key: rebuildKey))
                let live = Self.decodeCheckpoint(try txn.get(cps, key: liveKey))
                try txn.put(cps, key: liveKey, value: Self.encodeCheckpoint(built))
                try txn.delete(cps, key: rebuildKey)
                return (built.position, live.slotB)
            }
        }
        // 4. Empty the old slot.
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

extension Dictionary where Key == UInt64, Value == String {
    /// The string of `bytes`, cached by a cheap hash so repeated event types are not
    /// decoded again (collisions fall back to decoding).
    mutating func cachedString(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= UInt64(bytes.count) << 56
        if let s = self[h], s.utf8.elementsEqual(bytes) { return s }
        let s = String(decoding: bytes, as: UTF8.self)
        self[h] = s
        return s
    }
}
