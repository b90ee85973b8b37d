import Foundation

/// Any event of any aggregate: what the event log stores. Encode with ``encoded()``,
/// decode with ``decode(type:schemaVersion:payload:)``; both round-trip exactly.
public enum DomainEvent: Sendable, Hashable {
    /// A case event (`case-<id>`).
    case `case`(CaseEvent)
    /// An organisation event (`org-<id>`).
    case organisation(OrganisationEvent)
    /// An incident event (`OPI-<n>`).
    case incident(IncidentEvent)
    /// A feature-request event (`feature-<id>`).
    case featureRequest(FeatureRequestEvent)
    /// A policy or calendar version event (`policy-<name>`, `calendar-<name>`).
    case version(VersionEvent)

    /// Every event payload type, grouped by aggregate.
    public static let messageTypes: [any DomainMessage.Type] = CaseEvent.messageTypes + OrganisationEvent.messageTypes
        + IncidentEvent.messageTypes + FeatureRequestEvent.messageTypes + VersionEvent.messageTypes

    /// The payload.
    public var message: any DomainMessage {
        switch self {
        case .case(let e): e.message
        case .organisation(let e): e.message
        case .incident(let e): e.message
        case .featureRequest(let e): e.message
        case .version(let e): e.message
        }
    }

    /// Wraps any event payload.
    public init?(message: any DomainMessage) {
        if let e = CaseEvent(message: message) { self = .case(e) }
        else if let e = OrganisationEvent(message: message) { self = .organisation(e) }
        else if let e = IncidentEvent(message: message) { self = .incident(e) }
        else if let e = FeatureRequestEvent(message: message) { self = .featureRequest(e) }
        else if let e = VersionEvent(message: message) { self = .version(e) }
        else { return nil }
    }

    /// Type name.
    public var type: String { Swift.type(of: message).type }

    /// Encodes as type, schema version and JSON payload.
    public func encoded() throws(MessageCodingError) -> EncodedMessage { try MessageCoding.encode(message) }

    /// Decodes an event of any aggregate.
    public static func decode(type: String, schemaVersion: Int, payload: Data) throws(MessageCodingError) -> DomainEvent {
        let message = try MessageCoding.decode(type: type, schemaVersion: schemaVersion, payload: payload, among: messageTypes)
        guard let event = DomainEvent(message: message) else { throw MessageCodingError("\(type) is not an event") }
        return event
    }
}

/// Any command of any aggregate: what the HTTP layer accepts.
public enum DomainCommand: Sendable, Hashable {
    /// A case command.
    case `case`(CaseCommand)
    /// An organisation command.
    case organisation(OrganisationCommand)
    /// An incident command.
    case incident(IncidentCommand)
    /// A feature-request command.
    case featureRequest(FeatureRequestCommand)
    /// A policy or calendar version command.
    case version(VersionCommand)

    /// Every command payload type, grouped by aggregate.
    public static let messageTypes: [any DomainMessage.Type] = CaseCommand.messageTypes + OrganisationCommand.messageTypes
        + IncidentCommand.messageTypes + FeatureRequestCommand.messageTypes + VersionCommand.messageTypes

    /// The payload.
    public var message: any DomainMessage {
        switch self {
        case .case(let c): c.message
        case .organisation(let c): c.message
        case .incident(let c): c.message
        case .featureRequest(let c): c.message
        case .version(let c): c.message
        }
    }

    /// Wraps any command payload.
    public init?(message: any DomainMessage) {
        if let c = CaseCommand(message: message) { self = .case(c) }
        else if let c = OrganisationCommand(message: message) { self = .organisation(c) }
        else if let c = IncidentCommand(message: message) { self = .incident(c) }
        else if let c = FeatureRequestCommand(message: message) { self = .featureRequest(c) }
        else if let c = VersionCommand(message: message) { self = .version(c) }
        else { return nil }
    }

    /// Type name.
    public var type: String { Swift.type(of: message).type }

    /// Encodes as type, schema version and JSON payload.
    public func encoded() throws(MessageCodingError) -> EncodedMessage { try MessageCoding.encode(message) }

    /// Decodes a command of any aggregate.
    public static func decode(type: String, schemaVersion: Int, payload: Data) throws(MessageCodingError) -> DomainCommand {
        let message = try MessageCoding.decode(type: type, schemaVersion: schemaVersion, payload: payload, among: messageTypes)
        guard let command = DomainCommand(message: message) else { throw MessageCodingError("\(type) is not a command") }
        return command
    }
}
