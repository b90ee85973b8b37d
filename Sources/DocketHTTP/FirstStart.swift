import CaseDomain
import EventLog
import Foundation
import Logging

/// What a first start did.
public struct FirstStartReport: Sendable {
    /// Streams of the policy and calendar versions recorded (`policy-<name>`, `calendar-<name>`).
    public var recordedStreams: [String] = []
    /// The administrator token created, when the token table was empty; its secret is shown only here.
    public var adminToken: (record: TokenRecord, secret: String)?
}

/// Prepares a data directory for serving: records each shipped policy and calendar
/// (as `record-policy-version` / `record-calendar-version` decided by the domain, sent by
/// the system principal `policy-loader`) whose stream does not exist yet, and creates an
/// administrator token when there is no token at all. Running it again changes nothing.
public func prepareDataDirectory(log: EventLog, tokens: TokenStore, now: Date = Date(), logger: Logger) async throws
    -> FirstStartReport
{
    var report = FirstStartReport()
    let loader = Principal(id: "policy-loader", role: .system)
    var commands: [(stream: String, command: VersionCommand)] = []
    for file in ShippedData.calendars {
        let definition = try CalendarDefinition.decode(from: Data(file.contents.utf8), file: file.file)
        commands.append(("calendar-\(definition.name)", .recordCalendarVersion(RecordCalendarVersion(
            name: definition.name, version: definition.version, content: file.contents, reason: "shipped with Docket"))))
    }
    for file in ShippedData.policies {
        let policy = try SupportPolicy.decode(from: Data(file.contents.utf8), file: file.file)
        commands.append(("policy-\(policy.name)", .recordPolicyVersion(RecordPolicyVersion(
            name: policy.name, version: policy.version, content: file.contents))))
    }
    for (stream, command) in commands where try log.streamHead(stream) == nil {
        let events = try PolicyDecider.decide(command, state: PolicyDecider.initialState,
                                              context: DecisionContext(now: now, actor: loader))
        let newEvents = try events.map { event in
            let encoded = try MessageCoding.encode(event.message)
            return NewEvent(type: encoded.type, schemaVersion: UInt32(encoded.schemaVersion), actor: loader.recordedName,
                            payload: encoded.payload)
        }
        do {
            _ = try await log.append(to: stream, expectedVersion: .noStream, events: newEvents)
            report.recordedStreams.append(stream)
        } catch let error as EventLogError where error.code == .wrongExpectedVersion {
            continue  // recorded meanwhile by another process
        }
    }
    if try tokens.isEmpty() {
        report.adminToken = try await tokens.create(for: Caller(kind: .admin, id: "admin"), label: "created on first start", now: now)
    }
    if !report.recordedStreams.isEmpty {
        logger.info("recorded shipped policies and calendars", metadata: ["streams": "\(report.recordedStreams)"])
    }
    return report
}
