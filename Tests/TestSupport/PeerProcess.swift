import Foundation
import KMeshSupport

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
    private let child: ChildProcess
    /// Its stdin's write end: closing it tells the peer to exit.
    private let stdinWrite: Locked<Int32?>
    /// Its stdout, read to the end so that it can never block on a full pipe.
    private let output: OutputCollector

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let peersDirectory = repoRoot.appendingPathComponent("scripts/peers")
    public static let scratch: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kmesh-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    private init(name: String, child: ChildProcess, stdinWrite: Int32, output: OutputCollector, info: [String: Any], logFile: URL) {
        self.name = name
        self.child = child
        self.stdinWrite = Locked(stdinWrite)
        self.output = output
        self.info = info
        self.port = info["port"] as! Int
        self.pid = child.pid
        self.logFile = logFile
    }

    public static func start(
        _ script: String, _ arguments: [String] = [], environment extra: [String: String] = [:],
        readyTimeout: Double = 60
    ) async throws -> PeerProcess {
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = "1"
        for (k, v) in extra { env[k] = v }
        let logFile = scratch.appendingPathComponent("\(script)-\(UUID().uuidString.prefix(8)).log")
        let log = open(logFile.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw PeerError(message: "cannot create \(logFile.path): \(String(cString: strerror(errno)))") }
        defer { close(log) }
        let child = try ChildProcess(
            "/usr/bin/env", argv: ["/usr/bin/env", "python3", peersDirectory.appendingPathComponent(script).path] + arguments,
            environment: env, stdin: .pipe, stdout: .pipe, stderr: .descriptor(log))
        let stdinWrite = child.stdin!
        let output = OutputCollector(child.stdout!)

        // The ready line, within `readyTimeout`: a peer that hangs before it fails the test instead.
        let deadline = Date().addingTimeInterval(readyTimeout)
        var line: String?
        while Date() < deadline {
            let data = output.data
            if let newline = data.firstIndex(of: 10) {
                line = String(decoding: data[..<newline], as: UTF8.self)
                break
            }
            if output.ended || !child.isRunning { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard let line, let data = line.data(using: .utf8),
            let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any], info["port"] is Int
        else {
            close(stdinWrite)
            child.stop(grace: 3)
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            let why = line == nil ? (Date() < deadline ? "exited" : "no ready line within \(Int(readyTimeout)) s") : "a bad ready line"
            throw PeerError(message: "\(script) did not start (\(why)): \(log.suffix(2000))")
        }
        return PeerProcess(name: script, child: child, stdinWrite: stdinWrite, output: output, info: info, logFile: logFile)
    }

    /// Closes its stdin; SIGTERM to this child's PID, SIGKILL if it is still there after three seconds.
    public func stop() {
        if let fd = stdinWrite.withLock({ fd -> Int32? in
            defer { fd = nil }
            return fd
        }) {
            close(fd)
        }
        child.stop(grace: 3)
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
