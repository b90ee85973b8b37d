import CaseDomain
import DocketJSON
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1

/// An optional that encodes as JSON `null` when absent, where synthesized `Encodable`
/// would leave the key out (the OpenAPI document marks such fields required and nullable).
struct Nullable<Wrapped: Encodable & Sendable>: Encodable, Sendable {
    var value: Wrapped?
    init(_ value: Wrapped?) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// Every error the API returns, in one JSON shape:
/// `{"error": {"code": "...", "message": "...", ...details}}` (schemas/openapi.yaml `Error`).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable kebab-case code, e.g. `unauthorized`, `rate-limited`.
    public var code: String
    /// What was wrong and what would be right.
    public var message: String
    /// Extra fields of the error object (e.g. `rule`, `allowed`, `currentVersion`, `path`).
    public var details: [String: JSONValue]
    /// Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, _ message: String,
                details: [String: JSONValue] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// `"<status> <code>: <message>"`.
    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON body.
    public var body: [String: JSONValue] {
        var error = details
        error["code"] = .string(code)
        error["message"] = .string(message)
        return ["error": .object(error)]
    }

    /// The JSON body as bytes (sorted keys), as ``jsonResponse(status:_:headers:)`` writes it.
    public var encodedBody: Data {
        encodeJSONBody(body)
    }

    /// The response carrying this error.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(status: status, body, headers: headers)
    }

    // MARK: - The common errors

    static func badRequest(_ message: String, path: String? = nil) -> APIError {
        APIError(.badRequest, code: "bad-request", message, details: path.map { ["path": .string($0)] } ?? [:])
    }
    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message, headers: [.wwwAuthenticate: "Bearer realm=\"docket\""])
    }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not-found", message) }

    /// The status recorded for a request whose client closed the connection before its body
    /// arrived in full: 499, which no client ever receives (there is nobody to answer).
    public static let clientClosedRequest = HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")

    /// What a route records when the client went away mid-body: 499 `client-aborted`, logged
    /// at info level and counted apart from the server's failures.
    static let clientAborted = APIError(clientClosedRequest, code: "client-aborted",
                                        "the client closed the connection before the request body arrived in full; send the whole body and wait for the answer")

    /// What a route records when reading the request body failed with `error` (thrown by the
    /// body stream): the client going away (499), the body pausing past the read timeout
    /// (408), or a malformed body (400).
    static func bodyReadFailed(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as RequestBodyTimedOut:
            return APIError(.requestTimeout, code: "request-timeout",
                            "\(e.description); send the whole body without long pauses")
        case let e as HTTPParserError:
            if case .invalidEOFState = e { return clientAborted }
            return malformedRequest(e)
        default:
            // A reset or closed connection, or the connection's task cancelled: the client is gone.
            return clientAborted
        }
    }
}

/// A JSON response with sorted keys (stable bytes, easy to diff).
func jsonResponse<T: Encodable>(status: HTTPResponse.Status = .ok, _ value: T, headers: HTTPFields = [:]) -> Response {
    let data = encodeJSONBody(value)
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// `value` as response JSON: sorted keys, unescaped slashes, dates as
/// 2026-03-02T09:00:00.000Z (as in the events).
func encodeJSONBody<T: Encodable>(_ value: T) -> Data {
    // Encoding our own value types cannot fail; fall back to a fixed body just in case.
    (try? MessageCoding.encoder().encode(value)) ?? Data(#"{"error":{"code":"internal","message":"response encoding failed"}}"#.utf8)
}

/// Maps any error thrown below it to the one error shape; unknown errors become a 500
/// that says nothing about internals (the cause is logged with the request id).
func apiError(from error: any Error, request: Request? = nil, logger: Logger) -> APIError {
    switch error {
    case let e as APIError:
        return e
    case let e as HTTPParserError:
        // The request turned out malformed while a route read it (the connection guard has
        // answered it already and closed the connection).
        return APIError.bodyReadFailed(e)
    case let e as HTTPError:
        switch e.status {
        case .notFound:
            if let request, let allowed = RouteTable.methods(for: request.uri.path) {
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                return APIError(.methodNotAllowed, code: "method-not-allowed",
                                "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(list)",
                                details: ["allowed": .array(allowed.map { .string($0.rawValue) })], headers: [.allow: list])
            }
            return APIError(.notFound, code: "route-not-found", "no such route; see schemas/openapi.yaml for the routes this server offers")
        case .contentTooLarge:
            return bodyTooLarge
        case .methodNotAllowed:
            return APIError(.methodNotAllowed, code: "method-not-allowed", e.body ?? "this route does not take that method", headers: e.headers)
        default:
            return APIError(e.status, code: e.status.code < 500 ? "bad-request" : "internal", e.body ?? e.status.reasonPhrase, headers: e.headers)
        }
    default:
        logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        return APIError(.internalServerError, code: "internal", "the server failed to handle the request; the log has the cause under this request id")
    }
}

let bodyTooLarge = APIError(.contentTooLarge, code: "body-too-large", "the request body is over 1 MB; send at most 1048576 bytes")

/// Every route's path pattern and methods (as in schemas/openapi.yaml), to answer a known
/// path with an unknown method 405 and an `Allow` header instead of 404.
enum RouteTable {
    static let routes: [(pattern: [Substring], methods: [HTTPRequest.Method])] = [
        ("/health", [.get]), ("/ready", [.get]), ("/metrics", [.get]),
        ("/v1/commands", [.post]), ("/v1/log/head", [.get]), ("/v1/cases/*/history", [.get]),
        ("/v1/cases", [.get]), ("/v1/cases/*", [.get]), ("/v1/cases/*/flags", [.get]), ("/v1/cases/*/surveys", [.get]),
        ("/v1/incidents/*", [.get]), ("/v1/incidents/*/timeline", [.get]), ("/v1/reports/incidents", [.get]),
        ("/v1/reports/cases", [.get]), ("/v1/reports/surveys", [.get]), ("/v1/reports/sla", [.get]),
        ("/v1/tokens", [.get, .post]), ("/v1/tokens/*", [.delete]),
    ].map { (pattern: $0.0.split(separator: "/"), methods: $0.1) }

    /// The methods of the route matching `path`, or `nil` when no route matches.
    static func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.first { route in
            route.pattern.count == segments.count && zip(route.pattern, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }?.methods
    }
}

/// A JSON response whose body is `bytes`, already JSON.
func jsonResponse(status: HTTPResponse.Status = .ok, bytes: some Collection<UInt8>, headers: HTTPFields = [:]) -> Response {
    var fields = jsonContentType
    if !headers.isEmpty {
        fields = headers
        fields[.contentType] = "application/json"
    }
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// `Content-Type: application/json`, made once (setting a field validates its value).
private let jsonContentType: HTTPFields = [.contentType: "application/json"]
