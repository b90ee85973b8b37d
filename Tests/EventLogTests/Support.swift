import Foundation
import Logging
@testable import EventLog

/// A fresh temporary data directory.
func temporaryDataDir(_ name: String = #function) -> String {
    NSTemporaryDirectory() + "docket-eventlog-\(name.filter(\.isLetter))-\(UUID().uuidString)"
}

/// A logger that drops everything (tests assert on values, not logs).
let quietLogger: Logger = {
    var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// Opens a log in `dir` with a small initial map unless told otherwise.
func openLog(_ dir: String, configure: (inout EventLog.Configuration) -> Void = { _ in }) throws -> EventLog {
    var configuration = EventLog.Configuration()
    configure(&configuration)
    return try EventLog.open(directory: dir, configuration: configuration, logger: quietLogger)
}

/// An event with a JSON payload.
func event(_ type: String = "test-event", _ json: String = "{}", id: UUID = UUID()) -> NewEvent {
    NewEvent(id: id, type: type, actor: "tester", payload: Data(json.utf8))
}
