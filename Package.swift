// swift-tools-version: 6.1
import PackageDescription

/// Docket: an event-sourced case-management backend for vendor support desks.
///
/// Target graph:
///   CLMDB → LMDB ──────────────┐
///   DocketJSON ─┬────────────→ EventLog ─┐
///               └→ CaseDomain ───────────┴→ Catalog (the policy catalog in force, read from the log)
///   Catalog → CommandHandling (the write side: authorization, decide, append)
///   Catalog → Projections (the read side; sends no commands) → Audit
///   CommandHandling → Scheduling (the deadline scheduler: follows the log, sends commands)
///   all of the above → DocketHTTP → docket (executable)
///
/// DocketJSON (no dependencies) is the one JSON parser and writer and the one `JSONValue`:
/// every target that reads or writes JSON goes through it.
let package = Package(
    name: "Docket",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "docket", targets: ["docket"]),
        .executable(name: "docket-stress", targets: ["docket-stress"]),
        .library(name: "DocketJSON", targets: ["DocketJSON"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "CaseDomain", targets: ["CaseDomain"]),
        .library(name: "Catalog", targets: ["Catalog"]),
        .library(name: "CommandHandling", targets: ["CommandHandling"]),
        .library(name: "Scheduling", targets: ["Scheduling"]),
        .library(name: "Projections", targets: ["Projections"]),
        .library(name: "Audit", targets: ["Audit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "LMDB",
            dependencies: ["CLMDB"]
        ),
        .target(name: "DocketJSON"),
        .target(
            name: "EventLog",
            dependencies: [
                "LMDB",
                "DocketJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CaseDomain", dependencies: ["DocketJSON"]),
        .target(
            name: "Catalog",
            dependencies: ["EventLog", "CaseDomain", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "CommandHandling",
            dependencies: ["EventLog", "CaseDomain", "Catalog", "DocketJSON", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Projections",
            dependencies: ["EventLog", "LMDB", "DocketJSON", "CaseDomain", "Catalog", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Scheduling",
            dependencies: ["EventLog", "CaseDomain", "Catalog", "CommandHandling", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Audit",
            dependencies: ["EventLog", "LMDB", "DocketJSON", "CaseDomain", "Projections", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DocketHTTP",
            dependencies: [
                "EventLog",
                "LMDB",
                "DocketJSON",
                "CaseDomain",
                "Catalog",
                "CommandHandling",
                "Projections",
                "Scheduling",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // The connection guard (ConnectionGuard.swift) sits in NIO's HTTP/1 pipeline.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "docket",
            dependencies: [
                "DocketHTTP",
                "DocketJSON",
                "EventLog",
                "CaseDomain",
                "Catalog",
                "CommandHandling",
                "Projections",
                "Scheduling",
                "Audit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "docket-stress",
            dependencies: [
                "DocketJSON",
                "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "DocketJSONTests", dependencies: ["DocketJSON"]),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "LMDB", "DocketJSON", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "CaseDomainTests", dependencies: ["CaseDomain", "DocketJSON"]),
        .testTarget(
            name: "CommandHandlingTests",
            dependencies: ["CommandHandling", "EventLog", "CaseDomain", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: ["Projections", "Catalog", "CommandHandling", "Scheduling", "EventLog", "LMDB", "CaseDomain",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SchedulingTests",
            dependencies: ["Scheduling", "Catalog", "CommandHandling", "EventLog", "CaseDomain", "Projections",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit", "Projections", "Catalog", "CommandHandling", "EventLog", "CaseDomain",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "DocketHTTPTests",
            dependencies: [
                "DocketHTTP", "DocketJSON", "EventLog", "LMDB", "CaseDomain", "Catalog", "CommandHandling", "Projections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DocketCLITests",
            dependencies: ["docket", "docket-stress", "DocketJSON", "EventLog", "LMDB", "Projections", "CaseDomain",
                           .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
