import EventLog
import Foundation
import LMDB
import Logging

/// What a backup produced.
public struct BackupReport: Sendable, Hashable {
    /// The backup's data directory.
    public var directory: String
    /// The head of the copy: a digest the live log extends (`docket verify --since`).
    public var head: LogHead
    /// Size of the copied data file in bytes.
    public var bytes: UInt64
}

/// Consistent, compacted copies of a data directory, taken while the server appends.
public enum Backup {
    /// Copies the LMDB environment of `log` (events, indexes and projections: everything in
    /// the data file) into `directory` with `mdb_env_copy2(MDB_CP_COMPACT)`: one read
    /// transaction gives a consistent snapshot while appenders carry on, and free pages are
    /// left out. The copy is a data directory `replay`, `verify` and `export` read as is.
    ///
    /// - Parameter directory: created when missing; refused when it exists and is not an
    ///   empty directory, so a backup never overwrites anything.
    /// - Throws: ``AuditError`` `.invalidInput` for an unusable directory, `.storage` when
    ///   the copy fails (the partial copy is removed).
    public static func run(log: EventLog, to directory: String, logger: Logger) throws(AuditError) -> BackupReport {
        try prepare(directory)
        let dataFile = (directory as NSString).appendingPathComponent("data.mdb")
        do {
            try log.environment.copy(to: directory, compact: true)
        } catch {
            try? FileManager.default.removeItem(atPath: dataFile)
            throw AuditError(.storage, "cannot copy the data directory into \(directory): \(error.message)")
        }
        let head: LogHead
        do {
            let copy = try EventLog.open(directory: directory, create: false, logger: logger)
            defer { copy.close() }
            head = try copy.head()
        } catch {
            throw AuditError(.storage, "the copy in \(directory) does not open as an event log: \(error)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: dataFile)[.size] as? NSNumber)?.uint64Value ?? 0
        logger.info("backup written", metadata: ["directory": "\(directory)", "head": "\(head.position)", "bytes": "\(size)"])
        return BackupReport(directory: directory, head: head, bytes: size)
    }

    /// Creates `directory` or checks that it is an empty directory.
    static func prepare(_ directory: String) throws(AuditError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AuditError(.invalidInput, "\(directory) is a file; give a new or empty directory for the backup")
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            guard entries.isEmpty else {
                throw AuditError(.invalidInput, "\(directory) is not empty (\(entries.count) entries, e.g. \(entries.sorted()[0])); "
                    + "a backup goes into a new or empty directory so that it overwrites nothing")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw AuditError(.invalidInput, "cannot create the backup directory \(directory): \(error.localizedDescription)")
            }
        }
    }
}
