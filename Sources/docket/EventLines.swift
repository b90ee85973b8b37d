import CaseDomain
import DocketJSON
import EventLog
import Foundation

// The one place where `docket log read` and `docket export` write an event as a JSON line:
// straight into a byte buffer with DocketJSON's writer (no `String` per field, no Foundation
// serialization), flushed to stdout in large chunks.

extension JSONWriter {
    /// Appends one envelope as a JSON object with a fixed key order
    /// (schemas/cli/log-event.schema.json), without a newline.
    mutating func writeEnvelope(_ e: RecordedEvent) {
        append("{\"position\":")
        writeUnsigned(e.position)
        append(",\"stream\":")
        writeString(e.stream)
        append(",\"version\":")
        writeUnsigned(e.version)
        append(",\"id\":")
        writeUUID(e.id)
        append(",\"type\":")
        writeString(e.type)
        append(",\"schemaVersion\":")
        writeUnsigned(UInt64(e.schemaVersion))
        append(",\"recordedAt\":\"")
        writeMicros(e.recordedAtMicros)
        append("\",\"actor\":")
        writeString(e.actor)
        append(",\"correlationId\":")
        if let c = e.correlationId { writeString(c) } else { writeNull() }
        append(",\"causationId\":")
        if let c = e.causationId { writeString(c) } else { writeNull() }
        append(",\"metadata\":")
        writeStoredJSON(e.metadata)
        append(",\"payload\":")
        writeStoredJSON(e.payload)
        append(",\"hash\":\"")
        writeHex(e.hash.bytes)
        append("\"}")
    }

    /// Appends one event as a CloudEvents 1.0 structured-mode JSON object
    /// (schemas/cli/export.md), without a newline.
    ///
    /// Extension attributes carry what CloudEvents has no attribute for. Position and stream
    /// version are strings: CloudEvents' Integer type is 32-bit, Docket's positions are 64-bit.
    mutating func writeCloudEvent(_ e: RecordedEvent) {
        append("{\"specversion\":\"1.0\",\"id\":")
        writeUUID(e.id)
        append(",\"source\":")
        writeString(cloudEventSource(e.stream))
        append(",\"type\":")
        writeString("docket." + e.type)
        append(",\"subject\":")
        writeString(e.stream)
        append(",\"time\":\"")
        writeMicros(e.recordedAtMicros)
        append("\",\"datacontenttype\":\"application/json\",\"docketposition\":\"")
        writeUnsigned(e.position)
        append("\",\"docketversion\":\"")
        writeUnsigned(e.version)
        append("\",\"docketschemaversion\":")
        writeUnsigned(UInt64(e.schemaVersion))
        append(",\"dockethash\":\"")
        writeHex(e.hash.bytes)
        append("\",\"docketactor\":")
        writeString(e.actor)
        append(",")
        if let c = e.correlationId {
            append("\"docketcorrelationid\":")
            writeString(c)
            append(",")
        }
        if let c = e.causationId {
            append("\"docketcausationid\":")
            writeString(c)
            append(",")
        }
        append("\"data\":")
        writeStoredJSON(e.payload)
        append("}")
    }

    /// Stored JSON (valid: the log checked it on append) on one NDJSON line: line feeds and
    /// carriage returns can only be whitespace there, and are dropped.
    mutating func writeStoredJSON(_ d: Data) {
        d.withUnsafeBytes { JSONText.appendOnOneLine($0, to: &out) }
    }

    /// Lowercase hex of `bytes`.
    mutating func writeHex(_ bytes: [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
            for b in bytes {
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0xF)])
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` of microseconds since the epoch (``formatMicros(_:)``'s
    /// text, without a `String` or `gmtime`).
    mutating func writeMicros(_ micros: Int64) {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = CivilDate(dayNumber: Int(days))
        guard (0...9999).contains(date.year) else {
            out.append(contentsOf: formatMicros(micros).utf8)
            return
        }
        writeZeroPadded(date.year, width: 4)
        out.append(UInt8(ascii: "-"))
        writeZeroPadded(date.month, width: 2)
        out.append(UInt8(ascii: "-"))
        writeZeroPadded(date.day, width: 2)
        out.append(UInt8(ascii: "T"))
        writeZeroPadded(secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        writeZeroPadded(secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        writeZeroPadded(secondOfDay % 60, width: 2)
        out.append(UInt8(ascii: "."))
        writeZeroPadded(fraction, width: 6)
        out.append(UInt8(ascii: "Z"))
    }
}

/// NDJSON lines collected in one buffer and written to a file descriptor (stdout) in chunks
/// of about 1 MiB: one `write(2)` per thousands of events.
struct NDJSONOutput {
    /// The lines not yet written.
    var writer = JSONWriter(capacity: NDJSONOutput.chunk + 64 * 1024)
    let descriptor: Int32
    static let chunk = 1 << 20

    init(descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
    }

    /// Ends the current line; writes the buffer out once it holds a chunk.
    mutating func endLine() throws {
        writer.out.append(0x0A)
        if writer.out.count >= Self.chunk { try flush() }
    }

    /// Writes out what the buffer holds.
    mutating func flush() throws {
        var done = 0
        let total = writer.out.count
        try writer.out.withUnsafeBytes { bytes in
            while done < total {
                guard let base = bytes.baseAddress else { return }
                let n = write(descriptor, base + done, total - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CLIFailure(message: "cannot write the output: \(String(cString: strerror(errno)))", code: Exit.ioError)
                }
                done += n
            }
        }
        writer.out.removeAll(keepingCapacity: true)
    }
}
