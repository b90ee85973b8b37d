import Foundation
import Synchronization
import Testing
@testable import EventLog

@Suite("Event log: batch-committed hook")
struct BatchHookTests {
    @Test("onBatchCommitted reports every committed batch's appends and events; duplicates add none")
    func reportsBatches() async throws {
        let seen = Mutex<[(Int, Int)]>([])
        let log = try openLog(temporaryDataDir()) { configuration in
            configuration.onBatchCommitted = { appends, events in seen.withLock { $0.append((appends, events)) } }
        }
        defer { log.close() }
        let id = UUID()
        _ = try await log.append(to: "s", events: [event(id: id), event()])
        _ = try await log.append(to: "s", events: [event(id: id)])
        let batches = seen.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.map(\.0).reduce(0, +) == 2)
        #expect(batches.map(\.1) == [2, 0])
    }
}
