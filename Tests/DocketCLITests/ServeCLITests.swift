import Foundation
import Testing

@Suite("docket serve and docket token")
struct ServeCLITests {
    @Test("token create prints the secret once; list never shows it; revoke marks it; bad input exits 64; a contact needs to be on its organisation's list (R1.10)")
    func tokens() throws {
        let dir = temporaryPath()
        let arguments = ["token", "create", "--data-dir", dir, "--kind", "contact", "--id", "ada", "--organisation", "acme"]
        // No organisation yet: the contact is on no list, so no token.
        let unlisted = try docket(arguments + ["--access", "designated"])
        #expect(unlisted.status == 1 && unlisted.stderr.contains("not on the contact list"), "\(unlisted.stderr)")
        let file = dir + "-import.ndjson"
        try (importLines().prefix(4).joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try docket(["import", "--data-dir", dir, file]).status == 0)
        // The list says designated without incident-report access: claims beyond it are refused.
        let overclaim = try docket(arguments + ["--incident-report"])
        #expect(overclaim.status == 1 && overclaim.stderr.contains("incident-report"), "\(overclaim.stderr)")
        let wrongLevel = try docket(arguments + ["--access", "basic"])
        #expect(wrongLevel.status == 1 && wrongLevel.stderr.contains("is designated"), "\(wrongLevel.stderr)")
        let created = try docket(arguments + ["--label", "ops"])
        #expect(created.status == 0, "\(created.stderr)")
        let object = try jsonObject(try #require(created.lines.first))
        let secret = try #require(object["secret"] as? String)
        let token = try #require(object["token"] as? [String: Any])
        let id = try #require(token["id"] as? String)
        #expect(secret.hasPrefix("dkt_"))
        // The record notes the level the list holds.
        #expect((token["principal"] as? [String: Any])?["access"] as? String == "designated")

        let listed = try docket(["token", "list", "--data-dir", dir])
        #expect(listed.status == 0 && listed.stdout.contains(id) && !listed.stdout.contains(secret))

        let revoked = try docket(["token", "revoke", "--data-dir", dir, id])
        #expect(revoked.status == 0)
        #expect(((try jsonObject(try #require(revoked.lines.first))["token"] as? [String: Any])?["revokedAt"] as? String) != nil)
        #expect(try docket(["token", "revoke", "--data-dir", dir, "tok_0000000000000000"]).status == 1)

        let bad = try docket(["token", "create", "--data-dir", dir, "--kind", "contact", "--id", "c2"])
        #expect(bad.status == 64 && bad.stderr.contains("organisationId"))
        #expect(try docket(["token", "create", "--data-dir", dir, "--kind", "wizard", "--id", "x"]).status == 64)
    }

    @Test("token revoke refuses the last valid admin token (exit 1, with the reason); with a second admin token it revokes the first")
    func lastAdminToken() throws {
        let dir = temporaryPath()
        func createAdmin(_ id: String) throws -> String {
            let created = try docket(["token", "create", "--data-dir", dir, "--kind", "admin", "--id", id])
            #expect(created.status == 0, "\(created.stderr)")
            let line = try #require(created.lines.first)
            let token = try jsonObject(line)["token"] as? [String: Any]
            return try #require(token?["id"] as? String)
        }
        let first = try createAdmin("ops-1")
        let refused = try docket(["token", "revoke", "--data-dir", dir, first])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("last valid admin token") && refused.stderr.contains("create another admin token first"), "\(refused.stderr)")
        let second = try createAdmin("ops-2")
        #expect(try docket(["token", "revoke", "--data-dir", dir, first]).status == 0)
        #expect(try docket(["token", "revoke", "--data-dir", dir, second]).status == 1)
        let listed = try docket(["token", "list", "--data-dir", dir])
        let tokens = try #require(try jsonObject(listed.stdout)["tokens"] as? [[String: Any]])
        #expect(tokens.filter { $0["revokedAt"] == nil }.map { $0["id"] as? String } == [second])
    }

    @Test("serve: the connection timeouts are options; a timeout that is no positive number of seconds is a usage error")
    func timeoutOptions() throws {
        let help = try docket(["serve", "--help"])
        for option in ["--header-timeout", "--read-timeout", "--idle-timeout"] {
            #expect(help.stdout.contains(option), "\(help.stdout)")
            let bad = try docket(["serve", "--data-dir", temporaryPath(), "--port", "0", option, "0"])
            #expect(bad.status == 64 && bad.stderr.contains(option), "\(bad.stderr)")
        }
    }

    @Test("serve: first start prints an admin token once, answers /health, stops cleanly on SIGTERM; a restart prints none")
    func serve() throws {
        let dir = temporaryPath()
        let first = try ServerProcess(dataDir: dir)
        let admin = try #require(try jsonObject(first.stdoutFirstLine)["adminToken"] as? String)
        #expect(admin.hasPrefix("dkt_"))
        let health = try run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(first.port)/health"])
        #expect(health.stdout.contains("\"ok\""))
        let tokens = try run("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(admin)", "http://127.0.0.1:\(first.port)/v1/tokens"])
        #expect(tokens.stdout.contains("\"admin\"") && !tokens.stdout.contains(admin))
        let status = first.terminate()
        #expect(status == 0, "stderr: \(first.stderrText)")
        #expect(!first.stderrText.contains(admin), "the token must never be logged")

        let second = try ServerProcess(dataDir: dir)
        #expect(second.stdoutFirstLine.isEmpty)
        #expect(second.terminate() == 0)
    }
}

/// A `docket serve --port 0` child: waits until it listens and reads the port from its log.
final class ServerProcess {
    let process = Process()
    let port: Int
    let stdoutFirstLine: String
    private let err: ReadAll
    private let out: Pipe

    init(dataDir: String) throws {
        process.executableURL = URL(fileURLWithPath: productPath("docket"))
        process.arguments = ["serve", "--data-dir", dataDir, "--port", "0"]
        out = Pipe()
        let errPipe = Pipe()
        process.standardOutput = out
        process.standardError = errPipe
        try process.run()
        // The server logs "Server started and listening on 127.0.0.1:PORT" at info.
        var collected = Data()
        var found: Int?
        let handle = errPipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while found == nil && Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            collected.append(chunk)
            let text = String(decoding: collected, as: UTF8.self)
            if let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                found = Int(text[range].split(separator: ":").last ?? "")
            }
        }
        err = ReadAll(handle)
        prefix = String(decoding: collected, as: UTF8.self)
        guard let found else {
            process.terminate()
            throw ServeError(message: "server did not start: \(String(decoding: collected, as: UTF8.self))")
        }
        port = found
        // The first start prints the admin token before it starts listening; a restart prints nothing.
        let available = out.fileHandleForReading
        var line = Data()
        if process.isRunning {
            var pending = Data()
            let flags = fcntl(available.fileDescriptor, F_GETFL)
            _ = fcntl(available.fileDescriptor, F_SETFL, flags | O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(available.fileDescriptor, &buffer, buffer.count)
            if n > 0 { pending.append(contentsOf: buffer[0..<n]) }
            _ = fcntl(available.fileDescriptor, F_SETFL, flags)
            line = pending.split(separator: UInt8(ascii: "\n")).first.map { Data($0) } ?? Data()
        }
        stdoutFirstLine = String(decoding: line, as: UTF8.self)
    }

    private let prefix: String
    var stderrText: String { prefix + String(decoding: err.wait(), as: UTF8.self) }

    /// Sends SIGTERM and returns the exit status.
    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct ServeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
