import CaseDomain
import DocketJSON
import CommandHandling
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// Routes answered from the event log itself: the log head and a case's history.
struct LogRoutes {
    let dependencies: ServerDependencies
    let readYourWritesTimeout: Duration

    /// One recorded event as the API shows it.
    struct EventView: Encodable {
        var id: String
        var position: UInt64
        var version: UInt64
        var type: String
        var schemaVersion: UInt32
        var recordedAt: String
        var actor: String
        var payload: JSONValue

        init(_ event: RecordedEvent) {
            id = event.id.lowercasedString
            position = event.position
            version = event.version
            type = event.type
            schemaVersion = event.schemaVersion
            recordedAt = event.recordedAtISO8601
            actor = event.actor
            payload = (try? JSONValue.parse(event.payload, rejectingDuplicateKeys: false)) ?? .null
        }
    }

    struct History: Encodable {
        var caseId: String
        var stream: String
        /// The stream's current version.
        var version: UInt64
        var events: [EventView]
        /// The `from` of the next page, or null after the last.
        var next: Nullable<UInt64>
    }

    struct Head: Encodable {
        var position: UInt64
        var hash: String
    }

    func add(to group: RouterGroup<DocketRequestContext>) {
        group.get("log/head") { request, context in
            _ = try context.require([.staff, .auditor], doing: "read the log head")
            try await waitForReadPosition(request)
            let head = try dependencies.log.head()
            // {"hash": ..., "position": ...}, written directly (the hottest query).
            var json = JSONWriter(capacity: 112)
            json.append("{")
            json.key("hash")
            json.writeString(head.hash.hex)
            json.append(",")
            json.key("position")
            json.writeUnsigned(head.position)
            json.append("}")
            return jsonResponse(bytes: json.out)
        }
        group.get("cases/{id}/history") { request, context in
            let caller = try context.require([.contact, .staff, .auditor], doing: "read a case's history")
            let id = try caseID(context)
            let from = try queryInt(request, "from", default: 0, range: 0...UInt64(Int64.max))
            let limit = try queryInt(request, "limit", default: 100, range: 1...1000)
            try await waitForReadPosition(request)
            let stream = "case-\(id)"
            let log = dependencies.log
            // One access check against the opening event; a case the caller may not see is
            // answered exactly like a case that does not exist (R1.9).
            guard let opened = try log.readStream(stream, from: 0, limit: 1).first,
                  let streamHead = try log.streamHead(stream),
                  let scope = Self.scope(opened),
                  try ReadAccess(commands: dependencies.commands).mayView(caller, scope) else {
                throw APIError(.notFound, code: "case-not-found", "no case \(id) visible to you")
            }
            var events = try log.readStream(stream, from: from, limit: Int(limit))
            let last = events.last?.version
            let next = last.flatMap { $0 < streamHead.version ? $0 + 1 : nil }
            if caller.kind == .contact {
                // What a contact may see of each event is decided in one place (R2.14).
                events.removeAll { !ContactView.contactMaySee(type: $0.type, payload: $0.payload) }
            }
            return jsonResponse(History(caseId: id, stream: stream, version: streamHead.version,
                                        events: events.map(EventView.init), next: Nullable(next)))
        }
    }

    /// Whom the case that `opened` opened belongs to, for the one decision point; `nil` when
    /// the stream does not start with a `case-opened` event.
    static func scope(_ opened: RecordedEvent) -> StreamScope? {
        guard opened.type == CaseOpened.type,
              let payload = try? MessageCoding.decoder().decode(CaseOpened.self, from: opened.payload) else { return nil }
        return .case(organisation: payload.organisationID, reportedBy: payload.contactID)
    }

    /// Waits (bounded) until the read side has passed the request's `Docket-Position`.
    func waitForReadPosition(_ request: Request) async throws {
        guard let text = request.headers[.docketPosition] else { return }
        guard let position = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
            throw APIError.badRequest("Docket-Position must be a log position (a non-negative integer), got \(String(text.prefix(40)).debugDescription)", path: "Docket-Position")
        }
        try await awaitReadPosition(position, dependencies: dependencies, timeout: readYourWritesTimeout)
    }
}

/// Suspends until `dependencies.readPosition()` reaches `position`, polling every
/// millisecond. After `timeout`: 400 when even the log has not reached `position` (no
/// command returned it), else 503 `not-caught-up` (the read side lags).
func awaitReadPosition(_ position: UInt64, dependencies: ServerDependencies, timeout: Duration) async throws {
    let deadline = ContinuousClock.now + timeout
    while try dependencies.readPosition() < position {
        guard ContinuousClock.now < deadline else {
            let reached = (try? dependencies.readPosition()) ?? 0
            let head = try dependencies.log.head().position
            if head < position {
                throw APIError(.unprocessableContent, code: "position-beyond-head",
                               "Docket-Position \(position) is beyond the log's head \(head); send a position a command returned",
                               details: ["path": .string("Docket-Position")])
            }
            throw APIError(.serviceUnavailable, code: "not-caught-up",
                           "the read side is at position \(reached), not yet at \(position); retry shortly",
                           details: ["position": .int(Int64(reached))], headers: [.retryAfter: "1"])
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// The `{id}` path parameter of a case: 1-128 characters of `[A-Za-z0-9._:-]`, else 400.
func caseID(_ context: DocketRequestContext) throws -> String {
    // Hummingbird hands the segment over as sent: `%3A` is `:`.
    let raw = try context.parameters.require("id")
    let id = raw.contains("%") ? (raw.removingPercentEncoding ?? raw) : raw
    guard (1...128).contains(id.utf8.count),
          id.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 58 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
    else {
        throw APIError.badRequest("a case id is 1 to 128 characters of letters, digits and . _ : -", path: "id")
    }
    return id
}

/// An integer query parameter within `range`, or 400 naming it.
func queryInt(_ request: Request, _ name: String, default value: UInt64, range: ClosedRange<UInt64>) throws(APIError) -> UInt64 {
    guard let text = request.uri.queryParameters[Substring(name)] else { return value }
    guard let n = UInt64(text), range.contains(n) else {
        throw APIError.badRequest("query parameter \(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(String(text).debugDescription)", path: name)
    }
    return n
}
