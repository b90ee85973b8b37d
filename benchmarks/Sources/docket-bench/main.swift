import Foundation

/// Every suite; each area of Docket registers its own (files `*Bench.swift`).
let suites: [BenchSuite] = allSuites()

let filter = CommandLine.arguments.dropFirst().first
print("Docket benchmarks (release build; best of several runs; ratios are against baselines measured in this run)")
for suite in suites where filter == nil || suite.name.contains(filter ?? "") {
    print("\n== \(suite.name)")
    do {
        try await suite.run()
    } catch {
        print("  suite failed: \(error)")
    }
}
