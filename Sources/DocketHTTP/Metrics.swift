import CoreMetrics
import Foundation
import HTTPTypes
import Metrics
import Prometheus
import Synchronization

/// Docket's metrics, through swift-metrics into one Prometheus registry (not the global
/// `MetricsSystem`, so several servers, e.g. in tests, keep separate figures).
///
/// - `docket_http_requests_total{route,method,status}`: requests answered; status 499 counts
///   requests whose client closed the connection before sending the whole body.
/// - `docket_http_protocol_errors_total{status,code}`: requests refused before reaching a
///   route (malformed HTTP, header or read timeout).
/// - `docket_http_request_duration_seconds{route,method}`: latency histogram.
/// - `docket_append_batch_events`, `docket_append_batch_appends`: group-commit batch sizes.
/// - `docket_log_head_position`, `docket_projection_lag_events`: set at each scrape.
public final class DocketMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let batchEvents: Recorder
    let batchAppends: Recorder
    /// The request counters and timers already made, by route, method and status: making
    /// one through the factory formats labels and looks the metric up in the registry under
    /// its lock, a sizeable share of a cheap request.
    let requestMetrics = Mutex<[RequestKey: RequestMetrics]>([:])

    struct RequestKey: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: Int
    }

    struct RequestMetrics: Sendable {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// Creates the metrics with a registry of their own.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let sizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
        factory.valueHistogramBuckets["docket_append_batch_events"] = sizes
        factory.valueHistogramBuckets["docket_append_batch_appends"] = sizes
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.registry = registry
        self.factory = factory
        self.batchEvents = Recorder(label: "docket_append_batch_events", aggregate: true, factory: factory)
        self.batchAppends = Recorder(label: "docket_append_batch_appends", aggregate: true, factory: factory)
    }

    /// Records one answered request.
    func requestFinished(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let metrics = requestMetrics.withLock { $0[key] } ?? makeRequestMetrics(key)
        metrics.count.increment()
        let nanos = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        metrics.duration.recordNanoseconds(nanos)
    }

    private func makeRequestMetrics(_ key: RequestKey) -> RequestMetrics {
        let made = RequestMetrics(
            count: CoreMetrics.Counter(label: "docket_http_requests_total",
                           dimensions: [("route", key.route), ("method", key.method.rawValue), ("status", String(key.status))],
                                       factory: factory),
            duration: CoreMetrics.Timer(label: "docket_http_request_duration_seconds",
                                        dimensions: [("route", key.route), ("method", key.method.rawValue)], factory: factory))
        return requestMetrics.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = made
            return made
        }
    }

    /// Records one request refused by the connection guard (malformed HTTP, a timeout).
    func connectionRefused(status: Int, code: String) {
        CoreMetrics.Counter(label: "docket_http_protocol_errors_total", dimensions: [("status", String(status)), ("code", code)],
                            factory: factory).increment()
    }

    /// Records one committed group-commit batch (hook for `EventLog.Configuration.onBatchCommitted`).
    public func batchCommitted(appends: Int, events: Int) {
        batchAppends.record(appends)
        batchEvents.record(events)
    }

    /// Sets the gauges read at scrape time.
    func observe(head: UInt64, projectionLag: UInt64?) {
        Gauge(label: "docket_log_head_position", factory: factory).record(Double(head))
        if let projectionLag {
            Gauge(label: "docket_projection_lag_events", factory: factory).record(Double(projectionLag))
        }
    }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
