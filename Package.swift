// swift-tools-version:6.0
import PackageDescription

// Layering (dependencies point one way):
//   C modules -> KMeshSupport / SigV4 -> HTTPTransport -> AWS, Kuma -> (reconcilers, CLIs)
// Everything that ships imports FoundationEssentials, never Foundation: full Foundation drags in
// ICU (32 MiB) and a GLIBC_2.35 floor that Lambda's provided.al2023 does not have.
let package = Package(
    name: "kmesh-ecs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AWS", targets: ["AWS"]),
        .library(name: "Kuma", targets: ["Kuma"]),
        .executable(name: "reconcile-tokens", targets: ["reconcile-tokens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries, found through pkg-config. The Lambda build points PKG_CONFIG_PATH at
        // .pc files for static, minimal builds of the same libraries; nothing else changes.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        .target(
            name: "KMeshSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log")
            ]),
        .target(name: "SigV4", dependencies: ["COpenSSL", "KMeshSupport"]),
        .target(
            name: "HTTPTransport",
            dependencies: [
                "CCurl", "KMeshSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "AWS",
            dependencies: [
                "SigV4", "HTTPTransport", "KMeshSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Kuma",
            dependencies: [
                "HTTPTransport", "KMeshSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Pure planning: no I/O, no clock, no logging.
        .target(name: "ReconcileCore", dependencies: ["KMeshSupport"]),
        // Read current state, plan, log, apply.
        .target(
            name: "Reconcilers",
            dependencies: [
                "ReconcileCore", "AWS", "Kuma", "SigV4", "KMeshSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The custom-runtime loop over a small Runtime API protocol.
        .target(
            name: "LambdaRuntime",
            dependencies: [
                "HTTPTransport", "KMeshSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        // Options, configuration from flags and environment, wiring; the Lambda handler.
        .target(
            name: "TokensCLI",
            dependencies: [
                "Reconcilers", "AWS", "Kuma", "HTTPTransport", "KMeshSupport", "LambdaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // glibc shims, active only in the Lambda build (lambda/package.sh).
        .target(name: "CCompat"),
        .executableTarget(name: "reconcile-tokens", dependencies: ["TokensCLI", "CCompat"]),

        // Tests. TestSupport starts the loopback peers (moto, the Kuma stand-in, the fault proxy,
        // the credential-endpoint stand-in) as child processes and stops them by PID.
        .target(
            name: "TestSupport",
            dependencies: [
                "KMeshSupport", "HTTPTransport", "AWS", "Kuma", .product(name: "Logging", package: "swift-log"),
            ], path: "Tests/TestSupport"),
        .testTarget(
            name: "SigV4Tests", dependencies: ["SigV4"],
            resources: [.copy("Vectors")]),
        .testTarget(name: "KMeshSupportTests", dependencies: ["KMeshSupport"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "TestSupport"]),
        .testTarget(name: "KumaTests", dependencies: ["Kuma", "TestSupport"]),
        .testTarget(name: "ReconcileCoreTests", dependencies: ["ReconcileCore"]),
        .testTarget(name: "TokensCLITests", dependencies: ["TokensCLI", "Reconcilers", "KMeshSupport", "LambdaRuntime", "TestSupport"]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "TestSupport"]),

        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "ReconcileCore", "Kuma", "AWS", "KMeshSupport"]),
    ]
)
