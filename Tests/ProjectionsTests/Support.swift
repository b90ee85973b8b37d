import EventLog
import Foundation
import LMDB
import Logging
import Synchronization
import CaseDomain
@testable import Projections

/// A fresh log in a temporary directory, removed when `body` returns.
func withTempLog<R>(_ body: (EventLog, String) async throws -> R) async throws -> R {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proj-\(UUID().uuidString)").path
    var config = EventLog.Configuration()
    config.environment.durability = .noSync
    let log = try EventLog.open(directory: dir, configuration: config, logger: Logger(label: "test"))
    defer {
        log.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
    return try await body(log, dir)
}

let testLogger = Logger(label: "projections-test")

/// Every entry of a table database, as (key, value) byte arrays.
func dump(_ runner: ProjectionRunner, _ projection: String) throws -> [([UInt8], [UInt8])] {
    try runner.read(projection) { txn, db in
        try txn.withCursor(db) { cursor in
            var out: [([UInt8], [UInt8])] = []
            var e = try cursor.get(.first)
            while let x = e {
                out.append((Array(x.key), Array(x.value)))
                e = try cursor.get(.next)
            }
            return out
        }
    }
}

/// Counts events per stream; fails on type `boom` (unless `explodes` is false: then it
/// ignores it).
struct CountingProjection: Projection {
    typealias Batch = [String: UInt64]
    var name = "counting"
    var explodes = true
    var handlers: [String: ProjectionHandler<Batch>] {
        let count: ProjectionHandler<Batch> = { batch, event, table, txn in
            if batch[event.stream] == nil {
                let stored = try txn.get(table, key: Array(event.stream.utf8)).map { Keys.uint64($0, at: 0) } ?? 0
                batch[event.stream] = stored
            }
            batch[event.stream, default: 0] += 1
        }
        guard explodes else { return ["a": count, "b": count] }
        return ["a": count, "b": count, "boom": { _, _, _, _ in struct Boom: Error {}; throw Boom() }]
    }
    func makeBatch() -> Batch { [:] }
    func flush(_ batch: inout Batch, table: Database, txn: borrowing WriteTransaction) throws {
        for (k, v) in batch { try txn.put(table, key: Array(k.utf8), value: Keys.be64(v)) }
    }
}

/// Appends a synthetic history in chunks; returns the number of events.
@discardableResult
func appendAll(_ log: EventLog, _ appends: [StreamAppend], chunk: Int = 500) async throws -> Int {
    var i = 0
    var events = 0
    while i < appends.count {
        let part = Array(appends[i..<min(i + chunk, appends.count)])
        _ = try await log.append(part)
        events += part.reduce(0) { $0 + $1.events.count }
        i += chunk
    }
    return events
}

let shippedCatalog: PolicyCatalog = {
    do { return try PolicyCatalog.shipped() } catch { fatalError("shipped catalog: \(error)") }
}()

/// Collects log lines (`level message metadata`) for assertions.
final class RecordingLogs: Sendable {
    private let store = Mutex<[String]>([])
    var lines: [String] { store.withLock { $0 } }

    var logger: Logger {
        Logger(label: "recording") { _ in Handler(sink: self) }
    }

    struct Handler: LogHandler {
        let sink: RecordingLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.store.withLock { $0.append("\(event.level) \(event.message) \(meta)") }
        }
    }
}
