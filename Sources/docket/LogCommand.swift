import ArgumentParser
import EventLog
import Foundation

/// `docket log ...`: the append-only event log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Append to, read, verify and import the append-only event log.",
        discussion: "Every command prints JSON: one object per line for events, one object for a result. The log is an LMDB environment whose layout is part of Docket's documented open format, so other programs can read it without Docket.",
        subcommands: [Append.self, Read.self, Head.self, Verify.self, Import.self])
}

extension LogCommand {
    struct Append: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append one event to a stream.",
            discussion: """
                Prints one JSON object: {"duplicate","eventId","position","positions","stream","version"}.
                A refused append (version conflict, event id stored with other content) writes nothing, \
                prints a one-line reason on stderr and exits 1.
                """)

        @OptionGroup var data: DataDirOptions
        @Option(help: "Stream to append to, e.g. case-1042.") var stream: String
        @Option(help: "Event type, e.g. case-opened.") var type: String
        @Option(name: .customLong("data"), help: "The event's payload as JSON.") var payload: String
        @Option(help: ArgumentHelp("Expected stream version: a number, 'any' or 'no-stream'.", valueName: "version"))
        var expectedVersion: String = "any"
        @Option(help: "Event id (UUID); retrying with the same id and content appends nothing.") var eventId: String?
        @Option(help: "Who caused the event.") var actor: String = ""
        @Option(help: "Metadata as a JSON object.") var metadata: String = "{}"
        @Option(help: "Schema version of the payload.") var schemaVersion: UInt32 = 1

        func run() async throws {
            try await runReportingErrors {
                let expected = try parseExpectedVersion(expectedVersion)
                _ = try parseJSON(payload, what: "--data")
                guard try parseJSON(metadata, what: "--metadata") is [String: Any] else {
                    throw CLIFailure(message: "--metadata must be a JSON object, e.g. {\"channel\":\"portal\"}", code: Exit.dataError)
                }
                var id = UUID()
                if let eventId {
                    guard let parsed = UUID(uuidString: eventId) else {
                        throw CLIFailure(message: "--event-id \(eventId) is not a UUID (e.g. 9f1c0a3e-2b4d-4c6e-8f10-123456789abc)", code: Exit.dataError)
                    }
                    id = parsed
                }
                let log = try openLog(data, create: true)
                defer { log.close() }
                let event = NewEvent(id: id, type: type, schemaVersion: schemaVersion, actor: actor,
                                     metadata: Data(metadata.utf8), payload: Data(payload.utf8))
                let result = try await log.append(to: stream, expectedVersion: expected, events: [event])
                print(try jsonLine([
                    "stream": result.stream, "position": result.positions.last ?? 0, "positions": result.positions,
                    "version": result.version, "eventId": id.uuidString.lowercased(), "duplicate": result.duplicate,
                ] as [String: Any]))
            }
        }
    }

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as NDJSON, one envelope per line.",
            discussion: "Each line has every envelope field: position, stream, version, id, type, schemaVersion, recordedAt, actor, correlationId, causationId, metadata, payload and hash.")

        @OptionGroup var data: DataDirOptions
        @Option(help: "Read this stream.") var stream: String?
        @Flag(help: "Read the whole log in position order.") var all = false
        @Option(help: "First stream version (with --stream) or log position (with --all). Default: the start, or with --backward the end.")
        var from: UInt64?
        @Option(help: "At most this many events (default: all).") var limit: Int?
        @Flag(help: "With --stream: newest first.") var backward = false

        func validate() throws {
            if (stream == nil) == !all { throw ValidationError("give exactly one of --stream S or --all") }
            if backward && all { throw ValidationError("--backward reads a stream; use it with --stream") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        }

        func run() async throws {
            try await runReportingErrors {
                let log = try openLog(data, create: false)
                defer { log.close() }
                var remaining = limit ?? Int.max
                let page = 4_096
                let out = FileHandle.standardOutput
                if let stream {
                    var next: UInt64? = from ?? (backward ? UInt64.max : 0)
                    while remaining > 0, let cursor = next {
                        let events = try log.readStream(stream, from: cursor, direction: backward ? .backward : .forward,
                                                        limit: min(page, remaining))
                        if events.isEmpty { break }
                        for e in events { out.writeLine(envelopeJSON(e)) }
                        remaining -= events.count
                        let last = events[events.count - 1].version
                        next = backward ? (last == 0 ? nil : last - 1) : last + 1
                    }
                } else {
                    var position = max(1, from ?? 1)
                    // A page per scan (one short read transaction); its lines are written after
                    // the transaction ends, so a slow reader of the output never holds one open.
                    while remaining > 0 {
                        var events: [RecordedEvent] = []
                        let count = UInt64(min(page, remaining))
                        let through = UInt64.max - position < count ? UInt64.max : position + count - 1
                        guard let last = try log.scan(from: position, through: through, chunk: page, { events.append($0.decoded()) })
                        else { break }
                        for e in events { out.writeLine(envelopeJSON(e)) }
                        remaining -= events.count
                        if last == UInt64.max { break }
                        position = last + 1
                    }
                }
            }
        }
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log's head: {\"position\": N, \"hash\": \"<64 hex>\"}.",
            discussion: "Keep it as a digest: `docket log verify --since POSITION:HASH` proves a later log extends it.")

        @OptionGroup var data: DataDirOptions

        func run() async throws {
            try await runReportingErrors {
                let log = try openLog(data, create: false)
                defer { log.close() }
                let head = try log.head()
                print(try jsonLine(["position": head.position, "hash": head.hash.hex] as [String: Any]))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain and check every index against the log.",
            discussion: "Same as `docket verify`. Works on a live log (short read transactions). \(verifyExitCodes)")

        @OptionGroup var options: VerifyOptions

        func run() async throws {
            try await runReportingErrors { try await runVerify(options) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append events from an NDJSON file in large atomic batches.",
            discussion: """
                Each line: {"stream": "...", "type": "...", "data": {...}} with optional "id" (UUID), \
                "metadata" (object), "actor" and "schemaVersion". Each batch is appended atomically; a \
                malformed line is reported with its line number and nothing from its batch is appended \
                (earlier batches stay). Lines whose id is stored already with the same content are skipped, \
                so re-running an import with ids is safe. Shows a progress bar on a TTY.
                """)

        @OptionGroup var data: DataDirOptions
        @Argument(help: "The NDJSON file ('-' for standard input).") var file: String
        @Option(help: "Lines per atomic batch.") var batchSize: Int = 5_000

        func validate() throws {
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() async throws {
            try await runReportingErrors {
                let reader = try LineReader.open(file)
                let log = try openLog(data, create: true)
                defer { log.close() }
                var bar = ProgressBar(label: "importing", total: reader.totalBytes, enabled: stderrIsTTY && reader.totalBytes > 0)
                let started = Date()
                var appended = 0
                var duplicates = 0
                var lineNumber = 0
                var batch: [StreamAppend] = []
                var batchFirstLine = 1
                func flush() async throws {
                    guard !batch.isEmpty else { return }
                    do {
                        let results = try await log.append(batch)
                        for r in results {
                            if r.duplicate { duplicates += r.positions.count } else { appended += r.positions.count }
                        }
                    } catch let error as EventLogError {
                        throw CLIFailure(
                            message: "\(file): lines \(batchFirstLine)-\(lineNumber): batch refused, nothing from it appended (\(appended) events from earlier lines were): \(error.message)",
                            code: error.code == .storage ? Exit.ioError : Exit.refused)
                    }
                    batch.removeAll(keepingCapacity: true)
                    batchFirstLine = lineNumber + 1
                    let rate = Double(appended) / max(Date().timeIntervalSince(started), 0.001)
                    bar.update(reader.bytesRead, note: "\(appended) events, \(Int(rate)) events/s")
                }
                while let line = reader.next() {
                    lineNumber += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    do {
                        batch.append(try parseImportLine(line))
                    } catch let reason as ImportLineError {
                        bar.finish()
                        throw CLIFailure(
                            message: "\(file):\(lineNumber): \(reason.message); nothing from lines \(batchFirstLine)-\(lineNumber) was appended (\(appended) events from earlier lines were)",
                            code: Exit.dataError)
                    }
                    if batch.count >= batchSize { try await flush() }
                }
                try await flush()
                bar.update(reader.bytesRead, force: true)
                bar.finish()
                let head = try log.head()
                print(try jsonLine([
                    "appended": appended, "duplicates": duplicates, "lines": lineNumber,
                    "position": head.position, "hash": head.hash.hex,
                ] as [String: Any]))
            }
        }
    }
}

/// Output formats of commands that print a report.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Parses `any`, `no-stream` or a version number.
func parseExpectedVersion(_ text: String) throws -> ExpectedVersion {
    switch text {
    case "any": return .any
    case "no-stream": return .noStream
    default:
        guard let v = UInt64(text) else {
            throw CLIFailure(message: "--expected-version \(text) is not a version number, 'any' or 'no-stream'", code: Exit.dataError)
        }
        return .exact(v)
    }
}

/// Parses an auditor's digest `POSITION:HASH`.
func parseDigest(_ text: String) throws -> LogHead {
    let parts = text.split(separator: ":", maxSplits: 1)
    guard parts.count == 2, let position = UInt64(parts[0]), let hash = ChainHash(hex: String(parts[1])) else {
        throw CLIFailure(message: "digest \(text) is not POSITION:HASH (a number, a colon and 64 hex digits), as printed by `docket log head`", code: Exit.dataError)
    }
    return LogHead(position: position, hash: hash)
}

/// Why an import line was refused.
struct ImportLineError: Error {
    var message: String
}

/// Parses one NDJSON import line into a single-event stream append.
func parseImportLine(_ line: Data) throws(ImportLineError) -> StreamAppend {
    if case .duplicateKey(let steps) = JSONScanner.strictCheck(line) {
        throw ImportLineError(message: "\(JSONPathStep.path("$", steps)) is given twice; send each member of an object once")
    }
    guard let object = try? JSONSerialization.jsonObject(with: line) else {
        throw ImportLineError(message: "not a JSON object (malformed JSON)")
    }
    guard let dict = object as? [String: Any] else { throw ImportLineError(message: "expected a JSON object") }
    let known: Set<String> = ["stream", "type", "data", "id", "metadata", "actor", "schemaVersion"]
    if let unknown = dict.keys.first(where: { !known.contains($0) }) {
        throw ImportLineError(message: "unknown field \"\(unknown)\"; expected stream, type, data and optionally id, metadata, actor, schemaVersion")
    }
    guard let stream = dict["stream"] as? String, !stream.isEmpty else {
        throw ImportLineError(message: "\"stream\" must be a non-empty string")
    }
    guard let type = dict["type"] as? String, !type.isEmpty else {
        throw ImportLineError(message: "\"type\" must be a non-empty string")
    }
    guard let payload = dict["data"] else { throw ImportLineError(message: "\"data\" is missing") }
    var id = UUID()
    if let rawID = dict["id"] {
        guard let s = rawID as? String, let parsed = UUID(uuidString: s) else {
            throw ImportLineError(message: "\"id\" must be a UUID string")
        }
        id = parsed
    }
    var metadata = Data("{}".utf8)
    if let m = dict["metadata"] {
        guard m is [String: Any], let data = try? JSONSerialization.data(withJSONObject: m, options: [.sortedKeys]) else {
            throw ImportLineError(message: "\"metadata\" must be a JSON object")
        }
        metadata = data
    }
    var actor = ""
    if let a = dict["actor"] {
        guard let s = a as? String else { throw ImportLineError(message: "\"actor\" must be a string") }
        actor = s
    }
    var schemaVersion: UInt32 = 1
    if let v = dict["schemaVersion"] {
        guard let n = v as? NSNumber, let u = UInt32(exactly: n.doubleValue) else {
            throw ImportLineError(message: "\"schemaVersion\" must be a positive whole number")
        }
        schemaVersion = u
    }
    guard let payloadData = try? JSONSerialization.data(withJSONObject: payload, options: [.fragmentsAllowed, .sortedKeys]) else {
        throw ImportLineError(message: "\"data\" is not serialisable JSON")
    }
    let event = NewEvent(id: id, type: type, schemaVersion: schemaVersion, actor: actor, metadata: metadata, payload: payloadData)
    do {
        try EventLogInput.check(stream: stream, event: event)
    } catch {
        throw ImportLineError(message: error.message)
    }
    return StreamAppend(stream: stream, expectedVersion: .any, events: [event])
}

/// Reads a file line by line in 1 MiB chunks.
final class LineReader {
    let handle: FileHandle
    let totalBytes: UInt64
    private(set) var bytesRead: UInt64 = 0
    private var buffer = Data()
    private var eof = false

    init(handle: FileHandle, totalBytes: UInt64) {
        self.handle = handle
        self.totalBytes = totalBytes
    }

    /// Opens `file` ('-' for standard input), failing with exit 66 when it cannot be read.
    static func open(_ file: String) throws -> LineReader {
        if file == "-" { return LineReader(handle: .standardInput, totalBytes: 0) }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw CLIFailure(message: "cannot read \(file): no such file or not readable", code: Exit.noInput)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.uint64Value ?? 0
        return LineReader(handle: handle, totalBytes: size)
    }

    /// The next line without its newline, or `nil` at the end.
    func next() -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return Data(line)
            }
            if eof {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return Data(buffer)
            }
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { eof = true } else {
                bytesRead += UInt64(chunk.count)
                buffer.append(chunk)
            }
        }
    }
}

extension FileHandle {
    /// Writes `line` and a newline.
    func writeLine(_ line: String) {
        write(Data((line + "\n").utf8))
    }
}

/// A JSON string literal for `s`.
func jsonString(_ s: String) -> String {
    (try? jsonLine(s)) ?? "\"\""
}

/// Stored JSON bytes as NDJSON-safe text. Stored JSON is valid; whitespace newlines are the
/// only bytes that could break NDJSON (JSON strings cannot hold raw newlines), so dropping
/// them keeps the value intact.
func rawJSON(_ d: Data) -> String {
    String(decoding: d.filter { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
}

/// One envelope as a JSON object with a fixed key order (schemas/cli/log-event.schema.json).
func envelopeJSON(_ e: RecordedEvent) -> String {
    func optional(_ s: String?) -> String { s.map(jsonString) ?? "null" }
    return "{\"position\":\(e.position),\"stream\":\(jsonString(e.stream)),\"version\":\(e.version),"
        + "\"id\":\"\(e.id.lowercasedString)\",\"type\":\(jsonString(e.type)),\"schemaVersion\":\(e.schemaVersion),"
        + "\"recordedAt\":\"\(e.recordedAtISO8601)\",\"actor\":\(jsonString(e.actor)),"
        + "\"correlationId\":\(optional(e.correlationId)),\"causationId\":\(optional(e.causationId)),"
        + "\"metadata\":\(rawJSON(e.metadata)),\"payload\":\(rawJSON(e.payload)),\"hash\":\"\(e.hash.hex)\"}"
}
