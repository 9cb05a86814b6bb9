// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "visage",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "visage", targets: ["visage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "VisageCore",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        .target(
            name: "COpenVINO",
            linkerSettings: [.linkedLibrary("openvino_c")]
        ),
        .target(
            name: "CDlib",
            // dlib's network code is templates; unoptimised it is tens of times slower, and the
            // test build is a debug build.
            cxxSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("dlib"), .linkedLibrary("blas"), .linkedLibrary("lapack")]
        ),
        .target(
            name: "CIsal",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("isal")]
        ),
        .target(name: "CLinux"),
        .target(
            name: "CSM3",
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        .target(
            name: "CFaiss",
            cxxSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("faiss"), .linkedLibrary("gomp"), .linkedLibrary("blas"), .linkedLibrary("lapack")]
        ),
        .target(
            name: "VisageVision",
            dependencies: ["VisageCore", "CVips", "COpenVINO", "CDlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "VisageStore",
            dependencies: [
                "VisageCore", "CFaiss", "CIsal", "CLinux",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VisageSigning",
            dependencies: ["VisageCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "VisageS3Blobs",
            dependencies: [
                "VisageCore", "VisageStore", "VisageSigning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VisageAccess",
            dependencies: [
                "VisageCore", "VisageStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VisageJobs",
            dependencies: [
                "VisageCore", "VisageStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VisageMedia",
            dependencies: ["VisageCore", "VisageStore", "VisageVision", "VisageAccess", "VisageJobs",
                           .product(name: "SQLKit", package: "sql-kit"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: strict
        ),
        .target(
            name: "VisageServer",
            dependencies: [
                "VisageCore", "VisageStore", "VisageAccess", "VisageJobs", "VisageVision", "VisageMedia", "VisageSigning",
                "VisageS3Blobs", "CIsal", "CSM3", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("WebUI/static")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "visage",
            dependencies: [
                "VisageCore", "VisageStore", "VisageAccess", "VisageJobs", "VisageServer", "VisageVision", "VisageMedia",
                "VisageS3Blobs", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Fuzz targets for the request parsers (Benchmarks/fuzz): a mutation driver in every build,
        // libFuzzer's entry point when built with -sanitize=fuzzer -DFUZZING.
        .executableTarget(
            name: "visage-fuzz",
            dependencies: ["VisageCore", "VisageStore", "VisageAccess", "VisageServer", "VisageVision", "VisageMedia"],
            swiftSettings: strict
        ),
        .target(
            name: "VisageTestSupport",
            dependencies: ["VisageStore", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/Support",
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageStoreTests",
            dependencies: ["VisageCore", "VisageStore", "VisageTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageVisionTests",
            dependencies: ["VisageCore", "VisageVision"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageAccessTests",
            dependencies: ["VisageCore", "VisageStore", "VisageAccess", "VisageTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageMediaTests",
            dependencies: ["VisageCore", "VisageStore", "VisageJobs", "VisageMedia", "VisageTestSupport",
                           .product(name: "SQLKit", package: "sql-kit"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageJobsTests",
            dependencies: ["VisageCore", "VisageStore", "VisageJobs", "VisageTestSupport",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VisageServerTests",
            dependencies: [
                "VisageServer", "VisageStore", "VisageAccess", "VisageSigning", "VisageTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ],
    cxxLanguageStandard: .cxx17
)
