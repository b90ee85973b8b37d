import CaseDomain
import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Runs schemathesis (installed by tools/ensure-deps.sh --python) against a live server on
/// a loopback port, with a bounded number of examples per operation: every response must
/// match schemas/openapi.yaml (status codes, content types, bodies, the error shape).
@Suite("HTTP: the live server conforms to schemas/openapi.yaml (schemathesis)")
struct OpenAPITests {
    static let schemathesis: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/schemathesis") {
            return "\(dir)/schemathesis"
        }
        return nil
    }()

    /// schemathesis's configuration: a request that matches the spec may still be refused for
    /// what is stored (a missing stream 404, a version conflict 409, a domain rule 422, a read
    /// side that has not caught up 503), never as malformed (400): "no valid request refused".
    static var configPath: String {
        let path = NSTemporaryDirectory() + "docket-schemathesis-\(getpid()).toml"
        let text = """
            [checks.positive_data_acceptance]
            expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429", "503"]
            """
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static var specPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/openapi.yaml").path
    }

    @Test("schemathesis finds no response that contradicts the spec, as admin and as staff",
          .enabled(if: schemathesis != nil || ProcessInfo.processInfo.environment["DOCKET_REQUIRE_SCHEMATHESIS"] != nil,
                   "schemathesis is not installed (tools/test.sh installs it)"))
    func conforms() async throws {
        let tool = try #require(Self.schemathesis, "schemathesis is not on PATH; run tools/ensure-deps.sh --python")
        let f = try await Fixture.make()
        defer { f.log.close() }
        let configuration = ServerConfiguration(port: 0, rateLimit: .init(ratePerSecond: 0), readYourWritesTimeout: .milliseconds(50))
        try await f.app(configuration).test(.live) { client in
            let port = try #require(client.port)
            for who in [Who.admin, .staff] {
                let (status, output) = try await run(tool, [
                    "--config-file", Self.configPath, "run", Self.specPath, "--url", "http://127.0.0.1:\(port)",
                    "-H", "Authorization: Bearer \(f.secrets[who] ?? "")",
                    "-n", "15", "--generation-deterministic", "--phases", "examples,coverage,fuzzing",
                    "--checks", "all",
                    "--no-color",
                ])
                #expect(status == 0, "schemathesis as \(who) failed:\n\(output.suffix(6000))")
            }
        }
    }

    @Test("schemas/openapi.yaml describes every command type's body exactly as schemas/commands does")
    func commandBodiesMatchTheCommandSchemas() async throws {
        let root = URL(fileURLWithPath: Self.specPath).deletingLastPathComponent().deletingLastPathComponent()
        let (status, output) = try await run("/usr/bin/env", ["python3", root.appendingPathComponent("tools/gen_openapi_commands.py").path, "--check"])
        #expect(status == 0, "\(output)")
        let spec = try String(contentsOfFile: Self.specPath, encoding: .utf8)
        for type in DomainCommand.messageTypes.map({ $0.type }) {
            #expect(spec.contains("\"enum\": [\"\(type)\"]"), "no envelope for \(type) in schemas/openapi.yaml")
        }
    }

    @Test("schemas/openapi.yaml names every error code the server's sources can answer with")
    func everyErrorCodeDocumented() throws {
        let root = URL(fileURLWithPath: Self.specPath).deletingLastPathComponent().deletingLastPathComponent()
        let spec = try String(contentsOfFile: Self.specPath, encoding: .utf8)
        let sources = root.appendingPathComponent("Sources/DocketHTTP")
        var codes: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            // `code: "not-found"` in APIError(...) and TokenStoreError's `case x = "last-admin-token"`.
            for pattern in [#"code: "([a-z-]+)""#, #"case [a-zA-Z]+ = "([a-z]+(?:-[a-z]+)+)""#] {
                let regex = try NSRegularExpression(pattern: pattern)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let range = Range(match.range(at: 1), in: text) { codes.insert(String(text[range])) }
                }
            }
        }
        codes.remove("client-aborted")  // 499: recorded for a client that went away, never sent
        #expect(codes.count > 15, "\(codes.sorted())")
        for code in codes.sorted() {
            #expect(spec.contains(code), "schemas/openapi.yaml does not name the error code \(code)")
        }
    }

    /// Runs a program, returns its exit status and combined output.
    func run(_ tool: String, _ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = OutputCollector()
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        output.append(pipe.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, output.text)
    }
}

/// Collects a child's output from the pipe's handler thread.
final class OutputCollector: Sendable {
    let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
}
