import Foundation
import KMeshSupport

/// Runs one of the package's built executables as a child process and collects what it printed.
public struct BinaryRun: Sendable {
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String

    public init(exitCode: Int32, stdout: String, stderr: String) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        OutputRecorder.record(self)
    }
    /// stderr's JSON log lines, parsed.
    public var logLines: [[String: Any]] {
        stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
    public var output: String { stdout + stderr }
}

/// Keeps every output of every executable the tests run, in $KMESH_TEST_OUTPUT_DIR (scripts/test.sh
/// sets it), so that scripts/check_no_secrets.py can read them all for leaked secrets.
enum OutputRecorder {
    static func record(_ run: BinaryRun) {
        guard let dir = ProcessInfo.processInfo.environment["KMESH_TEST_OUTPUT_DIR"], !dir.isEmpty else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let text = "exit \(run.exitCode)\n--- stdout\n\(run.stdout)\n--- stderr\n\(run.stderr)\n"
        try? text.write(toFile: "\(dir)/\(UUID().uuidString).log", atomically: true, encoding: .utf8)
    }
}

public enum Binaries {
    /// The build folder the test bundle runs from: `swift build` puts the executables beside it.
    public static var buildDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    public static func path(_ name: String) throws -> String {
        let candidate = buildDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw PeerError(message: "\(candidate) is missing: run `swift build` (scripts/test.sh does) before the end-to-end tests")
        }
        return candidate
    }

    /// Runs `name` with exactly `environment` (plus PATH/HOME), waiting at most `timeout` seconds.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String], timeout: Double = 120) async throws
        -> BinaryRun
    {
        let child = try BackgroundBinary(name, arguments, environment: environment)
        _ = await child.waitForExit(seconds: timeout)
        return child.stop()
    }
}

/// A built executable left running (a Lambda bootstrap polling the Runtime API); `stop()` ends it
/// by PID and returns what it printed.
public final class BackgroundBinary: @unchecked Sendable {
    let child: ChildProcess
    let out: OutputCollector, err: OutputCollector

    public convenience init(_ name: String, _ arguments: [String] = [], environment: [String: String]) throws {
        try self.init(path: try Binaries.path(name), arguments, environment: environment)
    }

    /// Any program (`/usr/bin/unshare ... <a built binary>`), with the environment given.
    public static func command(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> BackgroundBinary {
        try BackgroundBinary(path: path, arguments, environment: environment)
    }

    init(path: String, _ arguments: [String], environment: [String: String]) throws {
        var env = environment
        env["PATH"] = env["PATH"] ?? "/usr/bin:/bin"
        // Under scripts/sanitize.sh the children are instrumented too: they take the run's options.
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"] where env[name] == nil {
            if let value = ProcessInfo.processInfo.environment[name] { env[name] = value }
        }
        env["HOME"] = env["HOME"] ?? PeerProcess.scratch.path
        child = try ChildProcess(path, argv: [path] + arguments, environment: env, stdin: .null, stdout: .pipe, stderr: .pipe)
        out = OutputCollector(child.stdout!)
        err = OutputCollector(child.stderr!)
    }

    public var isRunning: Bool { child.isRunning }
    public var pid: Int32 { child.pid }
    /// What it printed on stderr so far.
    public var stderrSoFar: String { err.text }
    public func send(_ signal: Int32) { child.signal(signal) }
    public var exitCode: Int32? { child.exitCode }

    /// Waits up to `seconds` for the process to exit by itself.
    public func waitForExit(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while child.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return exitCode
    }

    /// Ends it (SIGTERM, SIGKILL after two seconds) if it still runs, and returns what it printed.
    @discardableResult
    public func stop() -> BinaryRun {
        let code = child.stop(grace: 2)
        // A descendant that outlived it may hold the pipes: what it wrote so far, then no longer.
        out.waitForEnd(seconds: 5)
        err.waitForEnd(seconds: 5)
        return BinaryRun(exitCode: code, stdout: out.text, stderr: err.text)
    }

    /// Killed if it still runs, and reaped either way (no zombie is left behind).
    deinit {
        if child.isRunning { kill(child.pid, SIGKILL) }
        child.waitUntilExit()
    }
}
