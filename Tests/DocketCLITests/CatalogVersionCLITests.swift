import CaseDomain
import Foundation
import Testing

/// R4.9 through the `docket` tool: commands that open a data directory use the shipped (or
/// given) files plus the versions recorded in its log; the log wins over a conflicting file.
@Suite struct CatalogVersionCLITests {
    /// The shipped `timecare-se` policy as `version` with a response target of `hours` business hours.
    static func timecare(version: Int, hours: Int) throws -> [String: Any] {
        let file = try #require(PolicyCatalog.shippedPolicyFiles.first { $0.name.hasSuffix("/timecare-se.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = version
        let target: [String: Any] = ["response": ["businessHours": hours]]
        json["targets"] = ["P1": target, "P2": target, "P3": target]
        return json
    }

    static func line(_ type: String, _ stream: String, _ payload: [String: Any], actor: [String: Any]) throws -> String {
        let object: [String: Any] = ["commandId": UUID().uuidString, "type": type, "streamId": stream, "payload": payload,
                                     "at": "2026-11-18T14:00:00Z", "actor": actor]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func responseDeadline(_ report: String) throws -> String? {
        let json = try jsonObject(report)
        let row = (json["rows"] as? [[String: Any]])?.first
        #expect(row?["policyVersion"] as? Int == 2, "\(String(describing: row))")
        let clocks = row?["clocks"] as? [[String: Any]] ?? []
        return clocks.first { $0["target"] as? String == "response" }?["deadline"] as? String
    }

    @Test("a policy version only the log holds is in force for rebuild and report; the log wins over --policies-dir")
    func logVersionsInForceForCLICommands() throws {
        let dir = temporaryPath()
        let policies = temporaryPath() + "-policies"
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: policies)
        }
        let manager: [String: Any] = ["id": "mgr", "role": "staff", "staffRole": "manager"]
        let phone: [String: Any] = ["id": "s1", "role": "staff", "staffRole": "tier1", "channel": "phone"]
        let policy = String(decoding: try JSONSerialization.data(withJSONObject: try Self.timecare(version: 2, hours: 4), options: [.sortedKeys]),
                            as: UTF8.self)
        var lines = [
            try Self.line("record-policy-version", "policy-timecare-se", ["name": "timecare-se", "version": 2, "content": policy], actor: manager),
            try Self.line("register-organisation", "org-acme", ["organisationID": "acme", "name": "Acme", "policyName": "timecare-se"], actor: manager),
        ]
        for c in ["ada", "bo"] {
            lines.append(try Self.line("add-contact", "org-acme", ["contactID": c, "name": c, "email": "\(c)@acme.example", "access": "designated"],
                                       actor: manager))
        }
        lines.append(try Self.line("transition-to-support", "org-acme", [:], actor: manager))
        lines.append(try Self.line("open-case", "case-1", [
            "caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Rota lost", "description": "Ward 4",
            "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P3", "region": "sweden",
            "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": "phone"], actor: phone))
        let imported = try docket(["import", "--data-dir", dir, "-"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(imported.status == 0, "\(imported.stderr)")

        // Policy v2 (4 business hours) from Wednesday 15:00 CET: 1 h, then Thursday 09:00-12:00.
        let report = try docket(["report", "cases", "--data-dir", dir, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try Self.responseDeadline(report.stdout)?.hasPrefix("2026-11-19T11:00:00") == true, "\(report.stdout)")

        // The auditor's replay measures the clock with the same policy version and calendar.
        let replay = try docket(["replay", "case", "1", "--data-dir", dir, "--format", "json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let final = try jsonObject(replay.stdout)["final"] as? [String: Any]
        let clock = (final?["clocks"] as? [[String: Any]])?.first { $0["target"] as? String == "response" }
        #expect(clock?["timeKind"] as? String == "business", "\(replay.stdout)")
        #expect((clock?["deadline"] as? String)?.hasPrefix("2026-11-19T11:00:00") == true, "\(replay.stdout)")

        // Files defining timecare-se version 2 differently (8 h): the log's version is used, with a warning.
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        for file in PolicyCatalog.shippedPolicyFiles where !file.name.hasSuffix("/timecare-se.json") {
            try file.data.write(to: URL(fileURLWithPath: policies).appendingPathComponent(URL(fileURLWithPath: file.name).lastPathComponent))
        }
        try JSONSerialization.data(withJSONObject: try Self.timecare(version: 2, hours: 8))
            .write(to: URL(fileURLWithPath: policies).appendingPathComponent("timecare-se.json"))
        let rebuilt = try docket(["rebuild", "--data-dir", dir, "--policies-dir", policies])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stderr.contains("policy timecare-se version 2 differs"), "\(rebuilt.stderr)")
        #expect(rebuilt.stderr.contains("policy-timecare-se position 1"), "\(rebuilt.stderr)")
        let again = try docket(["report", "cases", "--data-dir", dir, "--format", "json", "--policies-dir", policies])
        #expect(try Self.responseDeadline(again.stdout)?.hasPrefix("2026-11-19T11:00:00") == true, "\(again.stdout)")
    }

    @Test("calendar show and sla due add the versions a data directory's log records with --data-dir; --version picks one")
    func calendarToolsReadRecordedVersions() throws {
        let dir = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try #require(PolicyCatalog.shippedCalendarFiles.first { $0.name.hasSuffix("/sweden.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = 2
        json["closures"] = [["from": "2026-11-19", "name": "office move"]]
        let content = String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
        let line = try Self.line("record-calendar-version", "calendar-sweden",
                                 ["name": "sweden", "version": 2, "content": content, "reason": "office move"],
                                 actor: ["id": "mgr", "role": "staff", "staffRole": "manager"])
        let imported = try docket(["import", "--data-dir", dir, "-"], stdin: line + "\n")
        #expect(imported.status == 0, "\(imported.stderr)")

        func kind(_ extra: [String]) throws -> String? {
            let run = try docket(["calendar", "show", "--calendar", "sweden", "--from", "2026-11-19", "--to", "2026-11-19", "--format", "json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return ((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])?.first?["kind"]) as? String
        }
        #expect(try kind([]) == "open")  // the files alone do not know the closure
        #expect(try kind(["--data-dir", dir]) == "closure")
        #expect(try kind(["--data-dir", dir, "--version", "1"]) == "open")
        let text = try docket(["calendar", "show", "--calendar", "sweden", "--from", "2026-11-19", "--to", "2026-11-19", "--data-dir", dir])
        #expect(text.stdout.hasPrefix("sweden version 2, Europe/Stockholm"), "\(text.stdout)")
        #expect(text.stdout.contains("recorded at log position 1, in force from there"), "\(text.stdout)")

        // sla due measures with the recorded version: 2 business hours from Wednesday 15:00 CET
        // are 15:00-16:00 and, Thursday being closed, Friday 09:00-10:00.
        let due = try docket(["sla", "due", "--policy", "timecare-se", "--region", "sweden", "--priority", "P3", "--target", "response",
                              "--from", "2026-11-18T14:00:00Z", "--data-dir", dir])
        #expect(due.status == 0, "\(due.stderr)")
        let answer = try JSONSerialization.jsonObject(with: Data(due.stdout.utf8)) as? [String: Any]
        #expect(answer?["calendarVersion"] as? Int == 2 && answer?["due"] as? String == "2026-11-20T09:00:00Z", "\(due.stdout)")

        let missing = try docket(["calendar", "show", "--calendar", "sweden", "--from", "2026-11-19", "--to", "2026-11-19",
                                  "--data-dir", dir + "-nowhere"])
        #expect(missing.status == 66 && missing.stdout.isEmpty, "\(missing.stderr)")
        #expect(missing.stderr.contains("no such directory") && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        let unknown = try docket(["calendar", "show", "--calendar", "sweden", "--from", "2026-11-19", "--to", "2026-11-19",
                                  "--data-dir", dir, "--version", "9"])
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown calendar sweden version 9"), "\(unknown.stderr)")
    }
}
