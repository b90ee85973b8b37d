import EventLog
import Foundation
import Logging
import Testing

/// A data directory holding a real case history (decided by CaseDecider under the shipped
/// concur-standard policy; regenerate Tests/Fixtures/case-history.ndjson from AuditFixture).
func auditDataDirWithHistory(_ name: String = #function) throws -> String {
    let dir = temporaryPath(name)
    let imported = try docket(["log", "import", "--data-dir", dir, repositoryRoot() + "/Tests/Fixtures/case-history.ndjson"])
    guard imported.status == 0 else { throw CLITestError("fixture import failed: \(imported.stderr)") }
    return dir
}

/// The validator of a schema under schemas/cli.
func cliSchema(_ name: String) throws -> SchemaSubsetValidator {
    SchemaSubsetValidator(root: try TestJSON.parse(Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/schemas/cli/" + name))))
}

@Suite("docket replay")
struct ReplayCLITests {
    @Test("text shows every event with actor, role, channel and the state after it")
    func text() throws {
        let dir = try auditDataDirWithHistory()
        let r = try docket(["replay", "case", "c1", "--data-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("case c1 (stream case-c1): 24 event(s)"))
        #expect(r.stdout.contains("case-opened  by d1 (contact, portal)"))
        #expect(r.stdout.contains("clock response: due 2026-03-02T13:00:00.000Z; elapsed 0s of 4h 00m (business, europe v1)"))
        #expect(r.stdout.contains("flag response-breached (response) [R3.4]"))
    }

    @Test("json and ndjson validate against schemas/cli/replay.schema.json; --as-of shows the state at that instant")
    func jsonFormats() throws {
        let dir = try auditDataDirWithHistory()
        let schema = try cliSchema("replay.schema.json")
        let json = try docket(["replay", "case", "c1", "--data-dir", dir, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let document = try TestJSON.parse(json.out)
        #expect(schema.errors(document) == [])
        #expect(document["steps"]?.array?.count == 24)

        let nd = try docket(["replay", "case", "c1", "--data-dir", dir, "--format", "ndjson", "--as-of", "2026-03-02T13:30:00+01:00"])
        #expect(nd.status == 0, "\(nd.stderr)")
        for line in nd.lines {
            let value = try TestJSON.parse(Data(line.utf8))
            #expect(schema.errors(value) == [], "\(line)")
        }
        let summary = try jsonObject(try #require(nd.lines.last))
        #expect(summary["kind"] as? String == "summary" && summary["stoppedBy"] as? String == "as-of")
        let final = try #require(summary["final"] as? [String: Any])
        let clocks = try #require(final["clocks"] as? [[String: Any]])
        let response = try #require(clocks.first { $0["target"] as? String == "response" })
        #expect(response["elapsedSeconds"] as? Int == 3 * 3600 + 30 * 60)
        #expect(nd.lines.dropLast().allSatisfy { $0.contains("\"kind\":\"event\"") })

        let org = try docket(["replay", "organisation", "org1", "--data-dir", dir, "--format", "json", "--at-position", "2"])
        #expect(org.status == 0, "\(org.stderr)")
        let orgDocument = try TestJSON.parse(org.out)
        #expect(schema.errors(orgDocument) == [])
        #expect(try jsonObject(org.stdout)["steps"].map { ($0 as? [Any])?.count } == 2)
    }

    @Test("an unknown id exits 66 with one line naming it; conflicting options exit 64")
    func refusals() throws {
        let dir = try auditDataDirWithHistory()
        let missing = try docket(["replay", "case", "nope", "--data-dir", dir])
        #expect(missing.status == 66 && missing.stdout.isEmpty)
        #expect(missing.stderr.split(separator: "\n").count == 1 && missing.stderr.contains("case-nope"))
        let both = try docket(["replay", "case", "c1", "--data-dir", dir, "--as-of", "2026-03-02T12:00:00Z", "--at-position", "3"])
        #expect(both.status == 64)
        let bad = try docket(["replay", "case", "c1", "--data-dir", dir, "--as-of", "yesterday"])
        #expect(bad.status == 64 && bad.stderr.contains("ISO 8601"))
        let noLog = try docket(["replay", "case", "c1", "--data-dir", temporaryPath()])
        #expect(noLog.status == 66)
    }
}

@Suite("docket verify")
struct VerifyCLITests {
    @Test("verify prints the digest; --since proves the log extends an earlier digest and refuses one it does not")
    func digestAndSince() throws {
        let dir = try auditDataDirWithHistory()
        let early = try jsonObject(try docket(["log", "head", "--data-dir", dir]).stdout)
        let earlyDigest = "\(early["position"] as? Int ?? 0):\(early["hash"] as? String ?? "")"
        let more = try docket(["log", "append", "--data-dir", dir, "--stream", "other", "--type", "note", "--data", "{}"])
        #expect(more.status == 0)

        let ok = try docket(["verify", "--data-dir", dir, "--since", earlyDigest])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.lines.first?.hasPrefix("ok: 29 events in 3 streams") == true)
        #expect(ok.stdout.contains("extends: \(earlyDigest)"))
        let head = try jsonObject(try docket(["log", "head", "--data-dir", dir]).stdout)
        #expect(ok.lines.last == "digest: 29:\(head["hash"] as? String ?? "")")

        let json = try jsonObject(try docket(["verify", "--data-dir", dir, "--since", earlyDigest, "--format", "json"]).stdout)
        #expect(json["ok"] as? Bool == true && json["position"] as? Int == 29 && json["eventsChecked"] as? Int == 29)
        #expect((json["since"] as? [String: Any])?["extends"] as? Bool == true)

        let forged = "28:" + String(repeating: "ab", count: 32)
        let bad = try docket(["verify", "--data-dir", dir, "--since", forged])
        #expect(bad.status == 1 && bad.stdout.contains("does NOT extend"))
        #expect(bad.stderr.contains("verification failed"))
        let beyond = try docket(["verify", "--data-dir", dir, "--since", "500:" + String(repeating: "0", count: 64), "--format", "json"])
        #expect(beyond.status == 1)
        #expect(beyond.stdout.contains("beyond the log's head"))
    }

    @Test("--projections re-derives every projection into scratch tables and names the rows that differ from the live ones")
    func projections() throws {
        let dir = try auditDataDirWithHistory()
        #expect(try docket(["rebuild", "--data-dir", dir]).status == 0)
        let ok = try docket(["verify", "--projections", "--data-dir", dir, "--format", "json"])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let checks = try #require(try jsonObject(ok.stdout)["projections"] as? [[String: Any]])
        #expect(Set(checks.compactMap { $0["projection"] as? String }) == ["cases", "incidents"])
        let cases = try #require(checks.first { $0["projection"] as? String == "cases" })
        #expect((cases["rows"] as? Int ?? 0) > 0 && cases["differenceCount"] as? Int == 0 && cases["position"] as? Int == 28)

        // Alter one live row of the cases projection.
        let altered = try alterFirstRow(dir: dir, tables: ["proj.cases.a", "proj.cases.b"])
        let bad = try docket(["verify", "--projections", "--data-dir", dir])
        #expect(bad.status == 1, "\(bad.stdout)")
        #expect(bad.stdout.contains("projection cases: 1 of") && bad.stdout.contains("  row "), "\(altered): \(bad.stdout)")
        #expect(bad.stdout.contains("projection incidents: ok"))
        #expect(bad.stderr.contains("differs from its re-derivation"))
        // The live tables were not repaired or changed by verifying.
        #expect(try docket(["verify", "--projections", "--data-dir", dir]).status == 1)
    }

    @Test("exit codes: malformed digest 65, no log 66; --help documents them")
    func exitCodes() throws {
        let dir = try auditDataDirWithHistory()
        #expect(try docket(["verify", "--data-dir", dir, "--since", "12:nothex"]).status == 65)
        #expect(try docket(["verify", "--data-dir", temporaryPath()]).status == 66)
        let help = try docket(["verify", "--help"])
        #expect(help.stdout.contains("Exit codes: 0") && help.stdout.contains("66 no log"))
    }
}

@Suite("docket export")
struct ExportCLITests {
    @Test("ndjson is exactly what log read --all prints; --from/--to are inclusive")
    func ndjson() throws {
        let dir = try auditDataDirWithHistory()
        let all = try docket(["export", "--data-dir", dir])
        #expect(all.status == 0, "\(all.stderr)")
        let read = try docket(["log", "read", "--all", "--data-dir", dir])
        #expect(all.stdout == read.stdout && all.lines.count == 28)
        let range = try docket(["export", "--data-dir", dir, "--from", "5", "--to", "7"])
        #expect(range.lines == Array(read.lines[4...6]))
        let bad = try docket(["export", "--data-dir", dir, "--from", "7", "--to", "5"])
        #expect(bad.status == 64 && bad.stderr.contains("--to 5 is before --from 7"))
        #expect(try docket(["export", "--data-dir", temporaryPath()]).status == 66)
    }

    @Test("cloudevents lines validate against schemas/cli/cloudevent.schema.json and carry the envelope's facts")
    func cloudEvents() throws {
        let dir = try auditDataDirWithHistory()
        let appended = try docket(["log", "append", "--data-dir", dir, "--stream", "odd stream/ä", "--type", "note", "--data", "[1,2]"])
        #expect(appended.status == 0)
        let ce = try docket(["export", "--data-dir", dir, "--format", "cloudevents"])
        #expect(ce.status == 0, "\(ce.stderr)")
        let schema = try cliSchema("cloudevent.schema.json")
        let envelopes = try docket(["log", "read", "--all", "--data-dir", dir]).lines.map(jsonObject)
        #expect(ce.lines.count == 29 && envelopes.count == 29)
        for (line, envelope) in zip(ce.lines, envelopes) {
            let value = try TestJSON.parse(Data(line.utf8))
            #expect(schema.errors(value) == [], "\(line)")
            let event = try jsonObject(line)
            #expect(event["id"] as? String == envelope["id"] as? String)
            #expect(event["type"] as? String == "docket." + (envelope["type"] as? String ?? ""))
            #expect(event["subject"] as? String == envelope["stream"] as? String)
            #expect(event["time"] as? String == envelope["recordedAt"] as? String)
            #expect(event["docketposition"] as? String == "\(envelope["position"] as? Int ?? 0)")
            #expect(event["dockethash"] as? String == envelope["hash"] as? String)
            let data = try JSONSerialization.data(withJSONObject: event["data"] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
            let payload = try JSONSerialization.data(withJSONObject: envelope["payload"] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
            #expect(data == payload)
        }
        #expect(try jsonObject(try #require(ce.lines.first))["source"] as? String == "docket:org-org1")
        #expect(try jsonObject(try #require(ce.lines.last))["source"] as? String == "docket:odd%20stream%2F%C3%A4")
    }
}

@Suite("docket backup")
struct BackupCLITests {
    @Test("backup writes a copy that verifies and replays; a non-empty DIR exits 73 and is left alone")
    func backup() throws {
        let dir = try auditDataDirWithHistory()
        let target = temporaryPath("backupTarget")
        let r = try docket(["backup", target, "--data-dir", dir, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try jsonObject(r.stdout)
        #expect(report["position"] as? Int == 28 && (report["bytes"] as? Int ?? 0) > 0)
        let digest = "28:\(report["hash"] as? String ?? "")"
        let verify = try docket(["verify", "--data-dir", target])
        #expect(verify.status == 0 && verify.lines.last == "digest: \(digest)")
        #expect(try docket(["verify", "--data-dir", dir, "--since", digest]).status == 0)
        let replayCopy = try docket(["replay", "case", "c1", "--data-dir", target, "--format", "json"])
        let replayLive = try docket(["replay", "case", "c1", "--data-dir", dir, "--format", "json"])
        #expect(replayCopy.status == 0 && replayCopy.stdout == replayLive.stdout)

        let again = try docket(["backup", target, "--data-dir", dir])
        #expect(again.status == 73 && again.stderr.contains("not empty"))
        #expect(try docket(["backup", temporaryPath(), "--data-dir", temporaryPath()]).status == 66)
    }
}

@Suite("audit tools on a live data directory")
struct LiveAuditCLITests {
    @Test("replay, verify, export and backup run while another process appends")
    func whileAppending() throws {
        let dir = try auditDataDirWithHistory()
        let stress = Process()
        stress.executableURL = URL(fileURLWithPath: productPath("docket-stress"))
        stress.arguments = ["--data-dir", dir, "--writers", "8", "--streams", "20", "--seconds", "120", "--payload-bytes", "64"]
        stress.standardOutput = FileHandle.nullDevice
        stress.standardError = FileHandle.nullDevice
        try stress.run()
        defer { if stress.isRunning { stress.terminate() } }
        Thread.sleep(forTimeInterval: 0.5)

        let target = temporaryPath("liveBackup")
        let backup = try docket(["backup", target, "--data-dir", dir, "--format", "json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let verify = try docket(["verify", "--data-dir", dir, "--format", "json"])
        #expect(verify.status == 0, "\(verify.stdout)")
        let export = try docket(["export", "--data-dir", dir])
        #expect(export.status == 0 && export.lines.count >= 28)
        let positions = try export.lines.map { try jsonObject($0)["position"] as? Int ?? 0 }
        #expect(positions == Array(1...positions.count))
        let replay = try docket(["replay", "case", "c1", "--data-dir", dir, "--format", "json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let steps = try jsonObject(replay.stdout)["steps"] as? [Any]
        #expect(steps?.count == 24)
        #expect(stress.isRunning, "the appender should still be running during the checks")

        stress.terminate()
        stress.waitUntilExit()
        let copy = try jsonObject(backup.stdout)
        let digest = "\(copy["position"] as? Int ?? 0):\(copy["hash"] as? String ?? "")"
        let extends = try docket(["verify", "--data-dir", dir, "--since", digest, "--format", "json"])
        #expect(extends.status == 0, "\(extends.stdout)")
        let head = try jsonObject(extends.stdout)["position"] as? Int ?? 0
        #expect(head > copy["position"] as? Int ?? 0)
        #expect(try docket(["verify", "--data-dir", target]).status == 0)
    }
}

/// Lines of a command import: an organisation in support and a case with a reply.
func importLines(refuseAt refused: Int? = nil) throws -> [String] {
    let manager: [String: Any] = ["id": "m1", "role": "staff", "staffRole": "manager"]
    let staff: [String: Any] = ["id": "s1", "role": "staff", "staffRole": "tier1", "channel": "phone"]
    let contact: [String: Any] = ["id": "ada", "role": "contact", "organisationID": "acme", "access": "designated", "channel": "portal"]
    let open: [String: Any] = [
        "caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Export fails", "description": "Steps",
        "topic": "expenses", "caseType": "support", "subType": "problem", "severity": "P2", "region": "europe",
        "site": "s7", "product": "Expense", "stage": "production", "callMe": false, "cc": [], "channel": "portal"]
    let commands: [(String, String, [String: Any], [String: Any], String)] = [
        ("register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "concur-standard"], manager, "2026-03-02T08:00:00Z"),
        ("add-contact", "org-acme", ["contactID": "ada", "name": "Ada", "email": "ada@acme.example", "access": "designated"], manager, "2026-03-02T08:01:00Z"),
        ("add-contact", "org-acme", ["contactID": "bo", "name": "Bo", "email": "bo@acme.example", "access": "designated"], manager, "2026-03-02T08:02:00Z"),
        ("transition-to-support", "org-acme", [:], manager, "2026-03-02T08:03:00Z"),
        ("open-case", "case-1", open, contact, "2026-03-02T09:00:00Z"),
        ("route-case", "case-1", ["team": "expenses", "owner": "s1", "tier": "tier1"], refused == 6 ? contact : staff, "2026-03-02T09:30:00Z"),
        ("add-comment", "case-1", ["commentID": "p1", "body": "Looking", "visibility": "public"], staff, "2026-03-02T10:00:00.250Z"),
    ]
    return try commands.enumerated().map { index, c in
        let object: [String: Any] = [
            "commandId": String(format: "00000000-0000-4000-8000-%012d", index + 1), "type": c.0, "streamId": c.1,
            "payload": c.2, "actor": c.3, "at": c.4]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

@Suite("docket import")
struct ImportCLITests {
    @Test("commands run through the decide path at their times; re-running the file appends nothing")
    func importsCommands() throws {
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        try (try importLines().joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try jsonObject(r.stdout)
        #expect(summary["commands"] as? Int == 7 && summary["applied"] as? Int == 7 && summary["duplicates"] as? Int == 0)
        let replay = try jsonObject(try docket(["replay", "case", "1", "--data-dir", dir, "--format", "json"]).stdout)
        let steps = try #require(replay["steps"] as? [[String: Any]])
        #expect(steps.first?["type"] as? String == "case-opened" && steps.first?["at"] as? String == "2026-03-02T09:00:00.000Z")
        let routed = try #require(steps.first { $0["type"] as? String == "case-routed" })
        #expect(routed["actor"] as? String == "s1" && routed["role"] as? String == "staff" && routed["channel"] as? String == "phone")
        #expect(steps.last?["at"] as? String == "2026-03-02T10:00:00.250Z")

        let again = try docket(["import", file, "--data-dir", dir])
        #expect(again.status == 0)
        let second = try jsonObject(again.stdout)
        #expect(second["applied"] as? Int == 0 && second["duplicates"] as? Int == 7 && second["position"] as? Int == summary["position"] as? Int)
    }

    @Test("between commands the deadline scheduler fires what fell due; --until fires what falls due after the last line")
    func firesDeadlines() throws {
        var lines = try importLines()
        // The staff comment comes at 15:00Z, after the response target's at-risk (12:00Z) and deadline (13:00Z).
        lines[6] = lines[6].replacingOccurrences(of: "2026-03-02T10:00:00.250Z", with: "2026-03-02T15:00:00Z")
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir, "--until", "2026-03-03T18:00:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try jsonObject(r.stdout)
        #expect(summary["applied"] as? Int == 7 && (summary["fired"] as? Int ?? 0) >= 2)
        let replay = try jsonObject(try docket(["replay", "case", "1", "--data-dir", dir, "--format", "json"]).stdout)
        let steps = try #require(replay["steps"] as? [[String: Any]])
        let types = steps.compactMap { $0["type"] as? String }
        let breach = try #require(types.firstIndex(of: "clock-breached"))
        let comment = try #require(types.firstIndex(of: "comment-added"))
        #expect(types.firstIndex(of: "clock-at-risk").map { $0 < breach } == true && breach < comment)
        let breachStep = steps[breach]
        #expect(breachStep["actor"] as? String == "deadline-scheduler" || breachStep["actor"] as? String == "system: deadline scheduler")
        #expect(breachStep["at"] as? String == "2026-03-02T13:00:00.000Z")
        // --until: the resolution target (8 business hours from Monday 10:00 Berlin) breaches on Tuesday.
        #expect(steps.contains { $0["type"] as? String == "clock-breached" && ($0["at"] as? String ?? "") > "2026-03-02T16:00:00.000Z" })

        let early = try docket(["import", file, "--data-dir", temporaryPath(), "--until", "2026-03-01T00:00:00Z"])
        #expect(early.status == 64 && early.stderr.contains("--until"))
    }

    @Test("a malformed line or a time going backwards names the line and appends nothing")
    func checkedFirst() throws {
        var lines = try importLines()
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        lines[3] = lines[3].replacingOccurrences(of: "2026-03-02T08:03:00Z", with: "2026-03-02T07:00:00Z")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let backwards = try docket(["import", file, "--data-dir", dir])
        #expect(backwards.status == 65 && backwards.stderr.contains("\(file):4:") && backwards.stderr.contains("must not go backwards"))
        #expect(try docket(["log", "head", "--data-dir", dir]).status == 66)

        lines = try importLines()
        lines[2] = "{\"commandId\": \"nope\"}"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let malformed = try docket(["import", file, "--data-dir", dir])
        #expect(malformed.status == 65 && malformed.stderr.contains("\(file):3: $.commandId"))
        lines = try importLines()
        lines[1] = lines[1].replacingOccurrences(of: "\"role\":\"staff\"", with: "\"role\":\"wizard\"")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let badActor = try docket(["import", file, "--data-dir", dir])
        #expect(badActor.status == 65 && badActor.stderr.contains("\(file):2: $.actor"))
        #expect(try docket(["import", temporaryPath(), "--data-dir", dir]).status == 66)
    }

    @Test("a refused line in the middle of the batch appends nothing from it and names the line; fixed, the file imports")
    func refusedLine() throws {
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        try importLines(refuseAt: 6).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(r.stderr.contains("\(file):6: route-case on case-1 refused"), "\(r.stderr)")
        #expect(r.stderr.contains("nothing from its batch (the whole file, one batch) was appended") && r.stderr.contains("nothing was committed before it"))
        // The whole file is one batch: lines 1-5 were decided but nothing was appended.
        #expect(try logPosition(dir) == 0)

        try importLines().joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fixed = try docket(["import", file, "--data-dir", dir])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let summary = try jsonObject(fixed.stdout)
        #expect(summary["applied"] as? Int == 7 && summary["duplicates"] as? Int == 0 && summary["batches"] as? Int == 1)
        let again = try jsonObject(try docket(["import", file, "--data-dir", dir]).stdout)
        #expect(again["applied"] as? Int == 0 && again["duplicates"] as? Int == 7 && again["position"] as? Int == summary["position"] as? Int)
    }

    @Test("--batch-size: batches before the refused line stay committed, its own appends nothing; re-running after the fix is idempotent")
    func batchSize() throws {
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        try importLines(refuseAt: 6).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir, "--batch-size", "2"])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(r.stderr.contains("\(file):6: route-case on case-1 refused") && r.stderr.contains("batch 3, lines 5–6"), "\(r.stderr)")
        #expect(r.stderr.contains("2 batches before it stay committed (lines 1–4: 4 commands applied"), "\(r.stderr)")
        // Lines 1-4 (the organisation) are in the log; line 5 (open-case, in the failed batch) is not.
        let organisation = try docket(["log", "read", "--stream", "org-acme", "--data-dir", dir])
        #expect(organisation.status == 0 && organisation.lines.count >= 4, "\(organisation.stderr)")
        let committed = try logPosition(dir)
        #expect(committed == organisation.lines.count)

        try importLines().joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fixed = try docket(["import", file, "--data-dir", dir, "--batch-size", "2"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let summary = try jsonObject(fixed.stdout)
        #expect(summary["applied"] as? Int == 3 && summary["duplicates"] as? Int == 4 && summary["batches"] as? Int == 4)
        // Re-running, in other batch sizes too, appends nothing.
        for size in ["2", "3", "100"] {
            let again = try jsonObject(try docket(["import", file, "--data-dir", dir, "--batch-size", size]).stdout)
            #expect(again["applied"] as? Int == 0 && again["duplicates"] as? Int == 7 && again["position"] as? Int == summary["position"] as? Int)
        }
        #expect(try docket(["import", file, "--data-dir", dir, "--batch-size", "0"]).status == 64)
        let help = try docket(["import", "--help"])
        #expect(help.stdout.contains("--batch-size") && help.stdout.contains("atomic"))
    }

    @Test("time-driven events fired between two lines are part of the atomic batch")
    func firedEventsAreInTheBatch() throws {
        var lines = try importLines()
        // The comment comes at 15:00Z, after the response target's at-risk (12:00Z) and breach (13:00Z);
        // line 8, later still, is refused (a contact may not route).
        lines[6] = lines[6].replacingOccurrences(of: "2026-03-02T10:00:00.250Z", with: "2026-03-02T15:00:00Z")
        let refused = try importLines(refuseAt: 6)[5].replacingOccurrences(of: "2026-03-02T09:30:00Z", with: "2026-03-02T16:00:00Z")
            .replacingOccurrences(of: "00000000-0000-4000-8000-000000000006", with: "00000000-0000-4000-8000-000000000008")
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        try (lines + [refused]).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir])
        #expect(r.status == 1 && r.stderr.contains("\(file):8: route-case on case-1 refused"), "\(r.stderr)")
        #expect(try logPosition(dir) == 0, "the breach fired before line 7 went with the batch")

        // In batches of 7 lines, the first (with its breach) commits; the second fails alone.
        let split = try docket(["import", file, "--data-dir", dir, "--batch-size", "7"])
        #expect(split.status == 1 && split.stderr.contains("batch 2, lines 8–8") && split.stderr.contains("time-driven commands fired)"), "\(split.stderr)")
        let replay = try jsonObject(try docket(["replay", "case", "1", "--data-dir", dir, "--format", "json"]).stdout)
        let types = (replay["steps"] as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
        let breach = try #require(types.firstIndex(of: "clock-breached"), "\(types)")
        #expect(types.firstIndex(of: "comment-added").map { breach < $0 } == true, "\(types)")
        let head = try logPosition(dir)

        // Fixed (line 8 dropped) and re-run as one batch: nothing is appended twice, fired events included.
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fixed = try docket(["import", file, "--data-dir", dir])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let summary = try jsonObject(fixed.stdout)
        #expect(summary["duplicates"] as? Int == 7 && summary["fired"] as? Int == 0 && summary["position"] as? Int == head)
    }
}

/// The head position of the log in `dir` (0 when empty).
func logPosition(_ dir: String) throws -> Int {
    let head = try docket(["log", "head", "--data-dir", dir])
    guard head.status == 0 else { throw CLITestError("docket log head failed: \(head.stderr)") }
    return try jsonObject(head.stdout)["position"] as? Int ?? -1
}

/// Appends a byte to the first row of whichever of `tables` holds rows; returns its key as text.
func alterFirstRow(dir: String, tables: [String]) throws -> String {
    let log = try EventLog.open(directory: dir, create: false, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    defer { log.close() }
    return try log.writer.performAndWait { ctx in
        for name in tables {
            let db = try ctx.openDatabase(named: name, create: false)
            let changed = try ctx.transaction { txn -> String? in
                let first = try txn.withCursor(db) { cursor in try cursor.get(.first).map { (Array($0.key), Array($0.value)) } }
                guard let (key, value) = first else { return nil }
                try txn.put(db, key: key, value: value + [0x20])
                return String(decoding: key, as: UTF8.self)
            }
            if let changed { return changed }
        }
        throw CLITestError("no projection rows in \(tables)")
    }
}

/// An organisation in support with `cases` cases opened on Monday 2026-03-02, as import lines.
private func backlogLines(cases: Int) throws -> [String] {
    let organisation = try importLines().prefix(4)
    let contact: [String: Any] = ["id": "ada", "role": "contact", "organisationID": "acme", "access": "designated", "channel": "portal"]
    let opened = try (1...cases).map { n in
        let payload: [String: Any] = [
            "caseID": "\(n)", "organisationID": "acme", "contactID": "ada", "subject": "Export fails \(n)", "description": "Steps",
            "topic": "expenses", "caseType": "support", "subType": "problem", "severity": "P2", "region": "europe",
            "site": "s7", "product": "Expense", "stage": "production", "callMe": false, "cc": [], "channel": "portal"]
        let object: [String: Any] = [
            "commandId": String(format: "00000000-0000-4000-8100-%012d", n), "type": "open-case", "streamId": "case-\(n)",
            "payload": payload, "actor": contact, "at": String(format: "2026-03-02T09:%02d:00Z", n)]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
    return Array(organisation) + opened
}

/// One staff comment on case 1 at `at`, as an import line (`refused`: a route sent by the
/// contact instead, which R1 refuses).
private func laterLine(at: String, refused: Bool = false) throws -> String {
    let staff: [String: Any] = ["id": "s1", "role": "staff", "staffRole": "tier1", "channel": "phone"]
    let contact: [String: Any] = ["id": "ada", "role": "contact", "organisationID": "acme", "access": "designated", "channel": "portal"]
    let object: [String: Any] = refused
        ? ["commandId": "00000000-0000-4000-8200-000000000001", "type": "route-case", "streamId": "case-1",
           "payload": ["team": "expenses", "owner": "s1", "tier": "tier1"], "actor": contact, "at": at]
        : ["commandId": "00000000-0000-4000-8200-000000000002", "type": "add-comment", "streamId": "case-1",
           "payload": ["commentID": "late", "body": "Back", "visibility": "public"], "actor": staff, "at": at]
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

@Suite("docket import: a backlog of deadlines")
struct ImportBacklogTests {
    /// A data directory holding the organisation and six open cases, whose deadlines are not fired yet.
    private func openedCases() throws -> String {
        let dir = temporaryPath()
        let file = temporaryPath("opened") + ".ndjson"
        try backlogLines(cases: 6).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try jsonObject(r.stdout)["fired"] as? Int == 0)
        return dir
    }

    @Test("what fell due before a batch's first line is committed first in bounded batches of its own; the log is the same as in one")
    func backlogInBatchesOfItsOwn() throws {
        let file = temporaryPath("later") + ".ndjson"
        try (try laterLine(at: "2026-03-10T09:00:00Z") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let bounded = try openedCases()
        let r = try docket(["import", file, "--data-dir", bounded, "--fired-batch-size", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        let small = try jsonObject(r.stdout)
        let fired = try #require(small["fired"] as? Int)
        // Six cases, each with response and resolution at-risk and breach records at least.
        #expect(fired >= 24, "\(small)")
        #expect(small["firedBatches"] as? Int == (fired + 4) / 5 && small["batches"] as? Int == 1 && small["applied"] as? Int == 1, "\(small)")

        let whole = try openedCases()
        let one = try jsonObject(try docket(["import", file, "--data-dir", whole]).stdout)
        #expect(one["firedBatches"] as? Int == 1 && one["fired"] as? Int == fired && one["firedEvents"] as? Int == small["firedEvents"] as? Int)
        // Every event decided at its own instant with a derived id, in the same order: the same log
        // but for the wall-clock recordedAt (and so the chain's hashes).
        #expect(one["position"] as? Int == small["position"] as? Int)
        #expect(try exportedEvents(bounded) == exportedEvents(whole))
        // The comment came after its case's breaches.
        let types = (try jsonObject(try docket(["replay", "case", "1", "--data-dir", bounded, "--format", "json"]).stdout)["steps"]
            as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
        let comment = try #require(types.firstIndex(of: "comment-added"), "\(types)")
        #expect(types.lastIndex(of: "clock-breached").map { $0 < comment } == true, "\(types)")

        let again = try jsonObject(try docket(["import", file, "--data-dir", bounded, "--fired-batch-size", "5"]).stdout)
        #expect(again["fired"] as? Int == 0 && again["firedBatches"] as? Int == 0 && again["duplicates"] as? Int == 1)
        #expect(try docket(["import", file, "--data-dir", bounded, "--fired-batch-size", "0"]).status == 64)
    }

    @Test("a refused line after a backlog leaves the backlog committed and says so; --until fires in batches of its own")
    func refusedAfterBacklog() throws {
        let dir = try openedCases()
        let before = try logPosition(dir)
        let file = temporaryPath("refused") + ".ndjson"
        try (try laterLine(at: "2026-03-10T09:00:00Z", refused: true) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir, "--fired-batch-size", "7"])
        #expect(r.status == 1 && r.stderr.contains("\(file):1: route-case on case-1 refused"), "\(r.stderr)")
        #expect(r.stderr.contains("nothing from its batch (the whole file, one batch) was appended"), "\(r.stderr)")
        #expect(r.stderr.contains("time-driven commands fired (") && r.stderr.contains("of their own batches) stay committed"), "\(r.stderr)")
        let backlog = try logPosition(dir)
        #expect(backlog > before)

        // Fixed: the backlog is not fired twice.
        try (try laterLine(at: "2026-03-10T09:00:00Z") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fixed = try docket(["import", file, "--data-dir", dir, "--fired-batch-size", "7"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let summary = try jsonObject(fixed.stdout)
        #expect(summary["fired"] as? Int == 0 && summary["firedBatches"] as? Int == 0 && summary["applied"] as? Int == 1, "\(summary)")

        // --until: what falls due after the last line (here, before any deadline) comes in batches of its own.
        let early = try openedCases()
        try (try laterLine(at: "2026-03-02T09:30:00Z") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let until = try docket(["import", file, "--data-dir", early, "--fired-batch-size", "2", "--until", "2026-03-10T09:00:00Z"])
        #expect(until.status == 0, "\(until.stderr)")
        let after = try jsonObject(until.stdout)
        let fired = try #require(after["fired"] as? Int)
        #expect(fired >= 20 && after["firedBatches"] as? Int == (fired + 1) / 2 && after["batches"] as? Int == 1, "\(after)")
        #expect(try logPosition(early) == after["position"] as? Int)
    }
}

/// The events `docket export` writes for `dir`, without what depends on the wall clock
/// (`recordedAt`, and the chain's hashes over it).
private func exportedEvents(_ dir: String) throws -> [String] {
    let export = try docket(["export", "--data-dir", dir])
    guard export.status == 0 else { throw CLITestError("docket export failed: \(export.stderr)") }
    return try export.lines.map { line in
        var event = try jsonObject(line)
        event["recordedAt"] = nil
        event["hash"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
    }
}
