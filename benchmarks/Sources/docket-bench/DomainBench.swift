import CaseDomain
import Foundation

/// Case-domain benchmarks: folding a realistic 50-odd-event case history with `evolve`
/// (target: at least 1 M events/s in a release build), and deciding commands.
func domainSuite() -> BenchSuite {
    BenchSuite(name: "Domain") {
        let baseline = baselineSum()
        report(baseline, unit: "adds")
        let history = try DomainBenchHistory.build()
        let folds = 40_000
        var sink = 0
        let fold = measure("case: fold a \(history.count)-event history with evolve", count: folds * history.count) {
            for _ in 0..<folds {
                let state = CaseDecider.fold(history)
                sink &+= state.publicComments
            }
        }
        report(fold, baseline: baseline, unit: "events")
        let decides = 200_000
        let (state, context) = try DomainBenchHistory.openCase()
        let command = CaseCommand.addComment(AddComment(commentID: "b", body: "update", visibility: .public))
        let decide = try measure("case: decide a public staff comment", count: decides) {
            for _ in 0..<decides { sink &+= try CaseDecider.decide(command, state: state, context: context).count }
        }
        report(decide, baseline: baseline, unit: "commands")
        if sink == 42 { print("") }
    }
}

/// The wire codec (``MessageCoding``): the Domain suite's case history, payload by payload,
/// through Foundation's coders (the baseline) and through Docket's own.
func codecSuite() -> BenchSuite {
    BenchSuite(name: "Codec") {
        let history = try DomainBenchHistory.build()
        var sink = 0
        // The wire codec: the same history's payloads through Foundation and through Docket's codec.
        let payloads = try history.map { try MessageCoding.encode($0.message) }
        let rounds = 2_000
        let foundationDecoder = MessageCoding.foundationDecoder(), docketDecoder = MessageCoding.decoder()
        func decodeAll(_ decode: (EncodedMessage) throws -> any DomainMessage) throws {
            for _ in 0..<rounds { for p in payloads { sink &+= (try decode(p)) is CaseOpened ? 1 : 0 } }
        }
        func viaFoundation<T: DomainMessage>(_ t: T.Type, _ data: Data) throws -> any DomainMessage { try foundationDecoder.decode(T.self, from: data) }
        func viaDocket<T: DomainMessage>(_ t: T.Type, _ data: Data) throws -> any DomainMessage { try docketDecoder.decode(T.self, from: data) }
        let types: [String: any DomainMessage.Type] = Dictionary(uniqueKeysWithValues: CaseEvent.messageTypes.map { ($0.type, $0) })
        let state = CaseDecider.fold(history)
        let stateEncoder = MessageCoding.encoder()
        let stateBytes = try stateEncoder.encodeBytes(state)
        let stateEncode = try measure("codec: encode a folded \(stateBytes.count)-byte case state", count: 5_000) {
            for _ in 0..<5_000 { sink &+= try stateEncoder.encodeBytes(state).count }
        }
        report(stateEncode, unit: "states")
        if ProcessInfo.processInfo.environment["DOCKET_BENCH_CODEC_PROFILE"] == "state" {
            for _ in 0..<50_000 { sink &+= try stateEncoder.encodeBytes(state).count }
            return
        }
        if ProcessInfo.processInfo.environment["DOCKET_BENCH_CODEC_PROFILE"] != nil {
            // A long run of the generated decoder alone, for `perf record`.
            for _ in 0..<20 {
                try decodeAll { p in try CaseEvent.decode(type: p.type, schemaVersion: 1, payload: p.payload).message }
            }
            return
        }
        let foundationDecode = try measure("codec: decode a case event payload with Foundation JSONDecoder", count: rounds * payloads.count) {
            try decodeAll { p in let t: any DomainMessage.Type = types[p.type] ?? CaseOpened.self; return try viaFoundation(t, p.payload) }
        }
        report(foundationDecode, unit: "payloads")
        let docketDecode = try measure("codec: decode a case event payload with DocketJSONDecoder", count: rounds * payloads.count) {
            try decodeAll { p in let t: any DomainMessage.Type = types[p.type] ?? CaseOpened.self; return try viaDocket(t, p.payload) }
        }
        report(docketDecode, baseline: foundationDecode, unit: "payloads")
        let generatedDecode = try measure("codec: decode with MessageCoding (generated code)", count: rounds * payloads.count) {
            try decodeAll { p in try CaseEvent.decode(type: p.type, schemaVersion: 1, payload: p.payload).message }
        }
        report(generatedDecode, baseline: foundationDecode, unit: "payloads")
        let foundationEncoder = MessageCoding.foundationEncoder(), docketEncoder = MessageCoding.encoder()
        let messages = history.map(\.message)
        let foundationEncode = try measure("codec: encode a case event payload with Foundation JSONEncoder", count: rounds * messages.count) {
            for _ in 0..<rounds { for m in messages { sink &+= try foundationEncoder.encode(m).count } }
        }
        report(foundationEncode, unit: "payloads")
        let docketEncode = try measure("codec: encode a case event payload with DocketJSONEncoder", count: rounds * messages.count) {
            for _ in 0..<rounds { for m in messages { sink &+= try docketEncoder.encode(m).count } }
        }
        report(docketEncode, baseline: foundationEncode, unit: "payloads")
        let generatedEncode = try measure("codec: encode with MessageCoding (generated code)", count: rounds * messages.count) {
            for _ in 0..<rounds { for m in messages { sink &+= try MessageCoding.encode(m).payload.count } }
        }
        report(generatedEncode, baseline: foundationEncode, unit: "payloads")
        if sink == 42 { print("") }
    }
}

/// Builds the benchmark's case history through `decide`, as the service would.
enum DomainBenchHistory {
    static let t0 = Date(timeIntervalSince1970: 1_772_442_000)  // 2026-03-02T09:00:00Z, a Monday
    static func at(_ hours: Double) -> Date { t0.addingTimeInterval(hours * 3600) }

    static let policy = SupportPolicy(
        name: "bench", priorities: ["critical", "high", "medium", "low"], contactOpeningCaps: ["critical": "high"],
        calendarByRegion: [:],
        targets: [
            "critical": [.response: .wallClock(seconds: 3600), .restoration: .wallClock(seconds: 14_400),
                         .resolution: .wallClock(seconds: 28_800), .update: .wallClock(seconds: 7200)],
            "high": [.response: .wallClock(seconds: 14_400), .resolution: .wallClock(seconds: 57_600), .update: .wallClock(seconds: 14_400)],
        ])

    static let organisation: OrganisationState = OrganisationDecider.fold([
        .organisationRegistered(OrganisationRegistered(organisationID: "org", name: "Org", policyName: "bench", at: t0)),
        .contactAdded(ContactAdded(contactID: "d1", name: "D1", email: "d1@x.example", access: .designated, at: t0)),
        .contactAdded(ContactAdded(contactID: "d2", name: "D2", email: "d2@x.example", access: .designated, at: t0)),
        .organisationTransitioned(OrganisationTransitioned(by: "m1", at: t0)),
    ])

    static let contact = Principal.contact("d1", organisation: "org", access: .designated)
    static let staff = Principal.staff("s1", .tier1)
    static let scheduler = Principal.deadlineScheduler

    static func context(_ actor: Principal, _ now: Date) -> DecisionContext {
        DecisionContext(now: now, actor: actor, policy: policy, organisation: organisation)
    }

    static let open = CaseCommand.openCase(OpenCase(
        caseID: "c1", organisationID: "org", contactID: "d1", subject: "Export fails", description: "steps", topic: "expenses",
        caseType: .support, subType: "problem", severity: "high", region: "europe", site: "s7", product: "Expense",
        stage: .production, callMe: true, cc: ["boss@x.example"], channel: .portal))

    /// A freshly opened case and a staff context an hour later.
    static func openCase() throws -> (CaseState, DecisionContext) {
        let events = try CaseDecider.decide(open, state: CaseDecider.initialState, context: context(contact, t0))
        return (CaseDecider.fold(events), context(staff, at(1)))
    }

    /// A case that is routed, escalated, breached, re-prioritised, waits for the customer,
    /// is restored, gets a rejected and an accepted solution, a survey answer, and closes.
    static func build() throws -> [CaseEvent] {
        func comment(_ id: String, _ v: Visibility = .public) -> CaseCommand {
            .addComment(AddComment(commentID: id, body: "text \(id)", visibility: v))
        }
        let steps: [(CaseCommand, Principal, Date)] = [
            (open, contact, t0),
            (.routeCase(RouteCase(team: "expenses", owner: "s1", tier: .tier1)), staff, at(0.1)),
            (.recordClockAtRisk(RecordClockAtRisk(target: .response)), scheduler, at(3)),
            (.recordClockBreached(RecordClockBreached(target: .response)), scheduler, at(4.1)),
            (.escalateCase(EscalateCase(kind: .customer, reason: "no answer")), contact, at(4.3)),
            (comment("p1"), staff, at(5)),
            (comment("i1", .internal), staff, at(5.1)),
            (.setPriority(SetPriority(priority: "critical", reason: "payroll")), staff, at(5.5)),
            (.escalateCase(EscalateCase(kind: .tier, to: "tier3", reason: "engineering")), staff, at(5.6)),
            (.requestInformation(RequestInformation(question: "Which batch?")), staff, at(6)),
            (comment("c1"), contact, at(7)),
            (comment("p2"), staff, at(7.2)),
            (comment("c2"), contact, at(7.4)),
            (.restoreService(RestoreService(summary: "re-run")), staff, at(8)),
            (.proposeSolution(ProposeSolution(solution: "patch 1")), staff, at(8.5)),
            (.rejectSolution(RejectSolution(reason: "still slow")), contact, at(9)),
            (comment("p3"), staff, at(9.5)),
            (.proposeSolution(ProposeSolution(solution: "patch 2")), staff, at(10)),
            (.confirmSolution(ConfirmSolution()), contact, at(11)),
            (.answerSurvey(AnswerSurvey(surveyID: "c1-survey-1", knowledge: 5, communication: 4, timeliness: 4)), contact, at(12)),
        ]
        var state = CaseDecider.initialState
        var history: [CaseEvent] = []
        for (command, actor, now) in steps {
            let events = try CaseDecider.decide(command, state: state, context: context(actor, now))
            state = CaseDecider.fold(events, into: state)
            history += events
        }
        return history
    }
}
