import CaseDomain
import DocketJSON
import EventLog
import Foundation

/// A reproducible random history for tests and benchmarks: organisations, thousands of
/// cases driven through every case command kind by the real deciders, incidents, the
/// time-driven commands the deadline scheduler would send, and (when asked) new versions of
/// the calendars, with time advancing.
///
/// Every event is produced by `decide` (refused commands are skipped), so the history is
/// one the service could have written. Same seed, same history.
public struct SyntheticHistory: Sendable {
    /// Organisations.
    public var organisations = 4
    /// Cases to open.
    public var cases = 1_000
    /// Commands attempted per case on average (after opening).
    public var commandsPerCase = 12
    /// Incidents to declare.
    public var incidents = 10
    /// Seed of the random generator.
    public var seed: UInt64 = 42
    /// When set, every case's subject is padded to about this many bytes plus up to 511
    /// more (the case number decides how many), so that rows and states are long enough to
    /// be stored in pieces and cross that boundary as the case changes. Draws nothing from
    /// the random generator: the history is otherwise the same.
    public var longSubjects: Int?
    /// New calendar versions recorded along the history (R4.9), evenly spaced: each takes
    /// the next of the calendars the cases are measured with (americas, apac, europe; built
    /// from its shipped file), makes its standard day an hour longer or shorter and closes the
    /// next day; later commands are decided with it. Draws nothing from the random
    /// generator. 0: none.
    public var calendarVersions = 0
    /// First instant (a Monday morning UTC).
    public var start = Date(timeIntervalSince1970: 1_767_600_000)  // 2026-01-05T08:00:00Z

    /// A history with the defaults.
    public init() {}

    private func subject(_ id: String, _ ordinal: Int) -> String {
        let base = "Subject \(id), \"quoted\""
        guard let longSubjects else { return base }
        return base + " " + String(repeating: "lorem ipsum ", count: max(0, longSubjects + ordinal % 512) / 12)
    }

    /// The appends in order (one per decided command), each with its stream's expected version.
    public func appends(catalog: PolicyCatalog) throws -> [StreamAppend] {
        var rng = SplitMix64(seed: seed)
        var out: [StreamAppend] = []
        var catalog = catalog
        var measures = CalendarMeasureProvider { [catalog] name in try? catalog.calendar(named: name) }
        var versions: [String: UInt64] = [:]
        func emit<E: MessageFamily>(_ stream: String, _ events: [E], actor: String) throws {
            guard !events.isEmpty else { return }
            let expected: ExpectedVersion = versions[stream].map { .exact($0) } ?? .noStream
            let encoded = try events.map { e -> NewEvent in
                let m = try e.encoded()
                return NewEvent(id: rng.uuid(), type: m.type, schemaVersion: UInt32(m.schemaVersion), actor: actor, payload: m.payload)
            }
            versions[stream] = (versions[stream].map { $0 + 1 } ?? 0) + UInt64(events.count) - 1
            out.append(StreamAppend(stream: stream, expectedVersion: expected, events: encoded))
        }
        var now = start
        let policies = ["genesys-cloud", "concur-standard"]
        var orgs: [OrganisationState] = []
        var orgPolicy: [String: SupportPolicy] = [:]
        for i in 0..<organisations {
            let id = "org\(i)"
            let policy = try catalog.policy(named: policies[i % policies.count])
            var events: [OrganisationEvent] = [
                .organisationRegistered(OrganisationRegistered(organisationID: id, name: "Organisation \(i)", policyName: policy.name, at: now))
            ]
            for c in 1...3 {
                events.append(.contactAdded(ContactAdded(contactID: "\(id)-c\(c)", name: "Contact \(c)", email: "c\(c)@\(id).example",
                                                         access: .designated, at: now)))
            }
            events.append(.organisationTransitioned(OrganisationTransitioned(by: "m1", at: now)))
            try emit(StreamName.organisation(id), events, actor: "m1")
            orgs.append(OrganisationDecider.fold(events))
            orgPolicy[id] = policy
        }
        let staff = [Principal.staff("s1", .tier1), .staff("s2", .tier2), .staff("e3", .tier3), .staff("m1", .manager)]
        let teams = ["apps", "integrations", "platform"]
        let regions = ["americas", "apac", "europe"]
        var open: [(id: String, state: CaseState, contact: Principal)] = []
        var opened = 0
        var incidentStates: [Int: IncidentState] = [:]
        var declared = 0
        let operations = Principal.staff("o1", .operations)
        let orgMap = Dictionary(uniqueKeysWithValues: orgs.compactMap { o in o.id.map { ($0, o) } })
        let totalSteps = cases * (commandsPerCase + 1)
        var recordedCalendars = 0
        for step in 0..<totalSteps {
            now = DomainTime.normalised(now.addingTimeInterval(Double(rng.next(60 * 25)) + 1))
            // A new calendar version, now and then.
            if recordedCalendars < calendarVersions, step > 0, step % max(1, totalSteps / (calendarVersions + 1)) == 0 {
                let name = regions[recordedCalendars % regions.count]
                let (event, calendar) = try Self.calendarVersion(of: catalog.calendar(named: name), shorter: recordedCalendars % 2 == 1, at: now)
                try emit("calendar-\(name)", [event], actor: "m1")
                catalog = try catalog.replacing(calendars: [calendar])
                measures = CalendarMeasureProvider { [catalog] name in try? catalog.calendar(named: name) }
                recordedCalendars += 1
            }
            // Incidents, now and then.
            if declared < incidents && step % max(1, totalSteps / max(1, incidents)) == 0 {
                declared += 1
                let n = declared
                let affected = [orgs[rng.next(orgs.count)].id ?? "org0"]
                let command = IncidentCommand.declareIncident(DeclareIncident(
                    incidentNumber: n, title: "Incident \(n)", affectedServices: ["api"], origin: rng.next(2) == 0 ? .own : .thirdParty,
                    affectedOrganisations: affected, subsetOfClients: false))
                if let events = try? IncidentDecider.decide(command, state: IncidentState(), context: DecisionContext(now: now, actor: operations, organisations: orgMap)) {
                    try emit(StreamName.incident(n), events, actor: operations.id)
                    incidentStates[n] = IncidentDecider.fold(events)
                }
            }
            if let n = incidentStates.keys.sorted().randomElement(using: &rng), rng.next(8) == 0, let state = incidentStates[n] {
                let commands: [IncidentCommand] = [
                    .sendAlert(SendAlert(kind: .alert, message: "Investigating")),
                    .sendAlert(SendAlert(kind: .alertUpdate, message: "Still investigating")),
                    .sendAlert(SendAlert(kind: .alertResolved, message: "Resolved")),
                    .sendAlert(SendAlert(kind: .afterTheFactResolved, message: "Fixed", occurredFrom: now.addingTimeInterval(-3600), occurredTo: now)),
                    .publishRCA(PublishRCA(cause: "config", detection: "monitoring", prevention: "review")),
                    .linkCase(LinkCase(caseID: open.randomElement(using: &rng)?.id ?? "none")),
                    .scheduleMaintenance(ScheduleMaintenance(windowID: "w\(step)", start: now.addingTimeInterval(86_400),
                                                             end: now.addingTimeInterval(86_400 + 7_200), expectedOutageMinutes: 90, description: "upgrade")),
                ]
                let command = commands[rng.next(commands.count)]
                if let events = try? IncidentDecider.decide(command, state: state, context: DecisionContext(now: now, actor: operations, organisations: orgMap)) {
                    try emit(StreamName.incident(n), events, actor: operations.id)
                    incidentStates[n] = IncidentDecider.fold(events, into: state)
                }
            }
            // Open a case, or act on one.
            if opened < cases && (open.isEmpty || rng.next(commandsPerCase + 1) == 0 || step >= totalSteps - (cases - opened)) {
                let org = orgs[rng.next(orgs.count)]
                let orgID = org.id ?? "org0"
                guard let policy = orgPolicy[orgID] else { continue }
                let contact = Principal.contact("\(orgID)-c\(rng.next(3) + 1)", organisation: orgID, access: .designated)
                let id = "C\(100_000 + opened)"
                opened += 1
                let type = [CaseType.support, .serviceRequest, .admin][rng.next(3)]
                let sub: String? = type.subTypes.isEmpty ? nil : type.subTypes[rng.next(type.subTypes.count)]
                let command = CaseCommand.openCase(OpenCase(
                    caseID: id, organisationID: orgID, contactID: contact.id, subject: subject(id, opened), description: "steps",
                    topic: "topic", caseType: type, subType: sub, severity: policy.priorities[rng.next(policy.priorities.count)],
                    region: regions[rng.next(regions.count)], site: "site-\(rng.next(50))", product: "Product", stage: .production,
                    callMe: false, cc: [], channel: .portal))
                let context = DecisionContext(now: now, actor: contact, policy: policy, measures: measures, organisation: org)
                let events = try CaseDecider.decide(command, state: CaseState(), context: context)
                try emit(StreamName.case(id), events, actor: contact.id)
                open.append((id, CaseDecider.fold(events), contact))
                continue
            }
            guard !open.isEmpty else { continue }
            let index = rng.next(open.count)
            var (id, state, contact) = open[index]
            guard let policy = try? catalog.policy(named: state.policyName, version: state.policyVersion) else { continue }
            let staffer = staff[rng.next(staff.count)]
            let roll = rng.next(100)
            var actor = staffer
            let command: CaseCommand
            // Time-driven commands that are due, as the deadline scheduler sends them.
            let due = CaseDecider.dueTimeDrivenCommands(state, measures: measures, policy: policy).filter { $0.due <= now }
            if let first = due.first, roll < 60 {
                actor = .deadlineScheduler
                command = first.command
            } else {
                switch roll % 22 {
                case 0: command = .routeCase(RouteCase(team: teams[rng.next(teams.count)], owner: staffer.id, tier: [.tier1, .tier2, .tier3][rng.next(3)]))
                case 1: command = .setPriority(SetPriority(priority: policy.priorities[rng.next(policy.priorities.count)], reason: "impact"))
                case 2: actor = contact; command = .requestPriorityChange(RequestPriorityChange(priority: policy.priorities[0], reason: "urgent"))
                case 3, 4: command = .addComment(AddComment(commentID: "k\(step)", body: "Looking", visibility: rng.next(2) == 0 ? .public : .internal))
                case 5: actor = contact; command = .addComment(AddComment(commentID: "k\(step)", body: "More info", visibility: .public))
                case 6: command = .requestInformation(RequestInformation(question: "Which report?"))
                case 7: actor = contact; command = .escalateCase(EscalateCase(kind: rng.next(2) == 0 ? .customer : .manager, reason: "slow"))
                case 8: command = .escalateCase(EscalateCase(kind: .tier, to: "tier3", reason: "needs engineering"))
                case 9: command = .restoreService(RestoreService(summary: "workaround"))
                case 10, 11: command = .proposeSolution(ProposeSolution(solution: "fixed"))
                case 12: actor = contact; command = .confirmSolution(ConfirmSolution())
                case 13: actor = contact; command = .rejectSolution(RejectSolution(reason: "still broken"))
                case 14: actor = rng.next(2) == 0 ? contact : staffer
                    command = .closeCase(CloseCase(reason: actor.role == .contact ? (state.status == .solutionProposed ? .resolved : .cancelled) : .resolved))
                case 15: actor = contact; command = .reopenCase(ReopenCase(reason: "came back"))
                case 16: command = .suspendResolutionTarget(SuspendResolutionTarget(reason: "engineering"))
                case 17: command = .resumeResolutionTarget(ResumeResolutionTarget())
                case 18: command = .linkIncident(LinkIncident(incidentNumber: max(1, declared)))
                case 19: actor = contact
                    command = .addAttachment(AddAttachment(attachmentID: "a\(step)", name: "log.txt", mediaType: "text/plain",
                                                           size: Int64(rng.next(1_000_000) + 1), sha256: String(repeating: "ab", count: 32)))
                case 20: actor = contact
                    let survey = state.surveys.last(where: \.isOutstanding)?.id ?? "none"
                    command = .answerSurvey(AnswerSurvey(surveyID: survey, knowledge: rng.next(5) + 1, communication: rng.next(5) + 1,
                                                         timeliness: rng.next(5) + 1, comment: rng.next(3) == 0 ? "thanks, \"great\"" : nil))
                default: command = .addComment(AddComment(commentID: "k\(step)", body: "Update", visibility: .public))
                }
            }
            let context = DecisionContext(now: now, actor: actor, policy: policy, measures: measures, organisation: orgMap[state.organisationID])
            guard let events = try? CaseDecider.decide(command, state: state, context: context), !events.isEmpty else { continue }
            try emit(StreamName.case(id), events, actor: actor.id)
            state = CaseDecider.fold(events, into: state)
            open[index] = (id, state, contact)
        }
        return out
    }

    /// The next version of `calendar`: its standard day an hour shorter or longer, and the
    /// day after `now` closed (in the calendar's zone, roughly). Its event, and the calendar.
    private static func calendarVersion(of calendar: BusinessCalendar, shorter: Bool, at now: Date) throws
        -> (VersionEvent, BusinessCalendar)
    {
        let version = calendar.version + 1
        guard let file = ShippedData.calendars.first(where: { $0.file == "\(calendar.name).json" }),
              case .object(var json) = try JSONValue.parse(Array(file.contents.utf8)) else {
            throw PolicyError.unknownCalendar(calendar.name, version: nil, known: [])
        }
        json["version"] = .int(Int64(version))
        json["standardDayHours"] = .double(calendar.standardDayHours + (shorter ? -1 : 1))
        let day = String(DomainTime.format(now.addingTimeInterval(86_400)).prefix(10))
        json["closures"] = .array([.object(["from": .string(day), "name": .string("closure \(version)")])])
        let content = JSONValue.object(json).jsonString
        let built = try BusinessCalendar(CalendarDefinition.decode(from: Data(content.utf8), file: "calendar-\(calendar.name)"))
        let event = VersionEvent.calendarVersionRecorded(CalendarVersionRecorded(
            name: calendar.name, version: version, content: content, reason: "synthetic change \(version)", by: "m1", at: now))
        return (event, built)
    }
}

/// A small, fast, seedable generator (SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    /// A generator from `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in `0..<n`.
    public mutating func next(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    /// A random (version 4 layout) UUID.
    public mutating func uuid() -> UUID {
        let a = next(), b = next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i)); bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * i)) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
