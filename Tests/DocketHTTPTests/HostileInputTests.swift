import DocketHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile HTTP input against a live server on loopback, through raw TCP sockets (no HTTP
/// client in between that would refuse to send such bytes).
@Suite("HTTP: hostile input (malformed HTTP, slow and aborted clients, the last admin token)")
struct HostileInputTests {
    @Test("malformed HTTP is answered with the one JSON error shape and Connection: close, then the connection is closed",
          arguments: MalformedRequest.all)
    func malformed(_ request: MalformedRequest) async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        try await f.app().test(.live) { client in
            let port = try #require(client.port)
            let bytes = request.bytes(adminSecret: f.adminSecret)
            let (data, closed) = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                connection.send(bytes)
                return connection.readUntilClosed(timeout: .seconds(10))
            }
            #expect(closed, "the connection stayed open after \(request)")
            let response = try #require(RawResponse(data), "no HTTP response to \(request): \(String(decoding: data, as: UTF8.self))")
            #expect(response.status == request.status, "\(request): \(response.text)")
            #expect(response.headers["content-type"] == "application/json", "\(request): \(response.text)")
            #expect(response.headers["connection"] == "close", "\(request): \(response.text)")
            let error = try #require(response.jsonError, "\(request): no JSON error body in \(response.text)")
            #expect(error["code"] as? String == request.code, "\(request): \(response.text)")
            #expect((error["message"] as? String)?.isEmpty == false)
        }
    }

    @Test("a half-sent request head and a half-sent body are answered 408 and closed after the (shortened) timeouts; an idle connection is closed")
    func timeouts() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let limits = ConnectionLimits(headerTimeout: .milliseconds(400), readTimeout: .milliseconds(400), idleTimeout: .milliseconds(800))
        try await f.app(ServerConfiguration(port: 0, connectionLimits: limits)).test(.live) { client in
            let port = try #require(client.port)
            let halfHead = Array("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
            let halfBody = Array(("POST /v1/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(f.adminSecret)\r\n"
                                  + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"principal\":").utf8)
            for (name, bytes) in [("half-sent head", halfHead), ("half-sent body", halfBody)] {
                let start = ContinuousClock.now
                let (data, closed) = try await blocking {
                    let connection = try RawConnection(port: port)
                    defer { connection.close() }
                    connection.send(bytes)
                    return connection.readUntilClosed(timeout: .seconds(10))
                }
                let elapsed = ContinuousClock.now - start
                #expect(closed, "\(name): the connection stayed open for 10 s")
                #expect(elapsed >= .milliseconds(350), "\(name): closed after \(elapsed), before the timeout")
                let response = try #require(RawResponse(data), "\(name): no response: \(String(decoding: data, as: UTF8.self))")
                #expect(response.status == 408, "\(name): \(response.text)")
                #expect(response.headers["content-type"] == "application/json")
                #expect(response.jsonError?["code"] as? String == "request-timeout", "\(name): \(response.text)")
            }
            // A connection that sends nothing, and one that stays open after a request, are closed silently.
            let start = ContinuousClock.now
            let (silent, silentClosed) = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                return connection.readUntilClosed(timeout: .seconds(10))
            }
            #expect(silentClosed && silent.isEmpty)
            #expect(ContinuousClock.now - start >= .milliseconds(750))
            let (afterRequest, keptClosed) = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                connection.send(Array("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
                return connection.readUntilClosed(timeout: .seconds(10))
            }
            #expect(keptClosed)
            #expect(RawResponse(afterRequest)?.status == 200)
        }
    }

    @Test("an upload the client aborts mid-body is counted as a client abort (499), not a 500, and logged below error level")
    func abortedUpload() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        let logs = CollectedLogs()
        let app = buildApplication(ServerConfiguration(port: 0), dependencies: f.dependencies,
                                   logger: Logger(label: "test") { _ in CollectingLogHandler(sink: logs) })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let command = try commandJSON("add-comment", "case-A1", ["text": "hello"])
            let head = "POST /v1/commands HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(f.secrets[.staff] ?? "")\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(command.utf8.count + 500)\r\n\r\n"
            try await blocking {
                let connection = try RawConnection(port: port)
                connection.send(Array((head + command).utf8))
                Thread.sleep(forTimeInterval: 0.2)
                connection.close()
            }
            var metrics = ""
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                if metrics.contains("status=\"499\"") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let commandLines = metrics.split(separator: "\n").filter { $0.hasPrefix("docket_http_requests_total") && $0.contains("route=\"/v1/commands\"") }
            #expect(commandLines.contains { $0.contains("status=\"499\"") }, "\(commandLines)")
            #expect(!commandLines.contains { $0.contains("status=\"500\"") }, "\(commandLines)")
            #expect(logs.entries.filter { $0.level >= .error }.isEmpty, "\(logs.entries.filter { $0.level >= .error })")
        }
    }

    @Test("the last valid admin token cannot be revoked (409 last-admin-token); one of two can")
    func lastAdminToken() async throws {
        let f = try await Fixture.make()
        defer { f.log.close() }
        // The fixture has two admin tokens: the first start's and `Who.admin`'s.
        let admins = try f.tokens.list().filter { $0.principal.kind == .admin && $0.revokedAt == nil }
        #expect(admins.count == 2)
        let own = try #require(admins.first { $0.principal.id == Who.admin.caller.id })
        let other = try #require(admins.first { $0.id != own.id })
        try await f.app().test(.live) { client in
            try await client.execute(uri: "/v1/tokens/\(other.id)", method: .delete, headers: f.auth(.admin)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/tokens/\(own.id)", method: .delete, headers: f.auth(.admin)) { response in
                let error = try expectError(response, .conflict, "last-admin-token")
                #expect((error["message"] as? String)?.contains("create another admin token first") == true)
            }
            // Nothing was revoked: the admin still manages tokens.
            try await client.execute(uri: "/v1/tokens", method: .get, headers: f.auth(.admin)) { #expect($0.status == .ok) }
            // Revoking an already revoked admin token is still answered with its record.
            try await client.execute(uri: "/v1/tokens/\(other.id)", method: .delete, headers: f.auth(.admin)) { #expect($0.status == .ok) }
        }
        await #expect(throws: TokenStoreError.self) { try await f.tokens.revoke(id: own.id) }
        #expect(try f.tokens.list().first { $0.id == own.id }?.revokedAt == nil)
    }
}

/// A request the HTTP/1 parser refuses, and the answer it gets.
struct MalformedRequest: CustomTestStringConvertible, Sendable {
    var name: String
    var status: Int
    var code: String
    var make: @Sendable (_ adminSecret: String) -> [UInt8]

    var testDescription: String { name }

    /// The request's bytes, authenticated as `adminSecret` where it needs a token.
    func bytes(adminSecret: String) -> [UInt8] { make(adminSecret) }

    static let all: [MalformedRequest] = [
        MalformedRequest(name: "two Content-Length fields", status: 400, code: "malformed-http") { secret in
            Array(("POST /v1/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(secret)\r\nContent-Type: application/json\r\n"
                   + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}").utf8)
        },
        MalformedRequest(name: "bare LF line endings", status: 400, code: "malformed-http") { _ in
            Array("GET /health HTTP/1.1\nHost: localhost\n\n".utf8)
        },
        MalformedRequest(name: "a 1 MB header field", status: 431, code: "header-too-large") { _ in
            Array(("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n").utf8)
        },
        MalformedRequest(name: "an unknown method", status: 501, code: "method-not-implemented") { _ in
            Array("FROBNICATE /health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        },
        MalformedRequest(name: "invalid chunked encoding", status: 400, code: "malformed-http") { secret in
            Array(("POST /v1/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(secret)\r\nContent-Type: application/json\r\n"
                   + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n").utf8)
        },
    ]
}

/// Runs blocking socket work on a thread of its own, off Swift's cooperative pool (which the
/// server's request handling shares).
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A blocking TCP connection to 127.0.0.1.
final class RawConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw FixtureError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    /// Sends `bytes`, stopping quietly when the server has closed the connection.
    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads until the server closes the connection or `timeout` passes; `closed` tells which.
    func readUntilClosed(timeout: Duration) -> (data: Data, closed: Bool) {
        var data = Data()
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return (data, false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return (data, false) }
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n == 0 || errno == ECONNRESET {
                return (data, true)
            } else if errno != EINTR && errno != EAGAIN {
                return (data, true)
            }
        }
    }

    func close() {
        Glibc.close(fd)
    }
}

/// One HTTP/1.1 response read off a raw connection.
struct RawResponse {
    var status: Int
    /// Field names lowercased.
    var headers: [String: String]
    var body: Data
    var text: String

    init?(_ data: Data) {
        text = String(decoding: data, as: UTF8.self)
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.dropFirst(9).prefix(3)) else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = Data(data[split.upperBound...])
    }

    /// The `error` object of a JSON error body.
    var jsonError: [String: Any]? {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any]
    }
}

/// Log lines collected by ``CollectingLogHandler``.
final class CollectedLogs: Sendable {
    struct Entry: Sendable, CustomStringConvertible {
        var level: Logger.Level
        var message: String
        var description: String { "\(level) \(message)" }
    }
    let stored = Mutex<[Entry]>([])
    var entries: [Entry] { stored.withLock { $0 } }
}

/// Keeps every line at info level and above.
struct CollectingLogHandler: LogHandler {
    let sink: CollectedLogs
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        sink.stored.withLock { $0.append(.init(level: level, message: "\(message) \(metadata ?? [:])")) }
    }
}
