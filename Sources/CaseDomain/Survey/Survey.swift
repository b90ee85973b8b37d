import Foundation

/// A satisfaction survey of one close of a case (R5).
public struct Survey: Codable, Sendable, Hashable {
    /// Survey id, `<caseID>-survey-<n>`.
    public var id: String
    /// The contact who opened the case (R5.1).
    public var contactID: String
    /// When it was sent.
    public var sentAt: Date
    /// The last instant it may be answered (R5.3).
    public var answerBy: Date
    /// Scores 1-5 once answered (R5.2).
    public var knowledge: Int?
    /// Communication score.
    public var communication: Int?
    /// Timeliness score.
    public var timeliness: Int?
    /// Optional comment.
    public var comment: String?
    /// When answered.
    public var answeredAt: Date?
    /// When it expired unanswered.
    public var expiredAt: Date?

    /// Whether the survey still awaits an answer.
    public var isOutstanding: Bool { answeredAt == nil && expiredAt == nil }
}
