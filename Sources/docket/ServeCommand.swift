import ArgumentParser
import CaseDomain
import CommandHandling
import DocketHTTP
import EventLog
import Foundation
import Logging
import Projections

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
            Logs go to stderr (level: $DOCKET_LOG_LEVEL, default info). See schemas/openapi.yaml.
            """)

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 8080

    @Option(help: "Requests per second each principal may sustain (0 turns rate limiting off).")
    var rateLimit: Double = 2_000

    @Option(help: "Requests a principal may send in one burst.")
    var rateBurst: Double = 4_000

    @OptionGroup var data: DataDirOptions

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
                                             rateLimit: .init(ratePerSecond: rateLimit, burst: rateBurst))
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
