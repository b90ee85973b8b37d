import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The one middleware of every route: assigns the request id, authenticates the bearer
/// token of routes under `/v1` (401 when missing, malformed, unknown or revoked) and applies
/// the per-principal rate limit (429 with `Retry-After`), turns every error into the one JSON
/// error shape, records metrics by route and status, and logs one line per request (request
/// id, principal id, route, status, duration; never the token).
///
/// Authentication is done here rather than in a middleware of the `/v1` group so that the
/// principal is known where the access line is written, without passing it back in a
/// header, and a request crosses one middleware, not two.
struct OperationsMiddleware: RouterMiddleware {
    typealias Context = DocketRequestContext
    let metrics: DocketMetrics
    let authenticator: Authenticator

    /// The first component of every path that needs a bearer token.
    static let authenticatedPrefix = "v1"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let start = ContinuousClock.now
        context.requestID = Self.requestID(from: request)
        // Hummingbird names an unmatched request's endpoint "NotFound"; routes start with "/".
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil }
        var response: Response
        do {
            if let route, Self.needsToken(route) {
                let caller = try authenticator.caller(of: request)
                context.caller = caller  // before the rate limit, so that a 429 is logged with its principal
                try authenticator.admit(caller)
            }
            response = try await next(request, context)
        } catch {
            let apiError = apiError(from: error, request: request, logger: context.requestLogger)
            response = jsonResponse(status: apiError.status, apiError.body, headers: apiError.headers)
        }
        response.headers[.requestID] = context.requestID
        let elapsed = ContinuousClock.now - start
        metrics.requestFinished(route: route ?? "unmatched", method: request.method, status: response.status.code, duration: elapsed)
        // A client that went away (499) is logged like any refused request: no server failure.
        let level: Logger.Level = response.status.code >= 500 ? .error : .info
        // The metadata is built only when the line is logged (the load test logs warnings only).
        if context.logger.logLevel <= level {
            let metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue), "route": .string(route ?? "unmatched"),
                "status": .stringConvertible(response.status.code),
                "duration_us": .stringConvertible(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000),
            ]
            context.requestLogger.log(level: level, "request", metadata: metadata)
        }
        return response
    }

    /// Whether the route pattern `route` (`/v1/log/head`) lies under ``authenticatedPrefix``.
    static func needsToken(_ route: String) -> Bool {
        route.utf8.starts(with: tokenRoutePrefix.utf8)
    }

    /// `/v1/`.
    static let tokenRoutePrefix = "/" + authenticatedPrefix + "/"

    /// The client's `X-Request-Id` when it is 1-64 characters of `[A-Za-z0-9._-]`, else a new UUID.
    static func requestID(from request: Request) -> String {
        if let given = request.headers[.requestID], (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) {
            return given
        }
        return RequestIDs.next()
    }
}

/// Request ids for requests without a usable `X-Request-Id`: UUID-shaped (version 4 and
/// variant bits set, lowercase), a random 64-bit prefix chosen at start and a 64-bit
/// counter. Unique within the process and, by the prefix, across restarts; cheaper than
/// `UUID()`, which on Linux opens `/dev/urandom` for each id.
enum RequestIDs {
    static let prefix = UInt64.random(in: .min ... .max)
    static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        let high = (prefix & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = (n & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000        // variant 10
        return String(unsafeUninitializedCapacity: 36) { buffer in
            // 8-4-4-4-12 hex digits: high gives the first 16, low the last 16.
            var i = 0
            func put(_ word: UInt64, _ nibble: Int) {
                let digit = UInt8(truncatingIfNeeded: (word >> UInt64(60 - 4 * nibble)) & 0xF)
                buffer[i] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") - 10 + digit
                i += 1
            }
            for nibble in 0..<16 {
                if nibble == 8 || nibble == 12 { buffer[i] = UInt8(ascii: "-"); i += 1 }
                put(high, nibble)
            }
            for nibble in 0..<16 {
                if nibble == 0 || nibble == 4 { buffer[i] = UInt8(ascii: "-"); i += 1 }
                put(low, nibble)
            }
            return i
        }
    }
}

/// Authenticates the bearer token of a request (401 when missing, malformed, unknown or
/// revoked) and applies the per-principal rate limit (429 with `Retry-After`).
struct Authenticator: Sendable {
    let tokens: TokenStore
    let limiter: RateLimiter

    /// The caller the request's bearer token stands for.
    func caller(of request: Request) throws -> Caller {
        // The field's own value: `headers[name]` joins every field of that name into a new string.
        var header: String?
        for field in request.headers where field.name == .authorization {
            guard header == nil else { throw APIError.unauthorized("send one Authorization header, not several") }
            header = field.value
        }
        guard let header else {
            throw APIError.unauthorized("missing Authorization header; send Authorization: Bearer <token> (docket token create makes one)")
        }
        guard let secret = Self.bearerSecret(header) else {
            throw APIError.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        guard let caller = try tokens.authenticate(secret: secret) else {
            throw APIError.unauthorized("the bearer token is unknown or revoked")
        }
        return caller
    }

    /// Takes one request from `caller`'s rate limit; 429 when it is used up.
    func admit(_ caller: Caller) throws(APIError) {
        if let wait = limiter.take(caller.id) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            var error = APIError(.tooManyRequests, code: "rate-limited",
                                 "too many requests from \(caller.id); retry after \(seconds) s",
                                 details: ["retryAfterSeconds": .int(Int64(seconds))])
            error.headers[.retryAfter] = String(seconds)
            throw error
        }
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, the token without surrounding
    /// spaces or tabs), or `nil` when the header has another form.
    static func bearerSecret(_ header: String) -> Substring? {
        guard let space = header.utf8.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let scheme = header.utf8[..<space]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var token = header.utf8[header.utf8.index(after: space)...]
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        while let first = token.first, blank(first) { token = token.dropFirst() }
        while let last = token.last, blank(last) { token = token.dropLast() }
        return token.isEmpty ? nil : Substring(token)
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    static let requestID = fieldName("X-Request-Id")
    /// `Docket-Position`: the log position a command reached; a query waits for it.
    static let docketPosition = fieldName("Docket-Position")
}

/// A header name known to be valid at compile time.
private func fieldName(_ name: String) -> HTTPField.Name {
    guard let field = HTTPField.Name(name) else { preconditionFailure("invalid HTTP field name \(name)") }
    return field
}
