import ArgumentParser
import EventLog
import Foundation
import Projections
import Synchronization

/// `docket rebuild`: rebuilds projections from the log into fresh tables and swaps them in.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild projections from the event log and swap them in atomically.",
        discussion: """
            Each projection is rebuilt into its inactive table slot, then one write transaction makes it active; \
            queries meanwhile read the old tables. A progress bar is drawn on a TTY. \
            Prints one JSON line per projection: {"projection","position","events","seconds","eventsPerSecond"}.
            """)

    @OptionGroup var data: DataDirOptions
    @OptionGroup var catalog: CatalogOptions
    @Option(help: "Only this projection (cases or incidents).") var projection: String?

    func run() async throws {
        // No catch-up first: a rebuild replaces the tables it would bring up to date.
        try await withProjections(data, catalog: catalog, catchUp: false) { log, runner in
            let names = projection.map { [$0] } ?? runner.names
            for name in names {
                let started = Date()
                let bar = Mutex(ProgressBar(label: "rebuild \(name)", total: max(1, try log.head().position)))
                try await runner.rebuild(name) { done, _ in bar.withLock { $0.update(done) } }
                bar.withLock { $0.update($0.total, force: true); $0.finish() }
                let status = try runner.status(name)
                let seconds = max(Date().timeIntervalSince(started), 1e-6)
                print(try jsonLine([
                    "projection": name, "position": status.checkpoint, "events": status.checkpoint,
                    "seconds": (seconds * 1000).rounded() / 1000, "eventsPerSecond": Int(Double(status.checkpoint) / seconds),
                ] as [String: Any]))
            }
        }
    }
}
