import Logging

/// Wraps the server's log handler so that per-request metadata (Hummingbird's
/// `hb.request.id`, Docket's `request_id` and `principal`) costs a dictionary insert when set
/// and is merged only into lines that are actually logged.
///
/// `StreamLogHandler` renders its whole metadata to text on every metadata change, which
/// made the three changes per request a noticeable share of a cheap query. This handler
/// keeps its own metadata beside the wrapped handler's (whose rendering is then done once)
/// and passes it with each event; a key given at the call site wins, as with any handler.
struct RequestLogHandler: LogHandler {
    /// The wrapped handler, behind one reference: this struct (a reference and a dictionary)
    /// then fits in an existential's inline buffer, and the copy Hummingbird makes of the
    /// logger for each request copies no boxed handler.
    final class Wrapped: Sendable {
        let handler: any LogHandler
        init(_ handler: any LogHandler) { self.handler = handler }
    }
    private var box: Wrapped
    /// The metadata set through this handler.
    var metadata: Logger.Metadata = [:]

    init(wrapping handler: any LogHandler) {
        self.box = Wrapped(handler)
    }

    /// The handler that writes the lines.
    var wrapped: any LogHandler {
        get { box.handler }
        set { box = Wrapped(newValue) }
    }

    var logLevel: Logger.Level {
        get { box.handler.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { box.handler.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] ?? box.handler[metadataKey: key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, given in given }
        }
        box.handler.log(event: event)
    }
}

extension Logger {
    /// This logger with its handler wrapped in a ``RequestLogHandler`` (once).
    func withCheapMetadata() -> Logger {
        if handler is RequestLogHandler { return self }
        var logger = self
        logger.handler = RequestLogHandler(wrapping: handler)
        return logger
    }
}
