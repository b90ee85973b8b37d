import Foundation
import Testing

@Suite("Open format: the independent Python verifier (R9.3)")
struct IndependentVerifierTests {
    @Test("tools/verify_log.py reads a log the Swift code wrote, agrees with its digest, and finds tampering")
    func pythonVerifier() throws {
        try #require(pythonLMDBAvailable(), "python3 with the lmdb package is required (tools/test.sh installs it)")
        let dir = temporaryPath()
        // A varied log: unicode stream names, metadata, correlation via import, multi-event appends from docket-stress.
        let stress = try run(productPath("docket-stress"), ["--data-dir", dir, "--writers", "8", "--streams", "20", "--max-group", "3", "--appends", "300"])
        #expect(stress.status == 0, "\(stress.stderr)")
        let lines = [
            "{\"stream\":\"ärende-Ω\",\"type\":\"case-opened\",\"data\":{\"subject\":\"Löner saknas\"},\"actor\":\"contact:åsa\",\"metadata\":{\"channel\":\"portal\"}}",
            "{\"stream\":\"ärende-Ω\",\"type\":\"case-commented\",\"data\":[1,2,3],\"schemaVersion\":2}",
        ]
        let imported = try docket(["log", "import", "--data-dir", dir, "-"], stdin: lines.joined(separator: "\n"))
        #expect(imported.status == 0, "\(imported.stderr)")
        let head = try jsonObject(try #require(try docket(["log", "head", "--data-dir", dir]).lines.first))

        let script = repositoryRoot() + "/tools/verify_log.py"
        let good = try run("/usr/bin/env", ["python3", script, "--data-dir", dir])
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        let report = try jsonObject(try #require(good.lines.first))
        #expect(report["ok"] as? Bool == true)
        #expect(report["position"] as? Int == head["position"] as? Int)
        #expect(report["hash"] as? String == head["hash"] as? String)
        #expect((report["streams"] as? Int ?? 0) >= 21)

        try tamper(dir: dir, position: 123)
        let bad = try run("/usr/bin/env", ["python3", script, "--data-dir", dir])
        #expect(bad.status == 1)
        #expect(try jsonObject(try #require(bad.lines.first))["firstBadPosition"] as? Int == 123)

        let missing = try run("/usr/bin/env", ["python3", script, "--data-dir", dir + "-absent"])
        #expect(missing.status == 2 && missing.stderr.contains("no Docket event log"))
    }
}
