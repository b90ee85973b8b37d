import EventLog
import Foundation

/// Why an audit operation (replay, export, backup) could not be done. The message says
/// what was wrong and, where it can, what would be right.
public struct AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The stream, case, incident or organisation does not exist.
        case notFound = "not-found"
        /// An argument is malformed or out of range.
        case invalidInput = "invalid-input"
        /// A stored event does not decode or breaks an invariant.
        case corrupt
        /// Storage failed (LMDB error, I/O).
        case storage
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong and what would be right.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Maps an event-log error (or anything else thrown while reading) to an audit error.
    static func wrapping(_ error: any Error) -> AuditError {
        if let e = error as? AuditError { return e }
        if let e = error as? EventLogError {
            switch e.code {
            case .corrupt: return AuditError(.corrupt, e.message)
            case .notFound: return AuditError(.notFound, e.message)
            case .invalidInput: return AuditError(.invalidInput, e.message)
            default: return AuditError(.storage, e.message)
            }
        }
        return AuditError(.storage, "\(error)")
    }
}
