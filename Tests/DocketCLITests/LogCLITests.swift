import EventLog
import Foundation
import Logging
import Testing

@Suite("docket log CLI")
struct LogCLITests {
    @Test("append prints position and version; a refused append exits non-zero with a one-line reason")
    func appendAndRefuse() throws {
        let dir = temporaryPath()
        let first = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "case-opened",
                                "--data", "{\"subject\":\"Printer on fire\"}", "--expected-version", "no-stream"])
        #expect(first.status == 0, "\(first.stderr)")
        let json = try jsonObject(try #require(first.lines.first))
        #expect(json["position"] as? Int == 1 && json["version"] as? Int == 0)

        let conflict = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "x",
                                   "--data", "{}", "--expected-version", "5"])
        #expect(conflict.status == 1)
        #expect(conflict.stdout.isEmpty)
        let reason = conflict.stderr.split(separator: "\n")
        #expect(reason.count == 1 && reason[0].contains("version 0"))

        let badJSON = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "x", "--data", "{oops"])
        #expect(badJSON.status != 0 && badJSON.stderr.contains("not valid JSON"))
        let badVersion = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "x", "--data", "{}",
                                     "--expected-version", "latest"])
        #expect(badVersion.status != 0 && badVersion.stderr.contains("'any' or 'no-stream'"))
        // Nothing of the refused appends was written.
        let head = try jsonObject(try #require(try docket(["log", "head", "--data-dir", dir]).lines.first))
        #expect(head["position"] as? Int == 1)
    }

    @Test("DOCKET_DATA_DIR selects the data directory; an event id retried appends nothing")
    func environmentAndIdempotency() throws {
        let dir = temporaryPath()
        let id = "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01"
        let args = ["log", "append", "--stream", "s", "--type", "t", "--data", "{\"a\":1}", "--event-id", id]
        let a = try docket(args, environment: ["DOCKET_DATA_DIR": dir])
        let b = try docket(args, environment: ["DOCKET_DATA_DIR": dir])
        #expect(a.status == 0 && b.status == 0)
        #expect(try jsonObject(b.lines[0])["duplicate"] as? Bool == true)
        #expect(try jsonObject(b.lines[0])["position"] as? Int == 1)
        #expect(FileManager.default.fileExists(atPath: dir + "/data.mdb"))
        // --data-dir is global: it may also stand before the subcommand.
        let global = try docket(["--data-dir", dir, "log", "head"])
        #expect(global.status == 0)
        let globalHead = try jsonObject(try #require(global.lines.first))
        #expect(globalHead["position"] as? Int == 1)
        let globalEquals = try docket(["--data-dir=\(dir)", "log", "head"])
        #expect(globalEquals.status == 0)
    }

    @Test("read prints NDJSON with every envelope field, for a stream and for the whole log")
    func readNDJSON() throws {
        let dir = temporaryPath()
        for i in 0..<5 {
            let r = try docket(["log", "append", "--data-dir", dir, "--stream", i % 2 == 0 ? "even" : "odd", "--type", "n",
                                "--data", "{\"i\":\(i)}", "--actor", "staff:bo", "--metadata", "{\"channel\":\"phone\"}"])
            #expect(r.status == 0)
        }
        let all = try docket(["log", "read", "--data-dir", dir, "--all", "--from", "2", "--limit", "3"])
        #expect(all.status == 0)
        let events = try all.lines.map(jsonObject)
        #expect(events.map { $0["position"] as? Int } == [2, 3, 4])
        let fields: Set<String> = ["id", "stream", "version", "position", "type", "schemaVersion", "recordedAt", "actor",
                                   "correlationId", "causationId", "metadata", "payload", "hash"]
        for e in events { #expect(Set(e.keys) == fields) }
        let e = events[0]
        #expect(e["actor"] as? String == "staff:bo" && (e["metadata"] as? [String: String])?["channel"] == "phone")
        #expect((e["payload"] as? [String: Int])?["i"] == 1)
        #expect((e["recordedAt"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil)
        #expect((e["hash"] as? String)?.count == 64)

        let even = try docket(["log", "read", "--data-dir", dir, "--stream", "even"]).lines.map(jsonObject)
        #expect(even.map { $0["version"] as? Int } == [0, 1, 2])
        let backward = try docket(["log", "read", "--data-dir", dir, "--stream", "even", "--backward", "--limit", "2"]).lines.map(jsonObject)
        #expect(backward.map { $0["version"] as? Int } == [2, 1])

        let both = try docket(["log", "read", "--data-dir", dir, "--all", "--stream", "even"])
        #expect(both.status != 0 && both.stderr.contains("exactly one of"))
        let missing = try docket(["log", "read", "--data-dir", dir + "-nope", "--all"])
        #expect(missing.status == 66 && missing.stderr.contains("no Docket event log"))
    }

    @Test("head prints position and lowercase hex hash; verify exits 0 on a good log and names the first bad position on a bad one")
    func headAndVerify() async throws {
        let dir = temporaryPath()
        for i in 0..<6 {
            #expect(try docket(["log", "append", "--data-dir", dir, "--stream", "s", "--type", "n", "--data", "{\"i\":\(i)}"]).status == 0)
        }
        let head = try jsonObject(try #require(try docket(["log", "head", "--data-dir", dir]).lines.first))
        let hash = try #require(head["hash"] as? String)
        #expect(head["position"] as? Int == 6)
        #expect(hash.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil)

        let good = try docket(["log", "verify", "--data-dir", dir])
        #expect(good.status == 0 && good.stdout.contains("digest: 6:\(hash)"))
        let since = try docket(["log", "verify", "--data-dir", dir, "--since", "6:\(hash)", "--format", "json"])
        #expect(since.status == 0)
        let sinceReport = try jsonObject(try #require(since.lines.first))
        #expect(sinceReport["ok"] as? Bool == true)

        try tamper(dir: dir, position: 4)
        let bad = try docket(["log", "verify", "--data-dir", dir])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("first bad position 4"))
        #expect(bad.stderr.contains("position 4"))
    }

    @Test("import appends NDJSON lines in batches; a malformed line is reported with its number and its batch is not appended")
    func importFile() throws {
        let dir = temporaryPath()
        let file = temporaryPath() + ".ndjson"
        var lines: [String] = []
        for i in 0..<25 {
            lines.append("{\"stream\":\"case-\(i % 3)\",\"type\":\"case-commented\",\"data\":{\"i\":\(i)},\"metadata\":{\"src\":\"old-desk\"},\"id\":\"\(UUID().uuidString)\"}")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let ok = try docket(["log", "import", "--data-dir", dir, file, "--batch-size", "10"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let summary = try jsonObject(ok.lines[0])
        #expect(summary["appended"] as? Int == 25 && summary["position"] as? Int == 25)
        // Importing the same file again appends nothing: every id is stored with the same content.
        let again = try jsonObject(try docket(["log", "import", "--data-dir", dir, file, "--batch-size", "10"]).lines[0])
        #expect(again["appended"] as? Int == 0 && again["duplicates"] as? Int == 25)

        // Lines 1-10 form the first batch, 11-20 the second: line 14 is malformed.
        var broken = (0..<25).map { "{\"stream\":\"b\",\"type\":\"t\",\"data\":{\"i\":\($0)}}" }
        broken[13] = "{\"stream\":\"b\",\"type\":\"t\",\"data\":{\"i\":13}"
        try broken.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fail = try docket(["log", "import", "--data-dir", dir, file, "--batch-size", "10"])
        #expect(fail.status == 65)
        #expect(fail.stderr.contains(":14:"), "\(fail.stderr)")
        #expect(fail.stderr.contains("lines 11-14"))
        let events = try docket(["log", "read", "--data-dir", dir, "--stream", "b"]).lines
        #expect(events.count == 10)

        let missingField = try docket(["log", "import", "--data-dir", dir, "-"], stdin: "{\"stream\":\"b\",\"data\":{}}\n")
        #expect(missingField.status == 65 && missingField.stderr.contains("-:1:") && missingField.stderr.contains("\"type\""))
        let noFile = try docket(["log", "import", "--data-dir", dir, file + ".absent"])
        #expect(noFile.status == 66)
    }

    @Test("--max-map-size bounds the data file: an import past it fails clearly and keeps what was appended")
    func maxMapSize() throws {
        let dir = temporaryPath()
        let pad = String(repeating: "z", count: 20_000)
        let lines = (0..<200).map { "{\"stream\":\"s\",\"type\":\"t\",\"data\":{\"i\":\($0),\"pad\":\"\(pad)\"}}" }
        let result = try docket(["log", "import", "--data-dir", dir, "--max-map-size", "2M", "--batch-size", "1", "-"],
                                stdin: lines.joined(separator: "\n"))
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("maximum map size"))
        let head = try jsonObject(try #require(try docket(["log", "head", "--data-dir", dir]).lines.first))
        let kept = try #require(head["position"] as? Int)
        #expect(kept > 10 && kept < 200)
        #expect(try docket(["log", "verify", "--data-dir", dir]).status == 0)
        let bad = try docket(["log", "head", "--data-dir", dir, "--max-map-size", "lots"])
        #expect(bad.status == 64 && bad.stderr.contains("--max-map-size lots"))
    }

    @Test("--help explains the log commands")
    func help() throws {
        let help = try docket(["log", "import", "--help"])
        #expect(help.status == 0 && help.stdout.contains("line number") && help.stdout.contains("--batch-size"))
        let root = try docket(["--help"])
        #expect(root.stdout.contains("log") && root.stdout.contains("DOCKET_DATA_DIR"))
    }

    @Test("a lone surrogate escape is refused by log append and log import, as the case projection refuses it")
    func loneSurrogate() throws {
        let dir = temporaryPath()
        let append = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "comment-added",
                                 "--data", #"{"body":"\ud800"}"#])
        #expect(append.status == 65, "\(append.stderr)")
        #expect(append.stderr.contains("lone surrogate"), "\(append.stderr)")
        let line = #"{"stream":"case-1","type":"comment-added","data":{"body":"x\udc00"}}"# + "\n"
        let imported = try docket(["log", "import", "--data-dir", dir, "-"], stdin: line)
        #expect(imported.status == 65, "\(imported.stderr)")
        #expect(imported.stderr.contains("-:1:") && imported.stderr.contains("lone surrogate"), "\(imported.stderr)")
        // A proper pair is one character: stored and read back as sent.
        let pair = try docket(["log", "append", "--data-dir", dir, "--stream", "case-1", "--type", "comment-added",
                               "--data", #"{"body":"\ud83d\ude00"}"#])
        #expect(pair.status == 0, "\(pair.stderr)")
        let read = try docket(["log", "read", "--data-dir", dir, "--all"])
        #expect(read.lines.count == 1 && read.lines[0].contains(#""payload":{"body":"\ud83d\ude00"}"#))
    }
}

/// Flips one payload byte of the record at `position`, in-process, while no CLI runs.
func tamper(dir: String, position: UInt64) throws {
    let log = try EventLog.open(directory: dir, create: false, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    defer { log.close() }
    try log.writer.performAndWait { ctx in
        let db = try ctx.openDatabase(named: "events", create: false)
        try ctx.transaction { txn in
            let key = withUnsafeBytes(of: position.bigEndian) { Array($0) }
            guard let value = try txn.get(db, key: key) else { throw CLITestError("no record at \(position)") }
            var bytes = Array(value)
            bytes[bytes.count - 2] ^= 0x01
            try txn.put(db, key: key, value: bytes)
        }
    }
}
