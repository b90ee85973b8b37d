import ArgumentParser
import CaseDomain
import CommandHandling
import EventLog
import Foundation

/// `docket import commands.ndjson`: runs a history of commands through the same decide path
/// as the HTTP endpoint (migrations from another helpdesk).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Run commands from an NDJSON file through the command handler, as if sent at their times.",
        discussion: """
            Each line: a command envelope as POST /v1/commands takes it ({"commandId","type","streamId",\
            "expectedVersion"?,"payload"}) plus "at" (ISO 8601, the decision's time) and "actor" (a \
            principal: {"id","role","organisationID"?,"access"?,"staffRole"?,"channel"?}). \
            Times must not go backwards. The whole file is checked first: a malformed line or a time \
            going backwards is reported with its line number and nothing is appended (exit 65). Then \
            commands run in order, one atomic append each; the first one refused is reported with its line \
            number, nothing of it is appended, the lines before it stay applied, and the import stops \
            (exit 1). Fix the line and re-run the same file: commands already applied are recognised by \
            their commandId and append nothing again. Time-driven events (breaches, auto-close) are not \
            fired between commands yet: the deadline scheduler has not landed (schemas/cli/import.md). \
            Exit codes: 0 ok, 1 a command was refused, 65 malformed file, 66 no such file, 74 storage error.
            """)

    @OptionGroup var data: DataDirOptions
    @Argument(help: "The NDJSON file of commands ('-' for standard input).") var file: String

    func run() async throws {
        try await runReportingErrors {
            let reader = try LineReader.open(file)
            // Check every line before applying any.
            var commands: [ImportedCommand] = []
            var lineNumber = 0
            while let line = reader.next() {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do throws(ImportLineError) {
                    let command = try parseCommandLine(line, number: lineNumber)
                    if let last = commands.last, command.at < last.at {
                        throw ImportLineError(message: "\"at\" \(DomainTime.format(command.at)) is before line \(last.line)'s \(DomainTime.format(last.at)); times must not go backwards")
                    }
                    commands.append(command)
                } catch {
                    throw CLIFailure(message: "\(file):\(lineNumber): \(error.message); nothing was appended (the file is checked before any command runs)",
                                     code: Exit.dataError)
                }
            }
            let log = try openLog(data, create: true)
            defer { log.close() }
            let handler = CommandHandler(log: log, catalog: try auditing { try PolicyCatalog.shipped() }, logger: cliLogger)
            var bar = ProgressBar(label: "importing", total: UInt64(commands.count))
            var applied = 0, duplicates = 0, events = 0
            for (index, command) in commands.enumerated() {
                do throws(CommandError) {
                    let outcome = try await handler.handle(command.envelope, actor: command.actor, at: command.at)
                    if outcome.duplicate { duplicates += 1 } else { applied += 1; events += outcome.events.count }
                } catch {
                    bar.finish()
                    let done = "lines before it stay applied (\(applied) commands, \(events) events appended; \(duplicates) already applied before)"
                    throw CLIFailure(
                        message: "\(file):\(command.line): \(command.envelope.type) on \(command.envelope.streamId) refused (\(error.code.rawValue)"
                            + (error.domain.map { ", \($0.rule)" } ?? "") + "): \(error.message); nothing of it was appended; \(done); "
                            + "fix the line and re-run: applied commandIds are skipped",
                        code: error.code == .storage ? Exit.ioError : Exit.refused)
                }
                bar.update(UInt64(index + 1), note: "\(index + 1) commands")
            }
            bar.update(UInt64(commands.count), force: true)
            bar.finish()
            let head = try log.head()
            print(try jsonLine([
                "lines": lineNumber, "commands": commands.count, "applied": applied, "duplicates": duplicates,
                "events": events, "position": head.position, "hash": head.hash.hex,
            ] as [String: Any]))
        }
    }
}

/// One line of a command import.
struct ImportedCommand {
    /// Its line number.
    var line: Int
    /// The command as the HTTP endpoint takes it.
    var envelope: CommandEnvelope
    /// Who sends it.
    var actor: Principal
    /// When it is decided.
    var at: Date
}

/// Parses one NDJSON line of `docket import`.
func parseCommandLine(_ line: Data, number: Int) throws(ImportLineError) -> ImportedCommand {
    guard let object = try? JSONSerialization.jsonObject(with: line), let dict = object as? [String: Any] else {
        throw ImportLineError(message: "not a JSON object (malformed JSON)")
    }
    let envelope: CommandEnvelope
    do {
        envelope = try CommandEnvelope.parse(object: dict, extraKeys: ["at", "actor"])
    } catch {
        throw ImportLineError(message: (error.path.map { "\($0): " } ?? "") + error.message)
    }
    guard let atText = dict["at"] as? String, let at = parseInstant(atText) else {
        throw ImportLineError(message: "$.at: must be an ISO 8601 instant such as 2026-03-02T09:00:00Z")
    }
    guard let actorObject = dict["actor"] as? [String: Any],
          let actorData = try? JSONSerialization.data(withJSONObject: actorObject) else {
        throw ImportLineError(message: "$.actor: must be a principal object such as {\"id\":\"s1\",\"role\":\"staff\",\"staffRole\":\"tier1\"}")
    }
    let actor: Principal
    do {
        actor = try JSONDecoder().decode(Principal.self, from: actorData)
    } catch {
        throw ImportLineError(message: "$.actor: not a principal ({id, role: contact|staff|auditor|reporting-job|system, organisationID?, access?, staffRole?, channel?}): \(decodingReason(error))")
    }
    return ImportedCommand(line: number, envelope: envelope, actor: actor, at: at)
}

/// A one-line reason from a `DecodingError`.
private func decodingReason(_ error: any Error) -> String {
    switch error as? DecodingError {
    case .dataCorrupted(let c)?, .typeMismatch(_, let c)?, .valueNotFound(_, let c)?:
        return (c.codingPath.map(\.stringValue).joined(separator: ".").nilIfEmpty.map { "\($0): " } ?? "") + c.debugDescription
    case .keyNotFound(let key, _)?:
        return "missing \(key.stringValue)"
    default:
        return "\(error)"
    }
}

extension String {
    /// `nil` for the empty string.
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
