import Audit
import EventLog
import Foundation
import Testing

@Suite("Backup")
struct BackupTests {
    @Test("a backup taken while another task appends verifies, replays, and its head is a digest the live log extends")
    func backupWhileAppending() async throws {
        let dir = auditDataDir()
        let log = try openAuditLog(dir)
        defer { log.close() }
        try await AuditFixture.appendHistory(log)
        let writer = Task {
            var appended = 0
            while !Task.isCancelled && appended < 3_000 {
                let events = (0..<10).map { i in NewEvent(type: "note", payload: Data("{\"i\":\(i)}".utf8)) }
                _ = try await log.append(to: "busy-\(appended % 7)", events: events)
                appended += 10
            }
            return appended
        }
        try await Task.sleep(for: .milliseconds(50))
        let backups = (0..<3).map { auditDataDir("backup\($0)") }
        var reports: [BackupReport] = []
        for target in backups {
            reports.append(try Backup.run(log: log, to: target, logger: auditQuietLogger))
        }
        _ = try await writer.value
        let live = try log.head()
        for report in reports {
            #expect(report.head.position >= 28 && report.head.position <= live.position && report.bytes > 0)
            let copy = try EventLog.open(directory: report.directory, create: false, logger: auditQuietLogger)
            defer { copy.close() }
            let verified = try copy.verify()
            #expect(verified.ok, "\(verified.problems)")
            #expect(verified.head == report.head)
            let replay = try Replayer(log: copy, catalog: AuditFixture.catalog, logger: auditQuietLogger).replay(.case, id: "c1")
            #expect(replay.steps.count == 24)
            // The live log extends the backup's digest.
            #expect(try log.verify(expecting: report.head).ok)
        }
        #expect(reports.map(\.head.position) == reports.map(\.head.position).sorted())
    }

    @Test("a non-empty or file target is refused and nothing is written; a missing one is created")
    func refusesNonEmpty() async throws {
        let dir = auditDataDir()
        let log = try openAuditLog(dir)
        defer { log.close() }
        try await AuditFixture.appendHistory(log)
        let target = auditDataDir("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: target + "/keep.txt", contents: Data("precious".utf8))
        do {
            _ = try Backup.run(log: log, to: target, logger: auditQuietLogger)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .invalidInput && error.message.contains("not empty") && error.message.contains("keep.txt"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["keep.txt"])
        do {
            _ = try Backup.run(log: log, to: target + "/keep.txt", logger: auditQuietLogger)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .invalidInput && error.message.contains("is a file"))
        }
        let nested = auditDataDir("nested") + "/a/b"
        let report = try Backup.run(log: log, to: nested, logger: auditQuietLogger)
        #expect(report.head == (try log.head()))
    }
}
