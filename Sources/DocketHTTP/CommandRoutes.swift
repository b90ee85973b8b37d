import CaseDomain
import DocketJSON
import CommandHandling
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/commands`: decode the envelope, let the domain decide, append, answer with
/// the appended events, the stream's version and the `Docket-Position` to read them back.
struct CommandRoutes {
    let handler: CommandHandler

    /// The response to an accepted (or repeated) command.
    struct Accepted: Encodable {
        var commandId: String
        var streamId: String
        var events: [Event]
        /// The stream's version after the command; null when the stream has no events.
        var version: Nullable<UInt64>
        var position: UInt64
        var duplicate: Bool

        struct Event: Encodable {
            var id: String
            var type: String
            var position: UInt64
            var version: UInt64
        }
    }

    func add(to group: RouterGroup<DocketRequestContext>) {
        group.post("commands") { request, context in
            let caller = try context.require([.contact, .staff], doing: "send commands")
            guard let actor = caller.principal else {
                throw APIError.forbidden("this token's principal cannot act on the domain")
            }
            let body = try await readJSONBody(request)
            let outcome: CommandOutcome
            do throws(CommandError) {
                let envelope = try CommandEnvelope.parse(json: body)
                guard DomainCommand.messageTypes.contains(where: { $0.type == envelope.type }) else {
                    throw CommandError(.malformed, "unknown command type \(envelope.type); the types are those of schemas/commands", path: "$.type")
                }
                if context.logger.logLevel <= .debug {
                    context.requestLogger.debug("command", metadata: ["type": .string(envelope.type), "stream": .string(envelope.streamId)])
                }
                outcome = try await handler.handle(envelope, actor: actor, at: Date())
            } catch {
                throw Self.apiError(error)
            }
            return jsonResponse(bytes: Self.acceptedJSON(outcome), headers: [.docketPosition: String(outcome.position)])
        }
    }

    /// The ``Accepted`` JSON of `outcome`, written directly: the bytes `jsonResponse` makes of
    /// it (keys sorted), without a `JSONEncoder` per command.
    static func acceptedJSON(_ outcome: CommandOutcome) -> [UInt8] {
        var json = JSONWriter(capacity: 160 + 120 * outcome.events.count + outcome.streamId.utf8.count)
        json.append("{")
        json.key("commandId")
        json.writeUUID(outcome.commandId)
        json.append(",")
        json.key("duplicate")
        json.writeBool(outcome.duplicate)
        json.append(",")
        json.key("events")
        json.append("[")
        for (index, event) in outcome.events.enumerated() {
            if index > 0 { json.append(",") }
            json.append("{")
            json.key("id")
            json.writeUUID(event.id)
            json.append(",")
            json.key("position")
            json.writeUnsigned(event.position)
            json.append(",")
            json.key("type")
            json.writeString(event.type)
            json.append(",")
            json.key("version")
            json.writeUnsigned(event.version)
            json.append("}")
        }
        json.append("],")
        json.key("position")
        json.writeUnsigned(outcome.position)
        json.append(",")
        json.key("streamId")
        json.writeString(outcome.streamId)
        json.append(",")
        json.key("version")
        if let version = outcome.streamVersion { json.writeUnsigned(version) } else { json.append("null") }
        json.append("}")
        return json.out
    }

    /// Maps a refused command to its status: 400 malformed (with the JSON path), 403, 404
    /// (unknown stream or another organisation's, R1.9), 409 (with the current version),
    /// 422 (with the rule and the allowed commands), 503 storage.
    static func apiError(_ error: CommandError) -> APIError {
        var details: [String: JSONValue] = [:]
        if let path = error.path { details["path"] = .string(path) }
        if let version = error.currentVersion { details["currentVersion"] = .int(Int64(clamping: version)) }
        if let domain = error.domain {
            details["rule"] = .string(domain.rule)
            if let status = domain.status { details["status"] = .string(status) }
            details["allowed"] = .array(domain.allowed.map(JSONValue.string))
        }
        switch error.code {
        case .malformed: return APIError(.badRequest, code: "bad-request", error.message, details: details)
        case .forbidden: return APIError(.forbidden, code: "forbidden", error.message, details: details)
        case .notFound:
            // Never say whether the stream exists (R1.9): no rule, status or allowed commands.
            return APIError(.notFound, code: "not-found", error.message)
        case .conflict:
            if error.currentVersion == nil { details["currentVersion"] = .null }
            if error.message.contains("already used") {
                // The handler names the stream the id was first used on: not for other principals' eyes (R1.9).
                return APIError(.conflict, code: "conflict", "this commandId was already used for another command; use a new commandId for a new command",
                                details: details)
            }
            return APIError(.conflict, code: "conflict", error.message, details: details)
        case .refused:
            if details["allowed"] == nil { details["allowed"] = .array([]) }
            return APIError(.unprocessableContent, code: "refused", error.message, details: details)
        case .storage:
            return APIError(.serviceUnavailable, code: "storage", "the event log could not be written: \(error.message)",
                            headers: [.retryAfter: "1"])
        }
    }
}
