import ArgumentParser
import Audit
import EventLog
import Foundation

/// `docket backup DIR`: a consistent, compacted copy of the data directory.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted copy of the data directory into DIR.",
        discussion: """
            Safe while the server runs: the copy is one LMDB read transaction (mdb_env_copy2 with \
            MDB_CP_COMPACT), so appends carry on and the copy holds exactly the events committed when \
            it began, with every index and projection table. DIR is created when missing and must \
            otherwise be empty. The copy is a data directory: `docket verify --data-dir DIR`, replay and \
            export read it; its digest is a prefix of the live log (`docket verify --since`). \
            Prints {"bytes","directory","hash","position"} with --format json. \
            Exit codes: 0 ok, 64 bad arguments, 66 no log in the data directory, 73 DIR is not a new \
            or empty directory, 74 storage error.
            """)

    @OptionGroup var data: DataDirOptions
    @Argument(help: "Directory to write the backup into (new or empty).") var directory: String
    @Option(help: "Output: text or json.") var format: OutputFormat = .text

    func run() async throws {
        try await runReportingErrors {
            let log = try openLog(data, create: false)
            defer { log.close() }
            let report: BackupReport
            do throws(AuditError) {
                report = try Backup.run(log: log, to: directory, logger: cliLogger)
            } catch {
                throw CLIFailure(message: error.message, code: error.code == .invalidInput ? Exit.cantCreate : Exit.ioError)
            }
            switch format {
            case .json:
                print(try jsonLine(["directory": report.directory, "position": report.head.position,
                                    "hash": report.head.hash.hex, "bytes": report.bytes] as [String: Any]))
            case .text:
                print("backup: \(report.head.position) events, \(report.bytes) bytes in \(report.directory)")
                print("digest: \(report.head.position):\(report.head.hash.hex)")
            }
        }
    }
}
