import Foundation

/// What a contact may see of the events of a stream (R2.14, DESIGN.md rule 7): the one
/// place that decides it. Every route that shows events to a contact (a case's history,
/// and whatever renders a replay or an export for a contact) filters through
/// ``contactMaySee(type:payload:)``.
///
/// Hidden from contacts:
/// - `comment-added` with `"visibility": "internal"`: internal comments are for staff only;
/// - `notification-queued`: the outbox, whose recipients name staff, teams and other
///   contacts' addresses; the contact sees the update a notification is about, not the
///   outbox entry.
///
/// An event a contact may not see is left out whole (never shown redacted), so versions of
/// a stream seen by a contact can have gaps.
public enum ContactView {
    /// The event types a contact never sees, whatever their payload.
    public static let hiddenTypes: Set<String> = [NotificationQueued.type]

    /// Whether a contact may see the event of `type` whose payload is `payload` (JSON).
    /// A payload that does not decode is not shown (a contact sees only what is known to be theirs).
    public static func contactMaySee(type: String, payload: Data) -> Bool {
        if hiddenTypes.contains(type) { return false }
        guard type == CommentAdded.type else { return true }
        guard let comment = try? MessageCoding.decoder().decode(CommentAdded.self, from: payload) else { return false }
        return comment.visibility == .public
    }
}
