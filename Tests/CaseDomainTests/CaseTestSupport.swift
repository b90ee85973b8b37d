import Foundation
import Testing
@testable import CaseDomain

/// Mon-Fri 09:00-17:00 UTC, no holidays: a small business calendar for tests.
/// `closedDays` (days since 1970-01-01) are ad-hoc closures (R4.9 calendar changes).
struct CaseTestOfficeHours: TimeMeasure {
    let open: Int64 = 9 * 3600
    let close: Int64 = 17 * 3600
    var closedDays: Set<Int64> = []
    var standardDaySeconds: Int64 { close - open }

    private func isWeekday(_ day: Int64) -> Bool {
        let weekday = ((day + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday; 0 = Monday
        return weekday < 5 && !closedDays.contains(day)
    }

    func seconds(from start: Date, to end: Date) -> Int64 {
        let s = Int64(start.timeIntervalSince1970.rounded(.down)), e = Int64(end.timeIntervalSince1970.rounded(.down))
        guard e > s else { return 0 }
        var total: Int64 = 0
        var day = s / 86_400
        while day * 86_400 < e {
            if isWeekday(day) {
                let a = max(s, day * 86_400 + open), b = min(e, day * 86_400 + close)
                if b > a { total += b - a }
            }
            day += 1
        }
        return total
    }

    func adding(seconds: Int64, to instant: Date) -> Date {
        var t = Int64(instant.timeIntervalSince1970.rounded(.down))
        var left = seconds
        while true {
            let day = t / 86_400
            let dayOpen = day * 86_400 + open, dayClose = day * 86_400 + close
            if isWeekday(day), t < dayClose {
                let from = max(t, dayOpen)
                if from + left <= dayClose { return Date(timeIntervalSince1970: TimeInterval(from + left)) }
                left -= dayClose - from
            }
            t = (day + 1) * 86_400
        }
    }
}

enum CaseFixture {
    static let orgID = "org-a"
    static let otherOrgID = "org-b"

    /// Monday 2026-03-02 09:00 UTC.
    static let monday = date("2026-03-02T09:00:00.000Z")

    static func date(_ text: String) -> Date {
        guard let d = DomainTime.parse(text) else { fatalError("bad date \(text)") }
        return d
    }

    static func hours(_ h: Double, after d: Date) -> Date { DomainTime.normalised(d.addingTimeInterval(h * 3600)) }
    static func days(_ n: Double, after d: Date) -> Date { hours(n * 24, after: d) }

    static let policy = SupportPolicy(
        name: "test-sla", version: 3, priorities: ["critical", "high", "medium", "low"],
        contactOpeningCaps: ["critical": "high"], calendarByRegion: ["*": "office"],
        targets: [
            "critical": [.response: .wallClock(seconds: 3600), .restoration: .wallClock(seconds: 4 * 3600),
                         .resolution: .wallClock(seconds: 8 * 3600), .update: .wallClock(seconds: 2 * 3600)],
            "high": [.response: .businessTime(seconds: 4 * 3600), .resolution: .businessDays(2),
                     .update: .wallClock(seconds: 4 * 3600)],
            "medium": [.response: .businessTime(seconds: 8 * 3600), .resolution: .businessDays(5)],
            "low": [.response: .businessDays(1)],
        ])

    static let measures = CalendarMeasureProvider { name in name == "office" ? CaseTestOfficeHours() : nil }

    static let d1 = Principal.contact("d1", organisation: orgID, access: .designated)
    static let d2 = Principal.contact("d2", organisation: orgID, access: .designated)
    static let basic = Principal.contact("b1", organisation: orgID, access: .basic)
    static let readOnly = Principal.contact("r1", organisation: orgID, access: .readOnly)
    static let stranger = Principal.contact("x1", organisation: otherOrgID, access: .designated)
    static let staff = Principal.staff("s1", .tier1)
    static let engineer = Principal.staff("s3", .tier3)
    static let manager = Principal.staff("m1", .manager)
    static let operations = Principal.staff("o1", .operations)
    static let auditor = Principal.auditor("a1")
    static let reporting = Principal.reportingJob("job1")
    static let scheduler = Principal.deadlineScheduler

    static func orgContext(_ actor: Principal, at now: Date = monday, policy: SupportPolicy = policy) -> DecisionContext {
        DecisionContext(now: now, actor: actor, policy: policy, measures: measures)
    }

    /// Organisation events: registered, contacts d1, d2 (designated), b1 (basic), r1 (read-only), optionally transitioned.
    static func organisationEvents(id: String = orgID, transitioned: Bool = true) -> [OrganisationEvent] {
        var events: [OrganisationEvent] = [
            .organisationRegistered(OrganisationRegistered(organisationID: id, name: "Org \(id)", policyName: policy.name, at: monday)),
            .contactAdded(ContactAdded(contactID: "d1", name: "Dana", email: "dana@a.example", access: .designated, at: monday)),
            .contactAdded(ContactAdded(contactID: "d2", name: "Dev", email: "dev@a.example", access: .designated, at: monday)),
            .contactAdded(ContactAdded(contactID: "b1", name: "Bo", email: "bo@a.example", access: .basic, at: monday)),
            .contactAdded(ContactAdded(contactID: "r1", name: "Ria", email: "ria@a.example", access: .readOnly, at: monday)),
        ]
        if transitioned { events.append(.organisationTransitioned(OrganisationTransitioned(by: "m1", at: monday))) }
        return events
    }

    static let organisation = OrganisationDecider.fold(organisationEvents())
    static let implementationOrganisation = OrganisationDecider.fold(organisationEvents(transitioned: false))

    static func openCase(id: String = "c1", for contact: String = "d1", severity: String = "high",
                         type: CaseType = .support, subType: String? = "problem", channel: Channel = .portal,
                         related: String? = nil) -> CaseCommand {
        .openCase(OpenCase(caseID: id, organisationID: orgID, contactID: contact, subject: "Expense export fails",
                           description: "Steps: open report 42, export", topic: "expenses", caseType: type, subType: subType,
                           severity: severity, region: "europe", site: "site-7", product: "Expense", stage: .production,
                           callMe: false, cc: ["boss@a.example"], channel: channel, relatedCaseID: related))
    }
}

/// A case stream under test: given events, when a command, then events or a refusal.
struct CaseScenario {
    var history: [CaseEvent] = []
    var state = CaseState()
    var policy = CaseFixture.policy
    var organisation = CaseFixture.organisation

    var measures: any TimeMeasureProvider = CaseFixture.measures

    func context(_ actor: Principal, _ now: Date) -> DecisionContext {
        DecisionContext(now: now, actor: actor, policy: policy, measures: measures, organisation: organisation)
    }

    /// Decides and appends; fails the test on refusal.
    @discardableResult
    mutating func send(_ command: CaseCommand, by actor: Principal, at now: Date,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> [CaseEvent] {
        do {
            let events = try CaseDecider.decide(command, state: state, context: context(actor, now))
            history += events
            state = CaseDecider.fold(events, into: state)
            return events
        } catch {
            Issue.record("unexpected refusal: \(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The refusal of `command`, or `nil` when it was accepted (nothing is appended either way).
    func refusal(_ command: CaseCommand, by actor: Principal, at now: Date) -> DomainError? {
        do {
            _ = try CaseDecider.decide(command, state: state, context: context(actor, now))
            return nil
        } catch {
            return error
        }
    }

    /// A case opened by d1 at Monday 09:00 with `severity`.
    static func opened(severity: String = "high", policy: SupportPolicy = CaseFixture.policy, at: Date = CaseFixture.monday,
                       by actor: Principal = CaseFixture.d1, channel: Channel = .portal) throws -> CaseScenario {
        var s = CaseScenario()
        s.policy = policy
        try s.send(CaseFixture.openCase(severity: severity, channel: channel), by: actor, at: at)
        return s
    }
}

extension Array where Element == CaseEvent {
    /// The type names, in order.
    var types: [String] { map(\.type) }
}

func caseComment(_ id: String, _ visibility: Visibility = .public) -> CaseCommand {
    .addComment(AddComment(commentID: id, body: "text \(id)", visibility: visibility))
}

extension CaseScenario {
    /// The state of one clock at `now` (R4.8).
    func clock(_ target: SLATarget, at now: Date) -> SLAClockState? {
        state.clockStates(at: now, measures: measures, policy: policy).first { $0.target == target }
    }
}
