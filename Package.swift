// swift-tools-version:6.0
import PackageDescription

// Layering (dependencies point one way):
//   C modules -> KMeshSupport, Hashing -> SigV4, HTTPTransport -> AWS, Kuma
//     -> ReconcileCore (pure) -> Reconcilers -> ReconcilerShell -> <tool>CLI -> executables
// Everything that ships imports FoundationEssentials, never Foundation: full Foundation drags in
// ICU (32 MiB) and a GLIBC_2.35 floor that Lambda's provided.al2023 does not have.
let package = Package(
    name: "kmesh-ecs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AWS", targets: ["AWS"]),
        .library(name: "Kuma", targets: ["Kuma"]),
        .executable(name: "reconcile-tokens", targets: ["reconcile-tokens"]),
        .executable(name: "reconcile-dns", targets: ["reconcile-dns"]),
        .executable(name: "rotate-user-token", targets: ["rotate-user-token"]),
        .executable(name: "kmesh-scheduler", targets: ["kmesh-scheduler"]),
        .executable(name: "kmesh-ecs", targets: ["kmesh-ecs"]),
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
                "CSpawn", .product(name: "Logging", package: "swift-log"),
            ]),
        // pipe2 and posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc does not declare.
        .target(name: "CSpawn"),
        // SHA-256 and HMAC through libcrypto, for the signer and for anything else that hashes.
        .target(name: "Hashing", dependencies: ["COpenSSL"]),
        .target(name: "SigV4", dependencies: ["Hashing", "KMeshSupport"]),
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
                "ReconcileCore", "AWS", "Kuma", "Hashing", "KMeshSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The custom-runtime loop over a small Runtime API protocol.
        .target(
            name: "LambdaRuntime",
            dependencies: [
                "HTTPTransport", "KMeshSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        // What every executable stands on: the shared option groups and their variables, exit
        // codes, the AWS and Kuma wiring, the report printer, and the Lambda entry and handler.
        .target(
            name: "ReconcilerShell",
            dependencies: [
                "ReconcileCore", "AWS", "Kuma", "HTTPTransport", "KMeshSupport", "LambdaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // reconcile-tokens' own flags, their resolution, its wiring and what its events mean.
        .target(
            name: "TokensCLI",
            dependencies: [
                "ReconcilerShell", "Reconcilers", "KMeshSupport", "LambdaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // reconcile-dns' own flags, their resolution and its wiring.
        .target(
            name: "DNSCLI",
            dependencies: [
                "ReconcilerShell", "Reconcilers", "ReconcileCore", "AWS", "KMeshSupport", "LambdaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // rotate-user-token's own flags, their resolution and its wiring.
        .target(
            name: "RotateCLI",
            dependencies: [
                "ReconcilerShell", "Reconcilers", "ReconcileCore", "Kuma", "KMeshSupport", "LambdaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // kmesh-scheduler (its sources live under scheduler/): Cron is pure (crontab syntax, schedules,
        // next(), TZif zones); Scheduler runs jobs (processes, signals, health, metrics).
        .target(name: "Cron", dependencies: ["KMeshSupport"], path: "scheduler/Sources/Cron"),
        // Signal handlers that write to a self-pipe (async-signal-safe), for the scheduler's loop.
        .target(name: "CSignalPipe", path: "scheduler/Sources/CSignalPipe"),
        .target(
            name: "Scheduler",
            dependencies: [
                "Cron", "KMeshSupport", "CSignalPipe", .product(name: "Logging", package: "swift-log"),
            ], path: "scheduler/Sources/Scheduler"),
        .target(
            name: "SchedulerCLI",
            dependencies: [
                "Scheduler", "Cron", "KMeshSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], path: "scheduler/Sources/SchedulerCLI"),
        .executableTarget(name: "kmesh-scheduler", dependencies: ["SchedulerCLI", "CCompat"], path: "scheduler/Sources/kmesh-scheduler"),
        // Every executable in one binary, dispatching on the name it is run as (the container
        // image holds this one with a link per name: the four share almost all of their code).
        .executableTarget(
            name: "kmesh-ecs",
            dependencies: [
                "TokensCLI", "DNSCLI", "RotateCLI", "SchedulerCLI", "ReconcilerShell", "KMeshSupport", "CCompat",
            ]),
        // glibc shims, active only in the Lambda build (lambda/package.sh).
        .target(name: "CCompat"),
        .executableTarget(name: "reconcile-tokens", dependencies: ["TokensCLI", "ReconcilerShell", "CCompat"]),
        .executableTarget(name: "reconcile-dns", dependencies: ["DNSCLI", "ReconcilerShell", "CCompat"]),
        .executableTarget(name: "rotate-user-token", dependencies: ["RotateCLI", "ReconcilerShell", "CCompat"]),

        // Tests. TestSupport starts the loopback peers (moto, the Kuma stand-in, the fault proxy,
        // the credential-endpoint stand-in) as child processes and stops them by PID, and holds
        // the in-memory fakes of ECS, Secrets Manager, Route 53 and Kuma for unit tests.
        .target(
            name: "TestSupport",
            dependencies: [
                "KMeshSupport", "HTTPTransport", "AWS", "Kuma", "ReconcileCore", .product(name: "Logging", package: "swift-log"),
            ], path: "Tests/TestSupport"),
        .testTarget(
            name: "SigV4Tests", dependencies: ["SigV4", "Hashing"],
            resources: [.copy("Vectors")]),
        .testTarget(name: "KMeshSupportTests", dependencies: ["KMeshSupport"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "TestSupport"]),
        .testTarget(name: "KumaTests", dependencies: ["Kuma", "TestSupport"]),
        .testTarget(name: "ReconcileCoreTests", dependencies: ["ReconcileCore"]),
        .testTarget(
            name: "TokensCLITests",
            dependencies: [
                "TokensCLI", "ReconcilerShell", "Reconcilers", "ReconcileCore", "KMeshSupport", "LambdaRuntime", "TestSupport",
            ]),
        .testTarget(name: "CronTests", dependencies: ["Cron", "KMeshSupport"]),
        .testTarget(name: "SchedulerTests", dependencies: ["TestSupport", "HTTPTransport"]),
        .testTarget(
            name: "ReconcilerShellTests",
            dependencies: [
                "ReconcilerShell", "ReconcileCore", "LambdaRuntime", "KMeshSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ReconcilersTests",
            dependencies: [
                "Reconcilers", "ReconcileCore", "AWS", "Kuma", "HTTPTransport", "KMeshSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "TestSupport"]),

        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "ReconcileCore", "Kuma", "AWS", "KMeshSupport"]),
    ]
)

// CI builds the project's own targets with warnings as errors (.ci/run sets KMESH_WARNINGS_AS_ERRORS=1);
// the dependencies' warnings are theirs. Unset, the everyday build is as usual.
if Context.environment["KMESH_WARNINGS_AS_ERRORS"] == "1" {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
    }
}

// Fuzz harnesses (libFuzzer), built only by scripts/fuzz.sh (KMESH_FUZZ=1, -sanitize=fuzzer,address):
// each is a LLVMFuzzerTestOneInput over one parser that reads outside input.
if Context.environment["KMESH_FUZZ"] == "1" {
    let harnesses: [(String, [Target.Dependency])] = [
        ("FuzzCrontab", ["Cron"]), ("FuzzXML", ["AWS"]), ("FuzzAWSError", ["AWS", "HTTPTransport", "KMeshSupport"]),
        ("FuzzEvents", ["LambdaRuntime", "KMeshSupport"]), ("FuzzJWT", ["Kuma", "KMeshSupport"]),
        ("FuzzKumaJSON", ["Kuma", "HTTPTransport", "KMeshSupport"]), ("FuzzDuration", ["KMeshSupport"]),
        ("FuzzSigV4", ["SigV4", "KMeshSupport"]), ("FuzzDNSName", ["ReconcileCore"]), ("FuzzJSON", ["KMeshSupport"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Tests/Fuzz/FuzzSupport"))
    for (name, dependencies) in harnesses {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: dependencies + ["FuzzSupport"], path: "Tests/Fuzz/\(name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
