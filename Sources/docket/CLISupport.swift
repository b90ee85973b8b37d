import ArgumentParser
import DocketJSON
import EventLog
import Foundation
import Logging

/// Options every command that touches the data directory takes.
struct DataDirOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Data directory holding the LMDB environment.",
        discussion: "Default: $DOCKET_DATA_DIR, or ./docket-data.", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Largest size the data file may grow to, e.g. 500G or 2T.",
        discussion: "Default: $DOCKET_MAX_MAP_SIZE, or 1T. The map grows on demand up to this size; an append beyond it fails and writes nothing.",
        valueName: "size"))
    var maxMapSize: String?

    /// The maximum map size in bytes.
    func resolvedMaxMapSize() throws -> Int {
        guard let text = maxMapSize ?? ProcessInfo.processInfo.environment["DOCKET_MAX_MAP_SIZE"], !text.isEmpty else {
            return 1 << 40
        }
        guard let bytes = parseByteSize(text), bytes >= 1 << 20 else {
            throw CLIFailure(message: "--max-map-size \(text) is not a size of at least 1M (use a number with K, M, G or T, e.g. 500G)", code: Exit.usage)
        }
        return bytes
    }

    /// The directory to use: the option, else $DOCKET_DATA_DIR, else ./docket-data.
    var resolved: String {
        if let dataDir, !dataDir.isEmpty { return dataDir }
        if let env = ProcessInfo.processInfo.environment["DOCKET_DATA_DIR"], !env.isEmpty { return env }
        return "./docket-data"
    }
}

/// Exit codes of the `docket` tool (schemas/cli.md).
enum Exit {
    /// The log refused the request (conflict, duplicate id) or verification found a problem.
    static let refused: Int32 = 1
    /// A malformed command line (sysexits EX_USAGE, as swift-argument-parser uses).
    static let usage: Int32 = 64
    /// Bad input data: malformed JSON, a malformed import line (sysexits EX_DATAERR).
    static let dataError: Int32 = 65
    /// A named file or data directory does not exist (EX_NOINPUT).
    static let noInput: Int32 = 66
    /// An output directory cannot be used, e.g. a backup target that is not empty (EX_CANTCREAT).
    static let cantCreate: Int32 = 73
    /// Storage failed (EX_IOERR).
    static let ioError: Int32 = 74
}

/// An error the CLI reports as one line on stderr, exiting with `code`.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    var description: String { message }
}

/// Writes `text` to stderr.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Runs `body`; on failure prints `docket: <reason>` on stderr and exits with its code.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        guard let known = knownFailure(error) else { throw error }
        printError("docket: \(known.message)")
        throw ExitCode(known.code)
    }
}

/// The message and exit status of a failure whose status the CLI knows: a ``CLIFailure``
/// (its own), an ``EventLogError`` (by its code); `nil` for any other error.
func knownFailure(_ error: any Error) -> (message: String, code: Int32)? {
    switch error {
    case let failure as CLIFailure:
        return (failure.message, failure.code)
    case let error as EventLogError:
        let code = switch error.code {
        case .wrongExpectedVersion, .duplicateEventId, .partialDuplicate: Exit.refused
        case .invalidInput: Exit.dataError
        case .notFound: Exit.noInput
        case .storage, .corrupt, .closed: Exit.ioError
        }
        return (error.message, code)
    default:
        return nil
    }
}

/// The CLI's logger: warnings and errors to stderr (override with DOCKET_LOG_LEVEL).
let cliLogger: Logger = {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        let level = ProcessInfo.processInfo.environment["DOCKET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        handler.logLevel = level ?? .warning
        return handler
    }
    return Logger(label: "docket")
}()

/// Opens the event log of a data directory.
func openLog(_ options: DataDirOptions, create: Bool) throws -> EventLog {
    var configuration = EventLog.Configuration()
    configuration.environment.maxMapSize = try options.resolvedMaxMapSize()
    return try EventLog.open(directory: options.resolved, configuration: configuration, create: create, logger: cliLogger)
}

/// Parses `123`, `64K`, `500M`, `2G`, `1T` (binary units) into bytes.
func parseByteSize(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
    var digits = text.uppercased()
    if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
    var shift = 0
    if let last = digits.last, let s = units[last] {
        shift = s
        digits.removeLast()
    }
    guard let n = Int(digits), n >= 0, n <= Int.max >> shift else { return nil }
    return n << shift
}

/// Whether stderr is a terminal (progress bars are drawn only then).
var stderrIsTTY: Bool { isatty(STDERR_FILENO) != 0 }

/// A one-line progress bar on stderr, drawn only on a TTY and at most 10 times a second.
struct ProgressBar {
    let label: String
    let total: UInt64
    let enabled: Bool
    let started = Date()
    var lastDraw = Date.distantPast

    init(label: String, total: UInt64, enabled: Bool = stderrIsTTY) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// Redraws with `done` of `total` and an optional note (e.g. a rate).
    mutating func update(_ done: UInt64, note: String = "", force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%% %@", label, bar, fraction * 100, note)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Ends the bar's line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// Encodes a JSON value with sorted keys (stable output for scripts), with DocketJSON's
/// writer: `object` is a ``JSONValue`` or built of strings, booleans, integers, doubles,
/// arrays, `[String: Any]` dictionaries and `NSNull`.
func jsonLine(_ object: Any) throws -> String {
    try jsonValue(object).jsonString
}

/// The ``JSONValue`` of a value built as ``jsonLine(_:)`` takes it.
func jsonValue(_ object: Any) throws -> JSONValue {
    switch object {
    case let v as JSONValue: return v
    case let s as String: return .string(s)
    case let b as Bool: return .bool(b)
    case let i as Int: return .int(Int64(i))
    case let i as Int64: return .int(i)
    case let i as Int32: return .int(Int64(i))
    case let u as UInt32: return .int(Int64(u))
    case let u as UInt64: return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
    case let u as UInt: return u <= UInt(Int64.max) ? .int(Int64(u)) : .double(Double(u))
    case let d as Double:
        guard d.isFinite else { throw CLIFailure(message: "cannot write \(d) as JSON (not a finite number)", code: Exit.dataError) }
        return .double(d)
    case is NSNull: return .null
    case let a as [Any]: return .array(try a.map(jsonValue))
    case let o as [String: Any]: return .object(try o.mapValues(jsonValue))
    default:
        throw CLIFailure(message: "cannot write a \(type(of: object)) as JSON", code: Exit.dataError)
    }
}

/// Parses `text` as JSON with DocketJSON's strict parser, or fails with a message naming `what`.
///
/// A member name given twice, at any depth, is refused with its JSON path; so is anything
/// the event log or the projections would refuse (a lone surrogate escape, invalid UTF-8).
func parseJSON(_ text: String, what: String) throws -> JSONValue {
    do {
        return try JSONValue.parse(Array(text.utf8), rejectingDuplicateKeys: true)
    } catch {
        if let path = error.duplicatePath {
            throw CLIFailure(message: "\(what): \(path) is given twice; send each member of an object once", code: Exit.dataError)
        }
        throw CLIFailure(message: "\(what) is not valid JSON (\(error.reason) at byte \(error.offset)): \(text.prefix(80))", code: Exit.dataError)
    }
}
