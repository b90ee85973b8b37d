import CaseDomain
import EventLog
import Foundation
import Logging

/// A fresh log in a temporary directory, removed when `body` returns.
func withTempLog<R>(_ body: (EventLog, String) async throws -> R) async throws -> R {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)").path
    var config = EventLog.Configuration()
    config.environment.durability = .noSync
    let log = try EventLog.open(directory: dir, configuration: config, logger: Logger(label: "test"))
    defer {
        log.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
    return try await body(log, dir)
}

let testLogger = Logger(label: "scheduling-test")

let shippedCatalog: PolicyCatalog = {
    do { return try PolicyCatalog.shipped() } catch { fatalError("shipped catalog: \(error)") }
}()

/// Appends a synthetic history in one chunk of at most 500 streams per append.
@discardableResult
func appendAll(_ log: EventLog, _ appends: [StreamAppend]) async throws -> Int {
    var events = 0
    for start in stride(from: 0, to: appends.count, by: 500) {
        let part = Array(appends[start..<min(start + 500, appends.count)])
        _ = try await log.append(part)
        events += part.reduce(0) { $0 + $1.events.count }
    }
    return events
}
