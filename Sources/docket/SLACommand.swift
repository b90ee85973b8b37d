import ArgumentParser

/// `docket sla ...`: SLA deadlines (issue 3 fills this in).
struct SLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sla", abstract: "SLA deadlines.")
}
