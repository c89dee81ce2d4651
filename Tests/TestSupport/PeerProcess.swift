import Foundation

/// A loopback peer (scripts/peers/*.py) running as a child process. It binds 127.0.0.1 on a port
/// the kernel picks and reports it in its first stdout line; it exits when its stdin closes, so a
/// crashed test run leaves nothing behind. `stop()` signals only this child, by its PID.
public final class PeerProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    public let pid: Int32
    /// The ready line, as JSON.
    public let info: [String: Any]
    public let logFile: URL
    private let process: Process
    private let stdinPipe: Pipe

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let peersDirectory = repoRoot.appendingPathComponent("scripts/peers")
    public static let scratch: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kmesh-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    private init(name: String, process: Process, stdinPipe: Pipe, info: [String: Any], logFile: URL) {
        self.name = name
        self.process = process
        self.stdinPipe = stdinPipe
        self.info = info
        self.port = info["port"] as! Int
        self.pid = process.processIdentifier
        self.logFile = logFile
    }

    public static func start(
        _ script: String, _ arguments: [String] = [], environment extra: [String: String] = [:],
        readyTimeout: Double = 60
    ) async throws -> PeerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", peersDirectory.appendingPathComponent(script).path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = "1"
        for (k, v) in extra { env[k] = v }
        process.environment = env
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        let logFile = scratch.appendingPathComponent("\(script)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()

        let reader = stdoutPipe.fileHandleForReading
        let line: String? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes = Data()
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    bytes.append(chunk)
                    if bytes.contains(10) { break }
                }
                continuation.resume(returning: bytes.split(separator: 10).first.map { String(decoding: $0, as: UTF8.self) })
            }
        }
        guard let line, let data = line.data(using: .utf8),
            let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any], info["port"] is Int
        else {
            process.terminate()
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            throw PeerError(message: "\(script) did not start: \(log.suffix(2000))")
        }
        return PeerProcess(name: script, process: process, stdinPipe: stdinPipe, info: info, logFile: logFile)
    }

    /// SIGTERM to this child's PID, SIGKILL if it is still there after three seconds.
    public func stop() {
        try? stdinPipe.fileHandleForWriting.close()
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<300 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    public func string(_ key: String) -> String? { info[key] as? String }
}

public struct PeerError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
public func closedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
