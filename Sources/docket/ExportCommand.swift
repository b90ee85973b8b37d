import ArgumentParser
import EventLog
import Foundation

/// `docket export`: the log, or a range of it, as NDJSON envelopes or CloudEvents.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export events in position order as NDJSON envelopes or CloudEvents 1.0 JSON.",
        discussion: """
            ndjson: one envelope per line, exactly as `docket log read --all` prints it. cloudevents: one \
            CloudEvents 1.0 event per line in structured JSON mode: id, source (docket:<stream>), type \
            (docket.<event type>), subject (the stream), time, datacontenttype and data (the payload), \
            with the extension attributes docketposition, docketversion, docketschemaversion, dockethash \
            and docketactor. --from and --to are inclusive log positions. Reads in \
            short read transactions, so it works while the server appends; it stops at the head it saw \
            when it started (or --to). \
            Exit codes: 0 ok, 64 bad arguments, 66 no log in the data directory, 74 storage error.
            """)

    @OptionGroup var data: DataDirOptions
    @Option(help: ArgumentHelp("First log position to export (default 1).", valueName: "position")) var from: UInt64?
    @Option(help: ArgumentHelp("Last log position to export (default: the head at start).", valueName: "position")) var to: UInt64?
    @Option(help: "Output: ndjson (Docket envelopes) or cloudevents (CloudEvents 1.0 JSON, one per line).")
    var format: ExportFormat = .ndjson

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case ndjson, cloudevents
    }

    func validate() throws {
        if let from, from == 0 { throw ValidationError("--from is a log position, 1 or more") }
        if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from); give --to >= --from") }
    }

    func run() async throws {
        try await runReportingErrors {
            let log = try openLog(data, create: false)
            defer { log.close() }
            let end = min(to ?? UInt64.max, try log.head().position)
            var output = NDJSONOutput()
            let page: UInt64 = 4_096
            var position = max(1, from ?? 1)
            // A page per scan (one short read transaction); its lines are written out after the
            // transaction ends, so a slow reader of the output never holds one open.
            while position <= end {
                let through = end - position < page ? end : position + page - 1
                guard let last = try log.scan(from: position, through: through, chunk: Int(page), { record in
                    let e = record.decoded()
                    if format == .ndjson { output.writer.writeEnvelope(e) } else { output.writer.writeCloudEvent(e) }
                    output.writer.out.append(0x0A)
                }) else { break }
                try output.flush()
                position = last + 1
            }
            try output.flush()
        }
    }
}

/// The CloudEvents `source` of a stream: `docket:<stream>` with the stream percent-encoded
/// where it holds characters outside RFC 3986 unreserved, `:` and `@`.
func cloudEventSource(_ stream: String) -> String {
    "docket:" + (stream.addingPercentEncoding(withAllowedCharacters: cloudEventSourceAllowed) ?? stream)
}

/// RFC 3986 unreserved characters plus `:` and `@` (allowed in a URI path), ASCII only.
private let cloudEventSourceAllowed = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:@")
