import ArgumentParser
import Foundation

/// The `docket` command-line tool: the event log, the domain's calendars and SLA clocks,
/// and (later) the server, replay and reports.
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
}
