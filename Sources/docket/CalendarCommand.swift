import ArgumentParser

/// `docket calendar ...`: business calendars (issue 3 fills this in).
struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calendar", abstract: "Business calendars.")
}
