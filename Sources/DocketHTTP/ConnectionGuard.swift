import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// How long a connection may take over each part of an HTTP/1 exchange, and how large a
/// request head may be (``ServerConfiguration`` carries them; `docket serve` sets them).
public struct ConnectionLimits: Sendable, Hashable {
    /// How long the head of a request (request line and header fields) may take to arrive,
    /// counted from its first byte. Then the server answers 408 `request-timeout` and closes
    /// the connection. Default 10 s.
    public var headerTimeout: Duration
    /// The longest pause while a request body arrives. Then the server answers 408
    /// `request-timeout` (when its response has not started yet) and closes the connection.
    /// Default 30 s.
    public var readTimeout: Duration
    /// How long an open connection may wait for the first byte of its next request (or of its
    /// first one). Then the server closes it without an answer. Default 60 s.
    public var idleTimeout: Duration

    /// Creates limits (defaults: head 10 s, body pauses 30 s, idle keep-alive 60 s).
    public init(headerTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60)) {
        self.headerTimeout = headerTimeout
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
    }
}

/// The largest request head accepted: 64 KiB for one field and for all fields together.
let maxHeaderBytes = 64 * 1024
/// The most header fields a request may have.
let maxHeaderFieldCount = 200

/// Thrown into the request body of a request whose body paused for longer than the read
/// timeout (the connection is closed).
struct RequestBodyTimedOut: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "the request body paused for more than \(seconds(timeout)) s" }
}

/// The HTTP/1 connection's own guard, one per connection, between NIO's HTTP codec and
/// Hummingbird's request handling:
///
/// - It answers a request that NIO cannot parse (two `Content-Length` fields, a bare LF line
///   ending, a head over 64 KiB, an unknown method, a broken chunked body, …) with the one
///   JSON error shape (``APIError``), `Connection: close`, and closes the connection.
///   Without it Hummingbird answers such a request with an empty 400.
/// - It enforces ``ConnectionLimits``: a request head that does not arrive within the header
///   timeout, or a body that pauses longer than the read timeout, is answered 408 and the
///   connection closed; a connection idle longer than the idle timeout is closed.
///
/// Every refusal is logged at info level and counted in
/// `docket_http_protocol_errors_total{status,code}`. The handler runs on the connection's
/// event loop only.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limits: ConnectionLimits
    let metrics: DocketMetrics
    let logger: Logger

    /// What the connection is waiting for.
    enum Phase {
        /// The first byte of a request, since the instant given.
        case idle(since: NIODeadline)
        /// The rest of a request head whose first bytes came at the instant given.
        case head(since: NIODeadline)
        /// More of a request body; bytes last came at the instant given.
        case body(lastRead: NIODeadline)
        /// The server's answer: no timeout applies.
        case answering
        /// Nothing: the connection was refused and is closing.
        case closed
    }
    var phase: Phase
    /// Requests passed on whose response has not ended.
    var unanswered = 0
    /// Whether a response head has been written and its end not yet.
    var responseOpen = false
    /// Whether a request part came in during the current read cycle.
    var partsThisRead = false
    /// The pending timeout check and when it runs.
    var timer: Scheduled<Void>?
    var timerDeadline: NIODeadline?

    init(limits: ConnectionLimits, metrics: DocketMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        self.phase = .idle(since: .now())
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        phase = .idle(since: .now())
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        phase = .idle(since: .now())
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        phase = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = phase { return }  // refused: whatever follows is dropped
        partsThisRead = true
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            phase = .body(lastRead: .now())
            arm(context)
        case .body:
            if case .body = phase { phase = .body(lastRead: .now()) }
        case .end:
            // Waiting for the answer, unless the route answered before the body ended.
            if unanswered > 0 {
                phase = .answering
            } else {
                phase = .idle(since: .now())
                arm(context)
            }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes came in that made no request part: the beginning of a request head (or of a
        // body too small to decode yet, which counts as reading the body).
        if !partsThisRead {
            switch phase {
            case .idle where unanswered == 0:
                phase = .head(since: .now())
                arm(context)
            case .body:
                phase = .body(lastRead: .now())
            default:
                break
            }
        }
        partsThisRead = false
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind == .informational:
            break
        case .head:
            responseOpen = true
        case .body:
            break
        case .end:
            responseOpen = false
            unanswered = max(0, unanswered - 1)
            if unanswered == 0, case .answering = phase {
                phase = .idle(since: .now())
                arm(context)
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let requestOpen: Bool
        switch phase {
        case .closed:
            return  // already refused; NIO reports the bytes that came after, or the close
        case .body:
            requestOpen = true
        default:
            requestOpen = false
        }
        guard let refusal = Self.refusal(for: error) else {
            // Not a protocol error (a reset connection, …): Hummingbird sees it as the end of the
            // stream; a route reading the body records a client abort.
            context.fireErrorCaught(error)
            return
        }
        guard let apiError = refusal else {
            // The client closed the connection in the middle of a request: nobody to answer.
            logger.debug("connection closed by the client mid-request", metadata: ["error": "\(error)"])
            phase = .closed
            cancelTimer()
            if requestOpen { context.fireErrorCaught(error) }
            return
        }
        // A route reading the body sees the failure (and answers nobody: the connection is closed).
        refuse(context, apiError, cause: "\(error)", propagating: requestOpen ? error : nil)
    }

    // MARK: Timeouts

    /// The instant the current phase times out, if it can.
    var deadline: NIODeadline? {
        switch phase {
        case .idle(let since): since + TimeAmount(limits.idleTimeout)
        case .head(let since): since + TimeAmount(limits.headerTimeout)
        case .body(let lastRead): lastRead + TimeAmount(limits.readTimeout)
        case .answering, .closed: nil
        }
    }

    /// Schedules a check at the current phase's deadline, unless one is due no later.
    func arm(_ context: ChannelHandlerContext) {
        guard let deadline else { return }
        if let scheduled = timerDeadline, scheduled <= deadline, timer != nil { return }
        cancelTimer()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = nil
            check(context)
        }
    }

    func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    /// Runs when a timer fires: acts on a deadline that has passed, else waits for it.
    func check(_ context: ChannelHandlerContext) {
        guard let deadline else { return }
        guard NIODeadline.now() >= deadline else { return arm(context) }
        switch phase {
        case .idle:
            logger.debug("closing an idle connection", metadata: ["idle_timeout_s": "\(seconds(limits.idleTimeout))"])
            phase = .closed
            context.close(promise: nil)
        case .head:
            refuse(context, APIError(.requestTimeout, code: "request-timeout",
                                     "the request head did not arrive within \(seconds(limits.headerTimeout)) s; send the request line and all header fields at once"),
                   cause: "header timeout")
        case .body:
            refuse(context, APIError(.requestTimeout, code: "request-timeout",
                                     "the request body paused for more than \(seconds(limits.readTimeout)) s; send the whole body without long pauses"),
                   cause: "read timeout", propagating: RequestBodyTimedOut(timeout: limits.readTimeout))
        case .answering, .closed:
            break
        }
    }

    // MARK: Refusing

    /// Answers `error` (when no other response is under way or queued before it), counts and
    /// logs it, passes `propagating` on to the request whose body is being read (before the
    /// close, so that its body ends in that error rather than looking complete), and closes
    /// the connection.
    func refuse(_ context: ChannelHandlerContext, _ error: APIError, cause: String, propagating: (any Error)? = nil) {
        let requestOpen: Bool = if case .body = phase { true } else { false }
        phase = .closed
        cancelTimer()
        metrics.connectionRefused(status: error.status.code, code: error.code)
        let requestID = RequestIDs.next()
        logger.info("request refused", metadata: ["request_id": .string(requestID), "status": "\(error.status.code)",
                                                  "code": .string(error.code), "cause": .string(cause)])
        // Only when the answer is next in line: not after a response that has begun, nor before
        // one still owed to an earlier, pipelined request.
        if !responseOpen && unanswered == (requestOpen ? 1 : 0) {
            let body = ByteBuffer(bytes: error.encodedBody)
            var fields = error.headers
            fields[.contentType] = "application/json"
            fields[.contentLength] = String(body.readableBytes)
            fields[.connection] = "close"
            fields[.requestID] = requestID
            context.write(wrapOutboundOut(.head(HTTPResponse(status: error.status, headerFields: fields))), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        if let propagating { context.fireErrorCaught(propagating) }
        context.close(promise: nil)
    }

    /// What a failure reported by the HTTP codec calls for: `nil` when it is no protocol
    /// error; `.some(nil)` when the client closed the connection mid-request (nobody to
    /// answer); else the error to answer.
    static func refusal(for error: any Error) -> APIError?? {
        switch error {
        case let parser as HTTPParserError:
            if case .invalidEOFState = parser { return .some(nil) }
            return .some(malformedRequest(parser))
        case let conversion as HTTP1TypeConversionError:
            if conversion == .invalidMethod { return .some(malformedRequest(.invalidMethod)) }
            return .some(APIError(.badRequest, code: "malformed-http",
                                  "the request line has no usable request target; send an origin-form path such as /v1/cases"))
        default:
            return nil
        }
    }
}

/// The error answering a request NIO's HTTP/1 parser refused (400 `malformed-http`, 431
/// `header-too-large`, 501 `method-not-implemented`); also what a route reading the body
/// records when the body turned out malformed.
func malformedRequest(_ error: HTTPParserError) -> APIError {
    let malformed = { (message: String) in APIError(.badRequest, code: "malformed-http", message) }
    switch error {
    case .headerOverflow:
        return APIError(.requestHeaderFieldsTooLarge, code: "header-too-large",
                        "the request head is too large: over \(maxHeaderBytes / 1024) KiB in one field or in all of them, or over \(maxHeaderFieldCount) fields; send less")
    case .invalidMethod:
        return APIError(.notImplemented, code: "method-not-implemented",
                        "the request method is not one this server implements; use GET, POST or DELETE (schemas/openapi.yaml lists each route's methods)")
    case .unexpectedContentLength:
        return malformed("the request has more than one Content-Length field, or Content-Length together with Transfer-Encoding; send exactly one Content-Length, or Transfer-Encoding: chunked alone")
    case .invalidContentLength:
        return malformed("the Content-Length field is not one decimal number; send the body's length in bytes")
    case .invalidChunkSize:
        return malformed("the chunked request body is malformed; each chunk starts with its size in hexadecimal and CR LF, and a chunk of size 0 ends the body")
    case .lfExpected, .strictModeAssertion:
        return malformed("a line of the request is not terminated by CR LF; end the request line and every header field with \\r\\n")
    case .invalidHeaderToken, .invalidCharactersUsed:
        return malformed("a header field has a character HTTP does not allow, or a line does not end in CR LF; send field names as tokens, values as visible ASCII, every line ended by \\r\\n")
    case .invalidURL:
        return malformed("the request target is not a valid path; send an origin-form path such as /v1/cases?limit=10")
    case .invalidVersion:
        return malformed("the HTTP version is not supported; send HTTP/1.1")
    case .unknown:
        // llhttp's errors without a case of their own: a missing CR before LF, an unsupported
        // Transfer-Encoding, …
        return malformed("the request is not valid HTTP/1.1: end every line of the head with \\r\\n, and send Transfer-Encoding only as chunked")
    default:
        return malformed("the request is not valid HTTP/1.1 (\(error.debugDescription)); send a request as RFC 9112 describes")
    }
}

/// `duration` in seconds, as short text (`10`, `0.2`).
func seconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return value == value.rounded() ? String(Int64(value)) : String(value)
}
