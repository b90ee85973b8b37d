import EventLog
import Foundation
import Logging

/// Event log benchmarks: append throughput with group commit under concurrent writers,
/// against a single sequential writer (one sync per append) measured in the same run;
/// whole-log reads; verification.
func eventLogSuite() -> BenchSuite {
    BenchSuite(name: "EventLog") {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let payload = Data(("{\"text\":\"" + String(repeating: "x", count: 200) + "\"}").utf8)
        func freshLog(_ durability: Durability = .full) throws -> (EventLog, String) {
            let dir = NSTemporaryDirectory() + "docket-bench-\(UUID().uuidString)"
            var configuration = EventLog.Configuration()
            configuration.environment.durability = durability
            configuration.environment.initialMapSize = 1 << 30
            return (try EventLog.open(directory: dir, configuration: configuration, logger: logger), dir)
        }
        func appendLoad(writers: Int, appends: Int, durability: Durability) async throws -> Measurement {
            let (log, dir) = try freshLog(durability)
            defer {
                log.close()
                try? FileManager.default.removeItem(atPath: dir)
            }
            let perWriter = appends / writers
            let t0 = now()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        for i in 0..<perWriter {
                            _ = try await log.append(to: "case-\(w)-\(i % 50)", events: [NewEvent(type: "case-commented", payload: payload)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = now() - t0
            let stats = log.statistics
            print(String(format: "    (%d writers, %@: %llu transactions, %.1f appends per transaction)", writers,
                         "\(durability)" as NSString, stats.batches, Double(stats.events) / Double(max(stats.batches, 1))))
            return Measurement(name: "append, \(writers) writers, \(durability) sync", count: perWriter * writers, seconds: seconds)
        }

        let sequential = try await appendLoad(writers: 1, appends: 2_000, durability: .full)
        report(sequential, unit: "appends")
        let concurrent = try await appendLoad(writers: 64, appends: 64_000, durability: .full)
        report(concurrent, baseline: sequential, unit: "appends")
        let many = try await appendLoad(writers: 256, appends: 128_000, durability: .full)
        report(many, baseline: sequential, unit: "appends")
        let unsynced = try await appendLoad(writers: 64, appends: 64_000, durability: .noSync)
        report(unsynced, baseline: concurrent, unit: "appends")

        // Reads and verification over a 500k-event log built with large atomic batches.
        let (log, dir) = try freshLog(.full)
        defer {
            log.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let total = 500_000
        var written = 0
        while written < total {
            let batch = (0..<5_000).map { i in
                StreamAppend(stream: "case-\((written + i) % 20_000)", events: [NewEvent(type: "case-commented", payload: payload)])
            }
            _ = try await log.append(batch)
            written += batch.count
        }
        let baseline = baselineSum()
        report(baseline, unit: "adds")
        let read = try measure("read whole log (decode every envelope)", count: total, repeats: 3) {
            var position: UInt64 = 1
            while true {
                let page = try log.readAll(from: position, limit: 10_000)
                guard let last = page.last else { break }
                position = last.position + 1
            }
        }
        report(read, baseline: baseline, unit: "events")
        let stream = try measure("read one 25-event stream (x 20k streams)", count: 20_000, repeats: 3) {
            for s in 0..<20_000 { _ = try log.readStream("case-\(s)", limit: 100) }
        }
        report(stream, baseline: baseline, unit: "streams")
        let verify = try measure("verify (chain + every index)", count: total, repeats: 3) {
            let r = try log.verify()
            precondition(r.ok)
        }
        report(verify, baseline: baseline, unit: "events")
    }
}
