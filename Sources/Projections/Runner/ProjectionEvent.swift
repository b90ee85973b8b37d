import EventLog
import Foundation

/// One event as a projection handler sees it: the envelope fields projections use and the
/// raw JSON payload. Built straight from the stored record (schemas/storage.md "Record")
/// without decoding fields no projection needs.
public struct ProjectionEvent: Sendable {
    /// Global log position.
    public var position: UInt64
    /// Version within its stream.
    public var version: UInt64
    /// Stream name, e.g. `case-1042`.
    public var stream: String
    /// Event type, e.g. `case-opened`.
    public var type: String
    /// Schema version of the payload.
    public var schemaVersion: Int
    /// When the log recorded it, microseconds since the epoch (UTC).
    public var recordedAtMicros: Int64
    /// Who caused it (principal id), possibly empty.
    public var actor: String
    /// JSON payload bytes.
    public var payload: Data
    /// The payload as the projection's ``Projection/predecode(_:)`` decoded it ahead of the
    /// handler (rebuilds decode on another thread), or `nil`: then the handler decodes.
    public var decoded: (any Sendable)?

    /// Creates an event (tests; the runner builds them from stored records).
    public init(position: UInt64, version: UInt64, stream: String, type: String, schemaVersion: Int,
                recordedAtMicros: Int64, actor: String, payload: Data) {
        self.position = position
        self.version = version
        self.stream = stream
        self.type = type
        self.schemaVersion = schemaVersion
        self.recordedAtMicros = recordedAtMicros
        self.actor = actor
        self.payload = payload
    }
}

extension ProjectionEvent {
    /// The event a record of the log's scan holds (an owned copy of the fields projections use).
    init(_ record: borrowing RecordView) {
        self.init(position: record.position, version: record.version, stream: record.stream, type: record.type,
                  schemaVersion: Int(record.schemaVersion), recordedAtMicros: record.recordedAtMicros, actor: record.actor,
                  payload: Data(record.payload))
    }
}

extension ProjectionError {
    /// A record the log could not read, as the error that stops `projection` there.
    static func unreadable(_ projection: String, _ error: any Error, at position: UInt64? = nil) -> ProjectionError {
        if let error = error as? ProjectionError { return error }
        if let error = error as? EventLogError, error.code == .corrupt {
            let at = error.position ?? position
            return ProjectionError(.corruptRecord, projection: projection, position: at,
                                   "the record at log position \(at.map(String.init) ?? "?") is malformed (\(error.message)); run `docket log verify`")
        }
        return ProjectionError(.storage, projection: projection, position: position,
                               "cannot read the log\(position.map { " at \($0)" } ?? ""): \(error)")
    }
}
