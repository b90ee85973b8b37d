import ArgumentParser
import CaseDomain
import Catalog
import CommandHandling
import DocketHTTP
import EventLog
import Foundation
import Logging
import Projections
import Scheduling

/// `docket serve`: the HTTP API on the data directory.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API (commands, queries, tokens, /health, /ready, /metrics).",
        discussion: """
            On first start with an empty data directory it records the shipped policies and calendars \
            and creates an administrator token, printed once on stdout as {"adminToken": ..., "tokenId": ...}. \
            The policies and calendars in force are the shipped ones plus every version recorded in the log \
            (record-policy-version, record-calendar-version); a version recorded while it runs applies at once. \
            The projection runner and the deadline scheduler run inside it. \
            SIGTERM or SIGINT stops it gracefully: requests in flight are finished first. \
            A malformed request gets a JSON error and its connection is closed; so does a request whose \
            headers or body arrive too slowly (--header-timeout, --read-timeout), and an idle connection \
            is closed after --idle-timeout. \
            Logs go to stderr (level: $DOCKET_LOG_LEVEL, default info).
            """)

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 8080

    @Option(help: "Requests per second each principal may sustain (0 turns rate limiting off).")
    var rateLimit: Double = 2_000

    @Option(help: "Requests a principal may send in one burst.")
    var rateBurst: Double = 4_000

    @Option(help: "Seconds a client may take to send a request's line and headers, from their first byte; then the server answers 408 and closes the connection.")
    var headerTimeout: Double = 10

    @Option(help: "Longest pause, in seconds, while a request body arrives; then the server answers 408 and closes the connection.")
    var readTimeout: Double = 30

    @Option(help: "Seconds an open connection may wait for its next request before the server closes it.")
    var idleTimeout: Double = 60

    @OptionGroup var data: DataDirOptions

    func validate() throws {
        for (name, value) in [("--header-timeout", headerTimeout), ("--read-timeout", readTimeout), ("--idle-timeout", idleTimeout)] {
            guard value.isFinite, value > 0, value <= 86_400 else {
                throw ValidationError("\(name) \(value) must be a number of seconds above 0 and at most 86400")
            }
        }
    }

    func run() async throws {
        try await runReportingErrors {
            var logger = cliLogger
            logger.logLevel = ProcessInfo.processInfo.environment["DOCKET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            let metrics = DocketMetrics()
            var configuration = EventLog.Configuration()
            configuration.environment.maxMapSize = try data.resolvedMaxMapSize()
            configuration.onBatchCommitted = { appends, events in metrics.batchCommitted(appends: appends, events: events) }
            let log = try EventLog.open(directory: data.resolved, configuration: configuration, create: true, logger: logger)
            defer { log.close() }
            let tokens = try await TokenStore.open(log: log)
            let report = try await prepareDataDirectory(log: log, tokens: tokens, logger: logger)
            if let admin = report.adminToken {
                let line = #"{"adminToken":"\#(admin.secret)","tokenId":"\#(admin.record.id)"}"#
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
                printError("docket: created the administrator token above; it is shown only now (docket token create makes more)")
            }
            let server = ServerConfiguration(host: host, port: port,
                                             rateLimit: .init(ratePerSecond: rateLimit, burst: rateBurst),
                                             connectionLimits: ConnectionLimits(headerTimeout: .seconds(headerTimeout),
                                                                                readTimeout: .seconds(readTimeout),
                                                                                idleTimeout: .seconds(idleTimeout)))
            // The catalog in force: the shipped files plus every version recorded in the log
            // (R4.9), shared by the handler, the case projection and the scheduler.
            let catalog = LiveCatalog(try PolicyCatalog.inForce(base: PolicyCatalog.shipped(), log: log, logger: logger))
            let commands = CommandHandler(log: log, liveCatalog: catalog, logger: logger)
            let runner = try ProjectionRunner(log: log, projections: docketProjections(catalog), logger: logger)
            let scheduler = DeadlineScheduler(handler: commands, logger: logger)
            try await runServer(server, dependencies: ServerDependencies(log: log, tokens: tokens, commands: commands, metrics: metrics,
                                                                         runner: runner),
                                services: [BackgroundService("projections") { try await ProjectionPacing().run(runner, log: log) },
                                           BackgroundService("deadline scheduler") { try await scheduler.run() }],
                                logger: logger)
        }
    }
}
