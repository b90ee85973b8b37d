import CaseDomain
import EventLog
import Foundation
import LMDB

/// One entry of an incident's timeline (R6): an alert of one of the four kinds, the RCA, a
/// linked case, a maintenance window, the declaration, or a case-side link or conversion.
public struct TimelineEntry: Codable, Sendable, Hashable {
    /// Log position (entries are in this order).
    public var position: UInt64
    /// Event type, e.g. `alert-sent`, `rca-published`, `case-linked`, `incident-linked`.
    public var type: String
    /// Alert kind for `alert-sent` (`alert`, `alert-update`, `alert-resolved`, `after-the-fact-resolved`).
    public var kind: String?
    /// Alert message, RCA cause, maintenance description, or title.
    public var text: String?
    /// The case concerned, for links and conversions.
    public var caseID: String?
    /// Who.
    public var by: String
    /// When.
    public var at: Date
}

/// An incident as the incident report shows it (R6.6).
public struct IncidentRecord: Codable, Sendable, Hashable {
    /// The folded incident state.
    public var state: IncidentState
    /// The latest alert while unresolved (its kind, message and time); absent when resolved.
    public var currentAlert: TimelineEntry?
    /// `green` (resolved), `yellow` (third-party, current), `red` (own, current).
    public var colour: String { state.colour.rawValue }
}

/// Incident timelines (R6): per incident its folded state, the current unresolved alert,
/// and every entry in log order. Layout: schemas/storage.md "Projections".
public struct IncidentProjection: Projection {
    /// Touched incidents and their new timeline entries.
    public struct Batch {
        var incidents: [Int: IncidentRecord] = [:]
        var entries: [(Int, TimelineEntry)] = []
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
    }

    /// `incidents`.
    public let name = "incidents"

    /// The projection.
    public init() {}

    /// Incident events, plus the case events that link a case to an incident.
    public var handlers: [String: ProjectionHandler<Batch>] {
        let incident: ProjectionHandler<Batch> = { batch, event, table, txn in
            let decoded = try IncidentEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
            let number: Int
            if case .incidentDeclared(let e) = decoded {
                number = e.incidentNumber
            } else {
                guard event.stream.hasPrefix("OPI-"), let n = Int(event.stream.dropFirst(4)) else { return }
                number = n
            }
            var record = try Self.load(number, &batch, table, txn)
            IncidentDecider.evolve(&record.state, decoded)
            var entry = TimelineEntry(position: event.position, type: event.type, by: event.actor, at: Date(timeIntervalSince1970: 0))
            switch decoded {
            case .incidentDeclared(let e): entry.text = e.title; entry.by = e.by; entry.at = e.at
            case .alertSent(let e): entry.kind = e.kind.rawValue; entry.text = e.message; entry.by = e.by; entry.at = e.at
            case .rcaPublished(let e): entry.text = e.cause; entry.by = e.by; entry.at = e.at
            case .caseLinked(let e): entry.caseID = e.caseID; entry.by = e.by; entry.at = e.at
            case .maintenanceScheduled(let e): entry.text = e.description; entry.by = e.by; entry.at = e.at
            }
            if case .alertSent = decoded { record.currentAlert = record.state.isResolved ? nil : entry }
            batch.incidents[number] = record
            batch.entries.append((number, entry))
        }
        let caseSide: ProjectionHandler<Batch> = { batch, event, table, txn in
            let decoded = try CaseEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
            let caseID = String(event.stream.dropFirst(5))
            let entry: (Int, TimelineEntry)
            switch decoded {
            case .incidentLinked(let e):
                entry = (e.incidentNumber, TimelineEntry(position: event.position, type: event.type, caseID: caseID, by: e.by, at: e.at))
            case .caseConvertedToIncident(let e):
                entry = (e.incidentNumber, TimelineEntry(position: event.position, type: event.type, caseID: caseID, by: e.by, at: e.at))
            default:
                return
            }
            batch.entries.append(entry)
        }
        var out = Dictionary(uniqueKeysWithValues: IncidentEvent.typeNames.map { ($0, incident) })
        out[IncidentLinked.type] = caseSide
        out[CaseConvertedToIncident.type] = caseSide
        return out
    }

    static func load(_ number: Int, _ batch: inout Batch, _ table: Database, _ txn: borrowing WriteTransaction) throws -> IncidentRecord {
        if let r = batch.incidents[number] { return r }
        if let bytes = try txn.get(table, key: IncidentKeys.record(number)) {
            return try batch.decoder.decode(IncidentRecord.self, from: Data(bytes))
        }
        return IncidentRecord(state: IncidentState(), currentAlert: nil)
    }

    /// An empty batch.
    public func makeBatch() -> Batch { Batch() }

    /// Writes touched incidents and appends the new timeline entries.
    public func flush(_ batch: inout Batch, table: Database, txn: borrowing WriteTransaction) throws {
        for (number, record) in batch.incidents {
            try txn.put(table, key: IncidentKeys.record(number), value: Array(try batch.encoder.encode(record)))
        }
        for (number, entry) in batch.entries {
            try txn.put(table, key: IncidentKeys.entry(number, entry.position), value: Array(try batch.encoder.encode(entry)))
        }
    }
}

/// Key layout of the `incidents` projection.
enum IncidentKeys {
    static let recordTag: UInt8 = 0x01
    static let entryTag: UInt8 = 0x02

    static func record(_ n: Int) -> [UInt8] { [recordTag] + Keys.be64(UInt64(bitPattern: Int64(n))) }
    static func entryPrefix(_ n: Int) -> [UInt8] { [entryTag] + Keys.be64(UInt64(bitPattern: Int64(n))) }
    static func entry(_ n: Int, _ position: UInt64) -> [UInt8] { entryPrefix(n) + Keys.be64(position) }
}
