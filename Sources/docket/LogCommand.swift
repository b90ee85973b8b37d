import ArgumentParser
import DocketJSON
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
                guard case .object = try parseJSON(metadata, what: "--metadata") else {
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
                var output = NDJSONOutput()
                defer { try? output.flush() }  // what was read before an error is still printed
                if let stream {
                    var next: UInt64? = from ?? (backward ? UInt64.max : 0)
                    while remaining > 0, let cursor = next {
                        let events = try log.readStream(stream, from: cursor, direction: backward ? .backward : .forward,
                                                        limit: min(page, remaining))
                        if events.isEmpty { break }
                        for e in events {
                            output.writer.writeEnvelope(e)
                            try output.endLine()
                        }
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
                        for e in events {
                            output.writer.writeEnvelope(e)
                            try output.endLine()
                        }
                        remaining -= events.count
                        if last == UInt64.max { break }
                        position = last + 1
                    }
                }
                try output.flush()
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

/// Parses one NDJSON import line into a single-event stream append, with DocketJSON's strict
/// parser (the same rules the log and the projections apply). `data` and `metadata` are
/// stored in canonical form: compact, keys sorted (as they always were).
func parseImportLine(_ line: ArraySlice<UInt8>) throws(ImportLineError) -> StreamAppend {
    let parsed: Result<StreamAppend, ImportLineError> = line.withUnsafeBytes { bytes in
        do throws(ImportLineError) {
            return .success(try parseImportLine(bytes))
        } catch {
            return .failure(error)
        }
    }
    return try parsed.get()
}

private let importFields: Set<String> = ["stream", "type", "data", "id", "metadata", "actor", "schemaVersion"]

private func parseImportLine(_ bytes: UnsafeRawBufferPointer) throws(ImportLineError) -> StreamAppend {
    let tape: JSONTape
    do {
        tape = try JSONTape.parse(bytes, rejectingDuplicateKeys: true)
    } catch {
        if let path = error.duplicatePath {
            throw ImportLineError(message: "\(path) is given twice; send each member of an object once")
        }
        throw ImportLineError(message: "not a JSON object (malformed JSON: \(error.reason) at byte \(error.offset))")
    }
    let root = tape.tokens[0]
    guard root.kind == .object else { throw ImportLineError(message: "expected a JSON object") }
    var stream: String?, type: String?, payload: Int?, idToken: Int?, metadataToken: Int?, actorToken: Int?, versionToken: Int?
    var k = 1
    for _ in 0..<root.count {
        let name = tape.string(tape.tokens[k], in: bytes)
        let value = k + 1
        let t = tape.tokens[value]
        let text = t.kind == .string || t.kind == .escapedString ? tape.string(t, in: bytes) : nil
        switch name {
        case "stream": stream = text ?? ""
        case "type": type = text ?? ""
        case "data": payload = value
        case "id": idToken = value
        case "metadata": metadataToken = value
        case "actor": actorToken = value
        case "schemaVersion": versionToken = value
        default:
            throw ImportLineError(message: "unknown field \(JSONPath.string("$", [.key(name)])); expected stream, type, data and optionally id, metadata, actor, schemaVersion")
        }
        k = Int(tape.tokens[value].next)
    }
    guard let stream, !stream.isEmpty else { throw ImportLineError(message: "\"stream\" must be a non-empty string") }
    guard let type, !type.isEmpty else { throw ImportLineError(message: "\"type\" must be a non-empty string") }
    guard let payload else { throw ImportLineError(message: "\"data\" is missing") }
    var id = UUID()
    if let idToken {
        let t = tape.tokens[idToken]
        guard t.kind == .string, let parsed = UUID(uuidString: tape.string(t, in: bytes)) else {
            throw ImportLineError(message: "\"id\" must be a UUID string")
        }
        id = parsed
    }
    var metadata = Data("{}".utf8)
    if let metadataToken {
        guard tape.tokens[metadataToken].kind == .object else { throw ImportLineError(message: "\"metadata\" must be a JSON object") }
        var w = JSONWriter(capacity: 64)
        tape.writeCanonical(at: metadataToken, bytes: bytes, to: &w)
        metadata = Data(w.out)
    }
    var actor = ""
    if let actorToken {
        let t = tape.tokens[actorToken]
        guard t.kind == .string || t.kind == .escapedString else { throw ImportLineError(message: "\"actor\" must be a string") }
        actor = tape.string(t, in: bytes)
    }
    var schemaVersion: UInt32 = 1
    if let versionToken {
        let t = tape.tokens[versionToken]
        guard t.kind == .number, case let number = tape.number(t, in: bytes),
              let u = { () -> UInt32? in
                  switch number {
                  case .int(let i): return UInt32(exactly: i)
                  case .double(let d): return UInt32(exactly: d)
                  default: return nil
                  }
              }() else {
            throw ImportLineError(message: "\"schemaVersion\" must be a positive whole number")
        }
        schemaVersion = u
    }
    var w = JSONWriter(capacity: bytes.count)
    tape.writeCanonical(at: payload, bytes: bytes, to: &w)
    let event = NewEvent(id: id, type: type, schemaVersion: schemaVersion, actor: actor, metadata: metadata, payload: Data(w.out))
    do {
        try EventLogInput.check(stream: stream, event: event)
    } catch {
        throw ImportLineError(message: error.message)
    }
    return StreamAppend(stream: stream, expectedVersion: .any, events: [event])
}

/// Reads a file line by line in 1 MiB chunks.
///
/// Linear in the input: lines are slices of one buffer, found by an index that moves
/// forward; the consumed front is dropped only when a new chunk is read (one move of the
/// unread tail per 1 MiB, not one per line).
final class LineReader {
    let handle: FileHandle
    let totalBytes: UInt64
    private(set) var bytesRead: UInt64 = 0
    private var buffer: [UInt8] = []
    /// Where the next line starts in ``buffer``.
    private var start = 0
    /// Where to continue looking for a newline (bytes before it hold none).
    private var scanned = 0
    private var eof = false
    static let chunk = 1 << 20

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

    /// The next line without its newline, or `nil` at the end. The slice shares the reader's
    /// buffer: let it go before asking for the next line (else the buffer is copied).
    func next() -> ArraySlice<UInt8>? {
        while true {
            let newline: Int? = buffer.withUnsafeBytes { b in
                guard let base = b.baseAddress, scanned < b.count else { return nil }
                guard let hit = memchr(base + scanned, 0x0A, b.count - scanned) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if let newline {
                let line = buffer[start..<newline]
                start = newline + 1
                scanned = start
                return line
            }
            scanned = buffer.count
            if eof {
                guard start < buffer.count else { return nil }
                let line = buffer[start..<buffer.count]
                start = buffer.count
                return line
            }
            let chunk = handle.readData(ofLength: Self.chunk)
            if chunk.isEmpty {
                eof = true
            } else {
                bytesRead += UInt64(chunk.count)
                if start > 0 {
                    // Compact: once per chunk read, move the unread tail to the front.
                    buffer.removeSubrange(0..<start)
                    scanned -= start
                    start = 0
                }
                buffer.append(contentsOf: chunk)
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
