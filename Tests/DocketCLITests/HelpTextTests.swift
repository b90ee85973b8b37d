import Foundation
import Testing

/// Help texts are read by people who have the binary, not the source tree: they must stand
/// on their own.
@Suite struct HelpTextTests {
    /// The subcommand names a help text lists under SUBCOMMANDS.
    static func subcommands(_ help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n").compactMap { line in
            // "  name   abstract": a name indented by exactly two spaces; continuation lines are indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "See" }
    }

    @Test("every command's --help stands alone: no repository paths, no schema files it would have to open")
    func helpTextsCiteNoRepositoryFiles() throws {
        var pending: [[String]] = [[]]
        var visited = 0
        while let path = pending.popLast() {
            let help = try docket(path + ["--help"])
            #expect(help.status == 0, "docket \(path.joined(separator: " ")) --help failed")
            visited += 1
            for pattern in ["schemas/", "Sources/", "Tests/", ".schema.json", ".md", "DOMAIN", "DESIGN"] {
                #expect(!help.stdout.contains(pattern),
                        "docket \(path.joined(separator: " ")) --help cites \(pattern):\n\(help.stdout)")
            }
            pending += Self.subcommands(help.stdout).map { path + [$0] }
        }
        // The walk reached the whole tree (serve, token, log ×5, calendar, sla, report ×5, ...).
        #expect(visited >= 25)
    }
}
