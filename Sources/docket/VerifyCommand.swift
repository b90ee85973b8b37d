import ArgumentParser
import CaseDomain
import EventLog
import Foundation
import Projections
import Synchronization

/// Exit codes of `docket verify` and `docket log verify`, for `--help` and schemas/cli/verify.md.
let verifyExitCodes = """
    Exit codes: 0 the chain and every index agree with the log (and it extends --since); \
    1 a problem was found (the first bad position is named on stderr); 64 bad arguments; \
    65 a malformed --since digest; 66 no log in the data directory; 74 storage error.
    """

/// `docket verify`: the auditor's tamper check (R9.3).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain from the first event and check every index against the log.",
        discussion: """
            Prints the log digest (POSITION:HASH); keep it, and a later `docket verify --since POSITION:HASH` \
            proves the log still extends it. Works on a live log (short read transactions; it verifies up to \
            the head it saw at start) and on a `docket backup` copy. Progress bar on a TTY. \
            With --projections it also re-derives every projection from the log into a scratch table, up to \
            the live checkpoint, and reports the rows that differ from the live tables (R9.4); the live tables \
            are not changed. --format json prints the same findings as one JSON object. \
            \(verifyExitCodes)
            """)

    @OptionGroup var options: VerifyOptions
    @Flag(help: "Also re-derive every projection into scratch tables and report rows that differ from the live ones.")
    var projections = false
    @OptionGroup var catalog: CatalogOptions

    func run() async throws {
        try await runReportingErrors { try await runVerify(options, projections: projections ? catalog : nil) }
    }
}

/// The options of `docket verify` and `docket log verify`.
struct VerifyOptions: ParsableArguments {
    @OptionGroup var data: DataDirOptions
    @Option(help: ArgumentHelp("Also prove the log extends this earlier digest.", valueName: "position:hash"))
    var since: String?
    @Option(help: "Output: text or json.") var format: OutputFormat = .text
}

/// Verifies the log (and with `projections`, re-derives the projections with that catalog)
/// and prints the report; throws exit code 1 when a problem was found.
func runVerify(_ options: VerifyOptions, projections catalog: CatalogOptions? = nil) async throws {
    let (data, since, format) = (options.data, options.since, options.format)
    let digest = try since.map(parseDigest)
    let log = try openLog(data, create: false)
    defer { log.close() }
    var bar = ProgressBar(label: "verifying", total: try log.head().position)
    let started = Date()
    let report = try log.verify(expecting: digest) { done, _ in
        let rate = Double(done) / max(Date().timeIntervalSince(started), 0.001)
        bar.update(done, note: "\(done) events, \(Int(rate)) events/s")
    }
    bar.update(report.eventsChecked, force: true)
    bar.finish()
    var checks: [ProjectionCheck] = []
    if let catalog {
        do {
            let runner = try ProjectionRunner(log: log, projections: docketProjections(try catalog.load(log: log)), logger: cliLogger)
            for name in runner.names {
                let bar = Mutex(ProgressBar(label: "re-deriving \(name)", total: max(1, try log.head().position)))
                checks.append(try await runner.verifyRebuild(name) { done, _ in bar.withLock { $0.update(done) } })
                bar.withLock { $0.update($0.total, force: true); $0.finish() }
            }
        } catch let error as ProjectionError {
            throw CLIFailure(message: error.message, code: Exit.ioError)
        } catch let error as PolicyError {
            throw CLIFailure(message: error.description, code: Exit.dataError)
        }
    }
    let projectionsOK = checks.allSatisfy(\.ok)
    let seconds = Date().timeIntervalSince(started)
    let extends = digest.map { _ in !report.problems.contains { $0.kind == "digest" } }
    switch format {
    case .json:
        var object: [String: Any] = [
            "ok": report.ok && projectionsOK, "position": report.head.position, "hash": report.head.hash.hex,
            "eventsChecked": report.eventsChecked, "streamsChecked": report.streamsChecked,
            "problemCount": report.problemCount, "firstBadPosition": report.firstBadPosition.map { $0 as Any } ?? NSNull(),
            "problems": report.problems.map { p in
                ["position": p.position.map { $0 as Any } ?? NSNull(), "kind": p.kind, "message": p.message] as [String: Any]
            },
        ]
        if let extends, let digest {
            object["since"] = ["position": digest.position, "hash": digest.hash.hex, "extends": extends] as [String: Any]
        }
        if catalog != nil {
            object["projections"] = checks.map { c in
                ["projection": c.projection, "position": c.position, "rows": c.rows, "differenceCount": c.differenceCount,
                 "differences": c.differences.map { d in
                     ["key": d.key, "live": d.live.map { $0 as Any } ?? NSNull(), "rebuilt": d.rebuilt.map { $0 as Any } ?? NSNull()] as [String: Any]
                 }] as [String: Any]
            }
        }
        print(try jsonLine(object))
    case .text:
        if report.ok {
            print("ok: \(report.eventsChecked) events in \(report.streamsChecked) streams verified in \(String(format: "%.2f", seconds)) s")
        } else {
            for p in report.problems { print("problem: \(p)") }
            if report.problemCount > report.problems.count {
                print("... and \(report.problemCount - report.problems.count) more problems")
            }
            print("FAILED: \(report.problemCount) problem(s)" + (report.firstBadPosition.map { "; first bad position \($0)" } ?? ""))
        }
        for c in checks {
            if c.ok {
                print("projection \(c.projection): ok, \(c.rows) rows identical to a re-derivation at position \(c.position)")
            } else {
                print("projection \(c.projection): \(c.differenceCount) of \(c.rows) rows differ from a re-derivation at position \(c.position)")
                for d in c.differences {
                    print("  row \(d.key): live \(d.live ?? "(missing)"), re-derived \(d.rebuilt ?? "(missing)")")
                }
            }
        }
        if let extends, let digest {
            print(extends ? "extends: \(digest.position):\(digest.hash.hex)" : "does NOT extend: \(digest.position):\(digest.hash.hex)")
        }
        print("digest: \(report.head.position):\(report.head.hash.hex)")
    }
    if !projectionsOK && report.ok {
        if format == .text { printError("docket: verification failed: a projection differs from its re-derivation") }
        throw ExitCode(Exit.refused)
    }
    if !report.ok {
        if format == .text {
            let detail = report.firstBadPosition.map { " at position \($0)" } ?? (extends == false ? ": the log does not extend --since" : "")
            printError("docket: verification failed\(detail)")
        }
        throw ExitCode(Exit.refused)
    }
}
