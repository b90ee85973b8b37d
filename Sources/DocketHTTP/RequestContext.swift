import Hummingbird
import Logging

/// The request context of every Docket route: the request id (echoed in `X-Request-Id`
/// and in every log line) and, behind the auth middleware, the authenticated caller.
public struct DocketRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The request id: the client's `X-Request-Id` when it is sane, else a new one.
    public var requestID: String
    /// The caller a valid bearer token stands for; `nil` before authentication.
    public var caller: Caller?

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.caller = nil
    }

    /// Bodies over 1 MB are refused with 413.
    public var maxUploadSize: Int { maxBodyBytes }

    /// The caller, or 401 when the route was reached without authentication.
    func requireCaller() throws(APIError) -> Caller {
        guard let caller else { throw APIError.unauthorized("this route needs a bearer token: send Authorization: Bearer <token>") }
        return caller
    }

    /// The caller when its kind is one of `kinds`, else 403 naming who may.
    func require(_ kinds: Set<CallerKind>, doing what: String) throws(APIError) -> Caller {
        let caller = try requireCaller()
        guard kinds.contains(caller.kind) else {
            let allowed = CallerKind.allCases.filter(kinds.contains).map(\.rawValue).joined(separator: ", ")
            throw APIError.forbidden("a \(caller.kind.rawValue) may not \(what) (R1); allowed: \(allowed)")
        }
        return caller
    }
}

/// The largest request body accepted: 1 MB.
public let maxBodyBytes = 1 << 20
