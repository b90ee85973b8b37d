import ArgumentParser
import Foundation

/// The `docket` command-line tool: the server, the event log, replay and audit, reports,
/// calendars and SLA clocks.
@main
struct Docket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket",
        abstract: "Docket: an event-sourced case-management backend for vendor support desks.",
        discussion: """
            Every action on a support case or operations incident is an event appended to an \
            LMDB-backed log in the data directory (--data-dir, or DOCKET_DATA_DIR, default ./docket-data).
            """,
        subcommands: [ServeCommand.self, TokenCommand.self, LogCommand.self, CalendarCommand.self, SLACommand.self,
                      ReportCommand.self, RebuildCommand.self, ReplayCommand.self, VerifyCommand.self, ExportCommand.self,
                      BackupCommand.self, ImportCommand.self]
    )

    /// Accepts `--data-dir DIR` (or `--data-dir=DIR`) before the subcommand too, as a global
    /// option: it is moved into `DOCKET_DATA_DIR`, which every command reads when its own
    /// `--data-dir` is not given.
    static func main() async {
        #if canImport(Glibc)
        // glibc gives every thread that allocates concurrently its own arena (up to 8 per
        // core) and keeps what was freed in each: a rebuild folding on two threads then held
        // about twice its working set. One arena per core is enough on a 2-core host
        // (benchmarks/HISTORY.md "Projections"); MALLOC_ARENA_MAX still overrides it.
        if getenv("MALLOC_ARENA_MAX") == nil {
            _ = glibcMallopt(glibcArenaMax, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        }
        #endif
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first {
            if first == "--data-dir", arguments.count >= 2 {
                setenv("DOCKET_DATA_DIR", arguments[1], 1)
                arguments.removeFirst(2)
            } else if first.hasPrefix("--data-dir=") {
                setenv("DOCKET_DATA_DIR", String(first.dropFirst("--data-dir=".count)), 1)
                arguments.removeFirst()
            }
        }
        await main(arguments)
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` (`<malloc.h>` is not in Swift's Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// `M_ARENA_MAX` from `<malloc.h>`.
private let glibcArenaMax: Int32 = -8
#endif
