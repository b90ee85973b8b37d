import Foundation
import LMDB

/// Why the event log refused or failed an operation. Every message says what was wrong
/// and, where it can, what would be right. A refused append writes nothing.
public struct EventLogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The stream's version is not the expected one.
        case wrongExpectedVersion = "wrong-expected-version"
        /// An event id is stored already, with different content.
        case duplicateEventId = "duplicate-event-id"
        /// Some events of an append are stored already and some are not.
        case partialDuplicate = "partial-duplicate"
        /// The append or its events are malformed (bad stream name, type, JSON ...).
        case invalidInput = "invalid-input"
        /// Storage failed (LMDB error, map full); nothing of the failed batch was written.
        case storage = "storage"
        /// A stored record does not decode or breaks an invariant.
        case corrupt = "corrupt"
        /// The data directory has no log.
        case notFound = "not-found"
        /// The log is closed.
        case closed = "closed"
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong and what would be right.
    public var message: String
    /// The stream concerned, when there is one.
    public var stream: String?
    /// The stream's current version (for ``Code/wrongExpectedVersion``; `nil` if no stream).
    public var currentVersion: UInt64?
    /// The position concerned (duplicates, corruption).
    public var position: UInt64?

    /// Creates an error.
    public init(_ code: Code, _ message: String, stream: String? = nil, currentVersion: UInt64? = nil,
                position: UInt64? = nil) {
        self.code = code
        self.message = message
        self.stream = stream
        self.currentVersion = currentVersion
        self.position = position
    }

    public var description: String { message }

    static func storage(_ error: any Error) -> EventLogError {
        if let e = error as? EventLogError { return e }
        if let e = error as? LMDBError {
            return EventLogError(.storage, "storage error: \(e.message) (\(e.operation), code \(e.code.rawValue)); nothing of this append was written")
        }
        return EventLogError(.storage, "storage error: \(error); nothing of this append was written")
    }
}
