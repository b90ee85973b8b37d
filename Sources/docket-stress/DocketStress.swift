import ArgumentParser
import DocketJSON
import EventLog
import Foundation
import LMDB
import Logging
import Synchronization

/// `docket-stress`: drives the event log with many concurrent writers. Used by the crash
/// test (with `--ack`, every acknowledged event is printed the moment its append returns)
/// and by the append benchmarks.
@main
struct DocketStress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket-stress",
        abstract: "Append load generator for Docket's event log (crash tests and benchmarks).",
        discussion: """
            Runs --writers concurrent tasks, each appending 1 to --max-group events at a time to one of \
            --streams streams, until --appends appends were made or --seconds passed. Each event's payload \
            is {"group": "<uuid>", "index": i, "of": n, "writer": w, "pad": "..."} so that a checker can tell \
            whether every multi-event append is whole. With --ack, prints `ack <position> <event-id> <group> <i> <n>` \
            per event as soon as its append is acknowledged. Ends with a JSON summary on stdout.
            """)

    @Option(help: "Data directory.") var dataDir: String
    @Option(help: "Concurrent writer tasks.") var writers: Int = 64
    @Option(help: "Number of streams written to.") var streams: Int = 1_000
    @Option(help: "Largest number of events in one append (1...n, random).") var maxGroup: Int = 3
    @Option(help: "Stop after this many appends in all (0: no limit).") var appends: Int = 0
    @Option(help: "Stop after this many seconds (0: no limit).") var seconds: Double = 0
    @Option(help: "Bytes of padding in each payload.") var payloadBytes: Int = 200
    @Option(help: "Durability: full (default), nometasync or nosync (baselines only).") var durability: String = "full"
    @Option(help: "Maximum map size in bytes.") var maxMapSize: Int = 1 << 40
    @Option(help: "Initial map size in bytes.") var initialMapSize: Int = 64 << 20
    @Flag(help: "Print one line per acknowledged event.") var ack = false
    @Flag(help: "Use exact expected versions (retrying on conflict) instead of 'any'.") var exact = false

    func validate() throws {
        guard writers >= 1, streams >= 1, maxGroup >= 1 else { throw ValidationError("--writers, --streams and --max-group must be at least 1") }
        guard appends > 0 || seconds > 0 else { throw ValidationError("give --appends or --seconds") }
    }

    func run() async throws {
        var configuration = EventLog.Configuration()
        switch durability {
        case "full": configuration.environment.durability = .full
        case "nometasync": configuration.environment.durability = .noMetaSync
        case "nosync": configuration.environment.durability = .noSync
        default: throw ValidationError("--durability must be full, nometasync or nosync")
        }
        configuration.environment.maxMapSize = maxMapSize
        configuration.environment.initialMapSize = initialMapSize
        let log = try EventLog.open(directory: dataDir, configuration: configuration, logger: Logger(label: "docket-stress"))
        let budget = Budget(appends: appends, deadline: seconds > 0 ? Date().addingTimeInterval(seconds) : .distantFuture)
        let out = FileHandle.standardOutput
        let pad = String(repeating: "x", count: max(0, payloadBytes))
        let started = Date()
        let counts = Counters()
        let (streams, maxGroup, exact, ack) = (self.streams, self.maxGroup, self.exact, self.ack)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var rng = SystemRandomNumberGenerator()
                    while budget.take() {
                        let stream = "stress-\(Int.random(in: 0..<streams, using: &rng))"
                        let n = Int.random(in: 1...maxGroup, using: &rng)
                        let groupID = UUID().uuidString.lowercased()
                        let events = (0..<n).map { i in
                            NewEvent(type: "stress-event", actor: "writer-\(writer)",
                                     payload: Data("{\"group\":\"\(groupID)\",\"index\":\(i),\"of\":\(n),\"writer\":\(writer),\"pad\":\"\(pad)\"}".utf8))
                        }
                        do {
                            var expected = ExpectedVersion.any
                            if exact {
                                expected = try log.streamHead(stream).map { .exact($0.version) } ?? .noStream
                            }
                            let result = try await log.append(to: stream, expectedVersion: expected, events: events)
                            if ack {
                                var lines = ""
                                for (i, (position, event)) in zip(result.positions, events).enumerated() {
                                    lines += "ack \(position) \(event.id.uuidString.lowercased()) \(groupID) \(i) \(n)\n"
                                }
                                out.write(Data(lines.utf8))
                            }
                            counts.value.withLock { $0.appends += 1; $0.events += n }
                        } catch let error as EventLogError where error.code == .wrongExpectedVersion {
                            counts.value.withLock { $0.conflicts += 1 }
                        } catch {
                            counts.value.withLock { $0.failures += 1 }
                            FileHandle.standardError.write(Data("docket-stress: \(error)\n".utf8))
                        }
                    }
                }
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        let stats = log.statistics
        log.close()
        let c = counts.value.withLock { $0 }
        let summary: JSONValue = .object([
            "appends": .int(Int64(c.appends)), "events": .int(Int64(c.events)), "conflicts": .int(Int64(c.conflicts)),
            "failures": .int(Int64(c.failures)), "seconds": .double(elapsed),
            "appendsPerSecond": .double(Double(c.appends) / elapsed), "eventsPerSecond": .double(Double(c.events) / elapsed),
            "batches": .int(Int64(stats.batches)),
            "meanAppendsPerBatch": .double(stats.batches == 0 ? 0 : Double(c.appends) / Double(stats.batches)),
            "writers": .int(Int64(writers)), "durability": .string(durability),
        ])
        out.write(Data(summary.jsonBytes + [0x0A]))
        if c.failures > 0 { throw ExitCode(1) }
    }
}

/// Counts shared by the writer tasks.
final class Counters: Sendable {
    let value = Mutex((appends: 0, events: 0, conflicts: 0, failures: 0))
}

/// Shared stop condition: a count of appends and a deadline.
final class Budget: Sendable {
    private let remaining: Mutex<Int>
    private let limited: Bool
    private let deadline: Date

    init(appends: Int, deadline: Date) {
        remaining = Mutex(appends)
        limited = appends > 0
        self.deadline = deadline
    }

    /// Takes one append from the budget; false when it is spent.
    func take() -> Bool {
        if Date() >= deadline { return false }
        guard limited else { return true }
        return remaining.withLock { r in
            guard r > 0 else { return false }
            r -= 1
            return true
        }
    }
}
