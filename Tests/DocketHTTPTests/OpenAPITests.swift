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
                    "run", Self.specPath, "--url", "http://127.0.0.1:\(port)",
                    "-H", "Authorization: Bearer \(f.secrets[who] ?? "")",
                    "-n", "15", "--generation-deterministic", "--phases", "examples,coverage,fuzzing",
                    "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                    "--no-color",
                ])
                #expect(status == 0, "schemathesis as \(who) failed:\n\(output.suffix(6000))")
            }
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
