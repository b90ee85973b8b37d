import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// `/health`, `/ready` and `/metrics`: unauthenticated, for load balancers and Prometheus.
struct OperationsRoutes {
    let dependencies: ServerDependencies

    func add(to router: Router<DocketRequestContext>) {
        router.get("health") { _, _ in
            jsonResponse(bytes: #"{"status":"ok"}"#.utf8)
        }
        router.get("ready") { _, _ in try ready() }
        router.get("metrics") { _, _ in try metrics() }
    }

    struct Readiness: Encodable {
        var status: String
        var logHead: UInt64
        var readPosition: UInt64
        var projectionLag: UInt64?
    }

    /// 200 when the log answers and the read side has caught up with it; else 503.
    func ready() throws -> Response {
        let head: UInt64
        let read: UInt64
        let lag: UInt64?
        do {
            head = try dependencies.log.head().position
            read = try dependencies.readPosition()
            lag = try dependencies.projectionLag?()
        } catch {
            throw APIError(.serviceUnavailable, code: "not-ready", "the event log cannot be read: \(error)")
        }
        if let lag, lag > 0 {
            throw APIError(.serviceUnavailable, code: "not-ready", "projections trail the log by \(lag) events",
                           details: ["logHead": .int(Int64(head)), "projectionLag": .int(Int64(lag))])
        }
        return jsonResponse(Readiness(status: "ready", logHead: head, readPosition: read, projectionLag: lag))
    }

    /// The Prometheus text exposition.
    func metrics() throws -> Response {
        let head = (try? dependencies.log.head().position) ?? 0
        let lag = try? dependencies.projectionLag?()
        dependencies.metrics.observe(head: head, projectionLag: lag)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: dependencies.metrics.render())))
    }
}

/// `/v1/tokens`: administrators create, list and revoke bearer tokens (never the last valid
/// admin token: 409 `last-admin-token`).
struct TokenRoutes {
    let tokens: TokenStore

    /// `{"principal": {...}, "label": "..."}`; any other member, here or in the principal, is
    /// refused with its path (the schema says `additionalProperties: false`).
    struct CreateRequest: Decodable {
        var principal: Caller
        var label: String?

        enum CodingKeys: String, CodingKey { case principal, label }

        init(from decoder: any Decoder) throws {
            try Self.refuseUnknown(in: decoder, known: ["principal", "label"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            principal = try container.decode(Caller.self, forKey: .principal)
            label = try container.decodeIfPresent(String.self, forKey: .label)
            let nested = try container.superDecoder(forKey: .principal)
            try Self.refuseUnknown(in: nested, known: ["kind", "id", "organisationId", "access", "incidentReport", "staffRole"])
        }

        /// Throws a `DecodingError` naming the first member of the object at `decoder` that is not in `known`.
        static func refuseUnknown(in decoder: any Decoder, known: Set<String>) throws {
            let all = try decoder.container(keyedBy: AnyMemberKey.self)
            if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
                // A long name is not echoed: its length stands for it.
                let shown = unknown.utf8.count <= 64 ? unknown : "[a member name of \(unknown.utf8.count) bytes]"
                throw DecodingError.dataCorrupted(.init(
                    codingPath: all.codingPath + [AnyMemberKey(stringValue: shown)],
                    debugDescription: "is not a member of this object; the members are \(known.sorted().joined(separator: ", "))"))
            }
        }
    }

    /// Any member name, to list an object's members.
    struct AnyMemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    struct Created: Encodable {
        var token: TokenRecord
        var secret: String
    }
    struct Listed: Encodable { var tokens: [TokenRecord] }
    struct One: Encodable { var token: TokenRecord }

    func add(to group: RouterGroup<DocketRequestContext>) {
        group.post("tokens") { request, context in
            _ = try context.require([.admin], doing: "create tokens")
            let body = try decodeJSON(CreateRequest.self, from: try await readJSONBody(request))
            if let label = body.label, label.count > 500 {
                throw APIError.badRequest("$.label must be at most 500 characters", path: "$.label")
            }
            let principal: Caller
            do throws(CallerError) { principal = try body.principal.validated() } catch { throw APIError.badRequest(error.message, path: "$.principal") }
            let record: TokenRecord, secret: String
            do {
                (record, secret) = try await tokens.create(for: principal, label: body.label)
            } catch let error as TokenStoreError where error.code == .notOnContactList {
                throw APIError(.unprocessableContent, code: "not-on-contact-list", error.message, details: ["path": .string("$.principal")])
            }
            context.requestLogger.notice("token created", metadata: ["token_id": .string(record.id), "for": .string(principal.id)])
            return jsonResponse(status: .created, Created(token: record, secret: secret))
        }
        group.get("tokens") { _, context in
            _ = try context.require([.admin], doing: "list tokens")
            return jsonResponse(Listed(tokens: try tokens.list()))
        }
        group.delete("tokens/{id}") { _, context in
            _ = try context.require([.admin], doing: "revoke tokens")
            let id = try context.parameters.require("id")
            let revoked: TokenRecord?
            do {
                revoked = try await tokens.revoke(id: id)
            } catch let error as TokenStoreError {
                throw APIError(.conflict, code: error.code.rawValue, error.message)
            }
            guard let record = revoked else {
                throw APIError.notFound("no token \(id); GET /v1/tokens lists them")
            }
            context.requestLogger.notice("token revoked", metadata: ["token_id": .string(record.id)])
            return jsonResponse(One(token: record))
        }
    }
}
