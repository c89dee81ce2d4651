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
    public static func run(_ name: String, _ arguments: [String], environment: [String: String], timeout: Double = 120) async throws -> BinaryRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(name))
        process.arguments = arguments
        var env = environment
        env["PATH"] = env["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = env["HOME"] ?? PeerProcess.scratch.path
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let collected = CollectedOutput()
        out.fileHandleForReading.readabilityHandler = { collected.append(stdout: $0.availableData) }
        err.fileHandleForReading.readabilityHandler = { collected.append(stderr: $0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { kill(process.processIdentifier, SIGKILL); break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        collected.append(stdout: out.fileHandleForReading.readDataToEndOfFile())
        collected.append(stderr: err.fileHandleForReading.readDataToEndOfFile())
        return BinaryRun(exitCode: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
    }
}

final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func append(stdout d: Data) { lock.lock(); out.append(d); lock.unlock() }
    func append(stderr d: Data) { lock.lock(); err.append(d); lock.unlock() }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}
