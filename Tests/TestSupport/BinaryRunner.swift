import Foundation

/// Runs one of the package's built executables as a child process and collects what it printed.
public struct BinaryRun: Sendable {
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String
    /// stderr's JSON log lines, parsed.
    public var logLines: [[String: Any]] {
        stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
    public var output: String { stdout + stderr }
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

final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func append(stdout d: Data) {
        lock.lock()
        out.append(d)
        lock.unlock()
    }
    func append(stderr d: Data) {
        lock.lock()
        err.append(d)
        lock.unlock()
    }
    var stdout: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: out, as: UTF8.self)
    }
    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: err, as: UTF8.self)
    }
}

/// A built executable left running (a Lambda bootstrap polling the Runtime API); `stop()` ends it
/// by PID and returns what it printed.
public final class BackgroundBinary: @unchecked Sendable {
    let process: Process
    let collected = CollectedOutput()
    let out = Pipe(), err = Pipe()

    public init(_ name: String, _ arguments: [String] = [], environment: [String: String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Binaries.path(name))
        process.arguments = arguments
        var env = environment
        env["PATH"] = env["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = env["HOME"] ?? PeerProcess.scratch.path
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let c = collected
        out.fileHandleForReading.readabilityHandler = { c.append(stdout: $0.availableData) }
        err.fileHandleForReading.readabilityHandler = { c.append(stderr: $0.availableData) }
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var exitCode: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Waits up to `seconds` for the process to exit by itself.
    public func waitForExit(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return exitCode
    }

    @discardableResult
    public func stop() -> BinaryRun {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        // The child is gone: stop the handlers and drain whatever they had not read yet.
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        collected.append(stdout: out.fileHandleForReading.readDataToEndOfFile())
        collected.append(stderr: err.fileHandleForReading.readDataToEndOfFile())
        return BinaryRun(exitCode: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
