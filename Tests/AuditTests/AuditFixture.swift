import CaseDomain
import EventLog
import Foundation
import Logging

/// A fresh temporary data directory.
func auditDataDir(_ name: String = #function) -> String {
    NSTemporaryDirectory() + "docket-audit-\(name.filter(\.isLetter))-\(UUID().uuidString)"
}

/// A logger that drops everything.
let auditQuietLogger: Logger = {
    var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// Opens (creating) a log in `dir`.
func openAuditLog(_ dir: String) throws -> EventLog {
    try EventLog.open(directory: dir, logger: auditQuietLogger)
}

/// A real case history under the shipped `concur-standard` policy (europe calendar,
/// Mon-Fri 09:00-18:00 Europe/Berlin), decided command by command as the service would and
/// appended with the envelope metadata a command handler records (role, channel).
enum AuditFixture {
    /// 2026-03-02T09:00:00Z, a Monday (10:00 in Berlin).
    static let t0 = Date(timeIntervalSince1970: 1_772_442_000)
    static func at(_ hours: Double) -> Date { t0.addingTimeInterval(hours * 3600) }

    static var catalog: PolicyCatalog { (try? PolicyCatalog.shipped())! }
    static var policy: SupportPolicy { (try? catalog.policy(named: "concur-standard"))! }

    static let orgEvents: [OrganisationEvent] = [
        .organisationRegistered(OrganisationRegistered(organisationID: "org1", name: "Org One", policyName: "concur-standard", at: t0)),
        .contactAdded(ContactAdded(contactID: "d1", name: "D1", email: "d1@x.example", access: .designated, at: t0)),
        .contactAdded(ContactAdded(contactID: "d2", name: "D2", email: "d2@x.example", access: .designated, at: t0)),
        .organisationTransitioned(OrganisationTransitioned(by: "m1", at: t0)),
    ]
    static var organisation: OrganisationState { OrganisationDecider.fold(orgEvents) }

    static let contact = Principal.contact("d1", organisation: "org1", access: .designated)
    static let staff = Principal.staff("s1", .tier1, channel: .phone)
    static let scheduler = Principal.deadlineScheduler

    static func open(_ caseID: String) -> CaseCommand {
        .openCase(OpenCase(
            caseID: caseID, organisationID: "org1", contactID: "d1", subject: "Export fails", description: "steps",
            topic: "expenses", caseType: .support, subType: "problem", severity: "P2", region: "europe", site: "s7",
            product: "Expense", stage: .production, callMe: false, cc: [], channel: .portal))
    }

    /// The commands of the history with actor and time.
    static func steps(_ caseID: String) -> [(CaseCommand, Principal, Date)] {
        [
            (open(caseID), contact, t0),
            (.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), staff, at(0.5)),
            (.recordClockAtRisk(RecordClockAtRisk(target: .response)), scheduler, at(3)),
            (.recordClockBreached(RecordClockBreached(target: .response)), scheduler, at(5)),
            (.addComment(AddComment(commentID: "p1", body: "looking", visibility: .public)), staff, at(5.5)),
            (.requestInformation(RequestInformation(question: "Which batch?")), staff, at(6)),
            (.addComment(AddComment(commentID: "c1", body: "batch 7", visibility: .public)), contact, at(24)),
            (.proposeSolution(ProposeSolution(solution: "patch")), staff, at(26)),
        ]
    }

    /// A fresh log holding the organisation and case `c1`.
    static func openWithHistory(_ name: String = #function) async throws -> EventLog {
        let log = try openAuditLog(auditDataDir(name))
        try await appendHistory(log)
        return log
    }

    /// The events of case `c1`'s history with their decision instants (as appended by ``appendHistory(_:caseID:withOrganisation:)``).
    static var history: [(CaseEvent, Date)] {
        get throws {
            var state = CaseDecider.initialState
            var out: [(CaseEvent, Date)] = []
            for (command, actor, now) in steps("c1") {
                let events = try CaseDecider.decide(command, state: state, context: context(actor, now))
                state = CaseDecider.fold(events, into: state)
                out += events.map { ($0, now) }
            }
            return out
        }
    }

    static func context(_ actor: Principal, _ now: Date) -> DecisionContext {
        DecisionContext(now: now, actor: actor, policy: policy,
                        measures: CalendarMeasureProvider(calendar: { try? catalog.calendar(named: $0) }),
                        organisation: organisation)
    }

    /// Appends the organisation and a case `caseID` to `log`; returns the case's events with the
    /// instant each was decided. `beforeStep` runs before each step is decided, with its index.
    @discardableResult
    static func appendHistory(_ log: EventLog, caseID: String = "c1", withOrganisation: Bool = true,
                              beforeStep: (Int) async throws -> Void = { _ in }) async throws -> [(CaseEvent, Date)]
    {
        if withOrganisation {
            let events = try orgEvents.map { e -> NewEvent in
                let m = try DomainEvent.organisation(e).encoded()
                return NewEvent(type: m.type, schemaVersion: UInt32(m.schemaVersion), payload: m.payload)
            }
            _ = try await log.append(to: StreamName.organisation("org1"), expectedVersion: .noStream, events: events)
        }
        var state = CaseDecider.initialState
        var out: [(CaseEvent, Date)] = []
        for (index, (command, actor, now)) in steps(caseID).enumerated() {
            try await beforeStep(index)
            let events = try CaseDecider.decide(command, state: state, context: context(actor, now))
            state = CaseDecider.fold(events, into: state)
            let metadata = "{\"channel\":\"\(actor.channel?.rawValue ?? "api")\",\"role\":\"\(actor.role.rawValue)\"}"
            let stored = try events.map { e -> NewEvent in
                let m = try DomainEvent.case(e).encoded()
                return NewEvent(type: m.type, schemaVersion: UInt32(m.schemaVersion), actor: actor.recordedName,
                                metadata: Data(metadata.utf8), payload: m.payload)
            }
            _ = try await log.append(to: StreamName.case(caseID), events: stored)
            out += events.map { ($0, now) }
        }
        return out
    }
}
