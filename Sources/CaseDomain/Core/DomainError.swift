/// A refused command (DESIGN.md rule 6): which rule refused it, the status the stream
/// was in, what would have been allowed, and a message a person can act on.
/// A decider that throws this emits nothing.
public struct DomainError: Error, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The DOMAIN.md rule that refused the command, e.g. `"R2.10"`.
    public var rule: String
    /// The stream's status when the command arrived, e.g. `"solution-proposed"`.
    public var status: String?
    /// The command types that would have been accepted (R2.10); may be empty.
    public var allowed: [String]
    /// A human message saying what was wrong and what would be right.
    public var message: String

    /// Creates an error.
    public init(rule: String, status: String? = nil, allowed: [String] = [], message: String) {
        self.rule = rule
        self.status = status
        self.allowed = allowed
        self.message = message
    }

    /// `"<rule>: <message>"`.
    public var description: String { "\(rule): \(message)" }
}
