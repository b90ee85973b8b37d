import DocketHTTP
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceLifecycle
import Testing

@Suite("HTTP: graceful shutdown")
struct ShutdownTests {
    @Test("a graceful shutdown (what SIGTERM triggers) lets the request in flight finish before the server stops")
    func finishesInFlight() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let head = try f.log.head().position
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(ServerConfiguration(port: 0, readYourWritesTimeout: .seconds(10)),
                                   dependencies: f.dependencies, logger: quietLogger,
                                   onListening: { continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let status = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                // This query waits for a position the log has not reached yet: it is in flight.
                async let response = client.get("/v1/log/head", headers: f.auth(.staff, [.docketPosition: "\(head + 1)"]))
                try await Task.sleep(for: .milliseconds(300))
                await group.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(200))
                _ = try await f.log.append(to: "shutdown-test", events: [NewEvent(type: "t", payload: Data("{}".utf8))])
                return try await response.status
            }
            #expect(status == .ok)
            try await tasks.waitForAll()
        }
    }
}
