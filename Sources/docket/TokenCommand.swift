import ArgumentParser
import CaseDomain
import DocketHTTP
import EventLog
import Foundation

/// `docket token create|list|revoke`: bearer tokens of the HTTP API (JSON output).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke bearer tokens of the HTTP API (stored hashed, in the data directory).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; prints {\"token\": {...}, \"secret\": \"dkt_...\"}. The secret is shown only now.")

        @Option(help: "Principal kind: contact, staff, auditor, reporting-job or admin.")
        var kind: String

        @Option(help: "Principal id (contact, staff member, auditor, job or administrator).")
        var id: String

        @Option(help: "A contact's organisation.")
        var organisation: String?

        @Option(help: "A contact's access level: basic, read-only or designated. Optional: the organisation's contact list decides what a contact may do whenever it acts; when given, it must match the list.")
        var access: String?

        @Flag(help: "Expect the contact to hold incident-report access on the organisation's contact list (refused otherwise). The list decides whenever the contact acts.")
        var incidentReport = false

        @Option(help: "A staff member's tier or role: tier1, tier2, tier3, manager or operations.")
        var staffRole: String?

        @Option(help: "A note: who holds the token, what for.")
        var label: String?

        @OptionGroup var data: DataDirOptions

        func run() async throws {
            try await runReportingErrors {
                guard let kind = CallerKind(rawValue: kind) else {
                    throw CLIFailure(message: "--kind \(kind) is not one of \(CallerKind.allCases.map(\.rawValue).joined(separator: ", "))", code: Exit.usage)
                }
                let access = try access.map { text in
                    guard let level = ContactAccess(rawValue: text) else {
                        throw CLIFailure(message: "--access \(text) is not one of basic, read-only, designated", code: Exit.usage)
                    }
                    return level
                }
                let staffRole = try staffRole.map { text in
                    guard let role = StaffRole(rawValue: text) else {
                        throw CLIFailure(message: "--staff-role \(text) is not one of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))", code: Exit.usage)
                    }
                    return role
                }
                let caller = Caller(kind: kind, id: id, organisationId: organisation, access: access,
                                    incidentReport: incidentReport ? true : nil, staffRole: staffRole)
                do throws(CallerError) { _ = try caller.validated() } catch { throw CLIFailure(message: error.message, code: Exit.usage) }
                try await withTokenStore(data, create: true) { store in
                    let record: TokenRecord, secret: String
                    do {
                        (record, secret) = try await store.create(for: caller, label: label)
                    } catch let error as TokenStoreError where error.code == .notOnContactList {
                        throw CLIFailure(message: error.message, code: Exit.refused)
                    }
                    try printJSON(Created(token: record, secret: secret))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every token (never the secrets): {\"tokens\": [...]}.")
        @OptionGroup var data: DataDirOptions

        func run() async throws {
            try await runReportingErrors {
                try await withTokenStore(data, create: false) { store in try printJSON(Listed(tokens: try store.list())) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id; prints {\"token\": {...}}; exit 1 when there is no such token or it is the last valid admin token (create another admin token first).")
        @Argument(help: "The token id (tok_...).")
        var tokenID: String
        @OptionGroup var data: DataDirOptions

        func run() async throws {
            try await runReportingErrors {
                try await withTokenStore(data, create: false) { store in
                    let revoked: TokenRecord?
                    do {
                        revoked = try await store.revoke(id: tokenID)
                    } catch let error as TokenStoreError {
                        throw CLIFailure(message: error.message, code: Exit.refused)
                    }
                    guard let record = revoked else {
                        throw CLIFailure(message: "no token \(tokenID); docket token list shows them", code: Exit.refused)
                    }
                    try printJSON(One(token: record))
                }
            }
        }
    }

    struct Created: Encodable { var token: TokenRecord; var secret: String }
    struct Listed: Encodable { var tokens: [TokenRecord] }
    struct One: Encodable { var token: TokenRecord }
}

/// Runs `body` with the token store of the data directory's log, closing the log after.
private func withTokenStore(_ data: DataDirOptions, create: Bool, _ body: (TokenStore) async throws -> Void) async throws {
    let log = try openLog(data, create: create)
    defer { log.close() }
    try await body(try await TokenStore.open(log: log))
}
