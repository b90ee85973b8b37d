import Foundation
import Testing

extension ImportCLITests {
    @Test("a line naming a member twice is refused with its line number and the member's path; nothing is appended")
    func duplicateKeyLine() throws {
        var lines = try importLines()
        let dir = temporaryPath()
        let file = temporaryPath("commands") + ".ndjson"
        #expect(lines[2].contains("\"payload\":{"))
        lines[2] = lines[2].replacingOccurrences(of: "\"payload\":{", with: "\"payload\":{\"contactID\":\"eve\",")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try docket(["import", file, "--data-dir", dir])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("\(file):3: $.payload.contactID"), "\(r.stderr)")
        #expect(r.stderr.contains("twice"), "\(r.stderr)")
        #expect(try docket(["log", "head", "--data-dir", dir]).status == 66)

        // The same strict envelope as POST /v1/commands: expectedVersion 1e2 is refused too.
        lines = try importLines()
        lines[1] = lines[1].replacingOccurrences(of: "\"payload\":{", with: "\"expectedVersion\":1e2,\"payload\":{")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let exponent = try docket(["import", file, "--data-dir", dir])
        #expect(exponent.status == 65 && exponent.stderr.contains("\(file):2: $.expectedVersion"), "\(exponent.stderr)")
    }

    @Test("docket log append --data refuses a member named twice, naming its path")
    func logAppendDuplicate() throws {
        let dir = temporaryPath()
        let r = try docket(["log", "append", "--data-dir", dir, "--stream", "s-1", "--type", "t",
                            "--data", #"{"a":{"b":[{"c":1,"c":2}]}}"#])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("$.a.b[0].c"), "\(r.stderr)")
        let ok = try docket(["log", "append", "--data-dir", dir, "--stream", "s-1", "--type", "t", "--data", #"{"a":{"b":[{"c":1,"d":2}]}}"#])
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}
