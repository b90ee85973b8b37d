import ArgumentParser

/// `docket log ...`: the event log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The append-only event log.")
}
