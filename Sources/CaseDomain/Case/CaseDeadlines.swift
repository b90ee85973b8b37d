import Foundation

/// A time-driven command and the instant from which its case accepts it.
public struct DueCommand: Sendable, Hashable {
    /// The earliest instant at which `decide` accepts the command.
    public var due: Date
    /// The command for the deadline scheduler to send as ``Principal/deadlineScheduler``.
    public var command: CaseCommand

    /// Creates a due command.
    public init(due: Date, command: CaseCommand) {
        self.due = due
        self.command = command
    }
}

extension CaseDecider {
    /// The time-driven commands a case is waiting for, each with the instant it becomes due:
    /// at-risk (R3.5) and breach (R3.4) of every running clock, update overdue, auto-close
    /// of a pending solution (R2.6) and expiry of outstanding surveys (R5.3). Sorted by due
    /// instant, then command type, then target or survey id. Pure: the scheduler calls it after every append to the
    /// case and sends each command once `now >= due`; `decide` re-validates and refuses
    /// anything not yet due or already recorded, so a stale schedule is harmless.
    public static func dueTimeDrivenCommands(_ state: CaseState, measures: any TimeMeasureProvider,
                                             policy: SupportPolicy) -> [DueCommand] {
        guard state.exists else { return [] }
        var due: [DueCommand] = []
        if state.status != .closed {
            for clock in state.orderedClocks where !clock.isFinished {
                let measure = measures.measure(region: state.region, policy: policy, duration: clock.duration)
                if clock.atRiskAt == nil, let instant = clock.atRiskInstant(share: policy.atRiskShare, measure: measure) {
                    due.append(DueCommand(due: DomainTime.normalised(instant), command: .recordClockAtRisk(RecordClockAtRisk(target: clock.target))))
                }
                if clock.breachedAt == nil, let deadline = clock.deadline(measure: measure) {
                    let command: CaseCommand = clock.target == .update
                        ? .recordUpdateOverdue(RecordUpdateOverdue())
                        : .recordClockBreached(RecordClockBreached(target: clock.target))
                    due.append(DueCommand(due: DomainTime.normalised(deadline), command: command))
                }
            }
        }
        if state.status == .solutionProposed, let proposed = state.solutionProposedAt {
            due.append(DueCommand(due: DomainTime.adding(days: policy.autoCloseDays, to: proposed), command: .autoCloseCase(AutoCloseCase())))
        }
        for survey in state.surveys where survey.isOutstanding {
            due.append(DueCommand(due: survey.answerBy, command: .expireSurvey(ExpireSurvey(surveyID: survey.id))))
        }
        func key(_ d: DueCommand) -> (Date, String, String) {
            let target: String = switch d.command {
            case .recordClockAtRisk(let c): c.target.rawValue
            case .recordClockBreached(let c): c.target.rawValue
            case .expireSurvey(let c): c.surveyID
            default: ""
            }
            return (d.due, d.command.type, target)
        }
        return due.sorted { key($0) < key($1) }
    }
}
