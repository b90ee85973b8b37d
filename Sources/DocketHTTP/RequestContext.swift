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
    func require(_ kinds: CallerKinds, doing what: String) throws(APIError) -> Caller {
        let caller = try requireCaller()
        guard kinds.contains(CallerKinds(caller.kind)) else {
            let allowed = CallerKind.allCases.filter { kinds.contains(CallerKinds($0)) }.map(\.rawValue).joined(separator: ", ")
            throw APIError.forbidden("a \(caller.kind.rawValue) may not \(what) (R1); allowed: \(allowed)")
        }
        return caller
    }

    /// The server's logger with this request's `request_id` and, once authenticated, its
    /// `principal`, for the lines a route logs. The metadata is added here, when a line is
    /// about to be logged, not to every request's logger (which cost a copy of the logger's
    /// storage and handler per key and request).
    var requestLogger: Logger {
        var logger = logger
        logger[metadataKey: "request_id"] = .string(requestID)
        if let caller { logger[metadataKey: "principal"] = .string(caller.id) }
        return logger
    }
}

/// A set of caller kinds, for the routes' access checks: a bit mask, so checking one needs
/// no hashing and an array literal of kinds makes no `Set` per request.
struct CallerKinds: OptionSet, Sendable {
    let rawValue: UInt8

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The set holding only `kind`.
    init(_ kind: CallerKind) {
        switch kind {
        case .contact: self = .contact
        case .staff: self = .staff
        case .auditor: self = .auditor
        case .reportingJob: self = .reportingJob
        case .admin: self = .admin
        }
    }

    static let contact = CallerKinds(rawValue: 1 << 0)
    static let staff = CallerKinds(rawValue: 1 << 1)
    static let auditor = CallerKinds(rawValue: 1 << 2)
    static let reportingJob = CallerKinds(rawValue: 1 << 3)
    static let admin = CallerKinds(rawValue: 1 << 4)
}

/// The largest request body accepted: 1 MB.
public let maxBodyBytes = 1 << 20
