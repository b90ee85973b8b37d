import CommandHandling
import EventLog
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Projections
import ServiceLifecycle

/// How the server runs.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// The per-principal rate limit.
    public var rateLimit: RateLimiter.Configuration
    /// How long a query carrying `Docket-Position` waits for the read side to pass it.
    public var readYourWritesTimeout: Duration
    /// The header, read and idle timeouts of each connection.
    public var connectionLimits: ConnectionLimits

    /// Creates a configuration (defaults: 127.0.0.1:8080, 2 000 requests/s per principal
    /// with bursts of 4 000, a 2 s read-your-writes wait, and the ``ConnectionLimits``
    /// defaults: a request head within 10 s, body pauses under 30 s, idle connections kept 60 s).
    public init(host: String = "127.0.0.1", port: Int = 8080, rateLimit: RateLimiter.Configuration = .init(),
                readYourWritesTimeout: Duration = .seconds(2), connectionLimits: ConnectionLimits = .init()) {
        self.host = host
        self.port = port
        self.rateLimit = rateLimit
        self.readYourWritesTimeout = readYourWritesTimeout
        self.connectionLimits = connectionLimits
    }
}

/// What the routes work on: the log (the LMDB environment), the token store, the metrics.
public struct ServerDependencies: Sendable {
    /// The event log.
    public var log: EventLog
    /// Bearer tokens.
    public var tokens: TokenStore
    /// Decides and appends commands.
    public var commands: CommandHandler
    /// Metrics rendered at `/metrics`.
    public var metrics: DocketMetrics
    /// The projections (case queries); `nil` serves only the routes answered from the log.
    public var runner: ProjectionRunner?
    /// The position the read side has reached (the projections' checkpoint); the log's
    /// head while no projection runner exists.
    public var readPosition: @Sendable () throws -> UInt64
    /// How far the projections trail the log, when a projection runner exists.
    public var projectionLag: (@Sendable () throws -> UInt64)?

    /// Creates the dependencies. The read side is the projections' lowest checkpoint when
    /// there is a runner, else the log itself; `readPosition` and `projectionLag` override.
    public init(log: EventLog, tokens: TokenStore, commands: CommandHandler, metrics: DocketMetrics,
                runner: ProjectionRunner? = nil,
                readPosition: (@Sendable () throws -> UInt64)? = nil, projectionLag: (@Sendable () throws -> UInt64)? = nil) {
        self.log = log
        self.tokens = tokens
        self.commands = commands
        self.metrics = metrics
        self.runner = runner
        if let runner {
            self.readPosition = readPosition ?? { try runner.statuses().map(\.checkpoint).min() ?? log.head().position }
            self.projectionLag = projectionLag ?? { try runner.statuses().map(\.lag).max() ?? 0 }
        } else {
            self.readPosition = readPosition ?? { try log.head().position }
            self.projectionLag = projectionLag
        }
    }
}

/// Builds the HTTP application: the router and the services that run beside the server
/// (projection runner, deadline scheduler, …), all in the application's `ServiceGroup`;
/// they shut down, after the server has finished its in-flight requests, in reverse order.
/// `onListening` receives the bound port once the server accepts connections.
public func buildApplication(_ configuration: ServerConfiguration, dependencies: ServerDependencies,
                             services: [any Service] = [], logger: Logger,
                             onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let limits = configuration.connectionLimits
    let metrics = dependencies.metrics
    let logger = logger.withCheapMetadata()
    // Hummingbird's HTTP/1 channel, with a guard per connection between NIO's codec and the
    // request handling: the JSON error shape for malformed HTTP, and the connection timeouts
    // (Hummingbird's own idle timeout stays off: the guard's phases replace it).
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ConnectionGuard(limits: limits, metrics: metrics, logger: logger)],
        idleTimeout: nil,
        httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes,
                                        maxHeaderFieldCount: maxHeaderFieldCount))
    return Application(
        router: buildRouter(configuration, dependencies: dependencies),
        server: .http1(configuration: http1),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Docket"),
        services: services,
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// Builds the router with every route of schemas/openapi.yaml.
public func buildRouter(_ configuration: ServerConfiguration, dependencies: ServerDependencies) -> Router<DocketRequestContext> {
    let router = Router(context: DocketRequestContext.self)
    // Routes under /v1 are authenticated by this middleware (OperationsMiddleware.authenticatedPrefix).
    router.add(middleware: OperationsMiddleware(
        metrics: dependencies.metrics,
        authenticator: Authenticator(tokens: dependencies.tokens, limiter: RateLimiter(configuration.rateLimit))))
    OperationsRoutes(dependencies: dependencies).add(to: router)
    let v1 = router.group(RouterPath(stringLiteral: OperationsMiddleware.authenticatedPrefix))
    TokenRoutes(tokens: dependencies.tokens).add(to: v1)
    CommandRoutes(handler: dependencies.commands).add(to: v1)
    LogRoutes(dependencies: dependencies, readYourWritesTimeout: configuration.readYourWritesTimeout).add(to: v1)
    if let runner = dependencies.runner {
        CaseRoutes(dependencies: dependencies, queries: CaseQueries(runner: runner),
                   readYourWritesTimeout: configuration.readYourWritesTimeout).add(to: v1)
        ReportRoutes(dependencies: dependencies, queries: CaseQueries(runner: runner),
                     readYourWritesTimeout: configuration.readYourWritesTimeout).add(to: v1)
        IncidentRoutes(dependencies: dependencies, queries: IncidentQueries(runner: runner),
                       readYourWritesTimeout: configuration.readYourWritesTimeout).add(to: v1)
    }
    return router
}

/// Runs the server in a `ServiceGroup` until SIGTERM or SIGINT, then shuts down
/// gracefully: the server stops accepting connections and finishes the requests in
/// flight (so an accepted command is answered after its durable commit), then the other
/// services stop. The caller closes the log afterwards.
public func runServer(_ configuration: ServerConfiguration, dependencies: ServerDependencies,
                      services: [any Service] = [], logger: Logger) async throws {
    let app = buildApplication(configuration, dependencies: dependencies, services: services, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Work that runs beside the server in its `ServiceGroup` (the projection runner, the
/// deadline scheduler) until graceful shutdown, which comes after the server has answered
/// its last request.
public struct BackgroundService: Service, CustomStringConvertible {
    /// What runs, for logs.
    public let description: String
    let body: @Sendable () async throws -> Void

    /// Wraps `body`, which must return when its task is cancelled.
    public init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.description = name
        self.body = body
    }

    /// Runs `body` until graceful shutdown cancels it.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await body() }
    }
}
