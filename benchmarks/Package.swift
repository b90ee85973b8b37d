// swift-tools-version: 6.1
import PackageDescription

/// Docket's benchmarks: a release-mode executable that measures throughput and latency
/// and reports each figure next to a baseline measured in the same run (the machine is
/// shared and noisy, so ratios are what we compare). Run: `swift run -c release docket-bench`.
let package = Package(
    name: "DocketBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Docket", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "docket-bench",
            dependencies: [
                .product(name: "EventLog", package: "Docket"),
                .product(name: "CaseDomain", package: "Docket"),
                .product(name: "CommandHandling", package: "Docket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
