import Foundation
import KMeshSupport

/// A child process of the test run, started with `ChildSpawn` (not Foundation's `Process`, which on
/// Linux can leak one child's pipes and termination socket into another started at the same moment:
/// a peer that lives for the whole run then keeps the other child "running" for ever, and a test
/// waiting for it never returns). Its status is read with `waitpid` on its own pid only.
final class ChildProcess: @unchecked Sendable {
    static let defaultSignals = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2]

    let pid: pid_t
    /// The parent's ends of the pipes asked for (see `ChildSpawn.Spawned`).
    let stdin: Int32?, stdout: Int32?, stderr: Int32?
    /// The exit code (or the number of the signal that ended it), once reaped.
    private let code = Locked<Int32?>(nil)

    init(
        _ executable: String, argv: [String], environment: [String: String], stdin: ChildSpawn.Stdio, stdout: ChildSpawn.Stdio,
        stderr: ChildSpawn.Stdio
    ) throws {
        let spawned = try ChildSpawn.spawn(
            executable, argv: argv, environment: environment, stdin: stdin, stdout: stdout, stderr: stderr,
            defaultSignals: Self.defaultSignals)
        (pid, self.stdin, self.stdout, self.stderr) = (spawned.pid, spawned.stdin, spawned.stdout, spawned.stderr)
    }

    /// nil while it runs.
    var exitCode: Int32? { reap(blocking: false) }
    var isRunning: Bool { exitCode == nil }

    /// Waits for it to end (after a SIGKILL, at once).
    @discardableResult
    func waitUntilExit() -> Int32 { reap(blocking: true)! }

    func signal(_ signal: Int32) { if isRunning { kill(pid, signal) } }

    /// SIGTERM, then SIGKILL if it is still there after `grace` seconds; returns the exit code.
    @discardableResult
    func stop(grace: Double) -> Int32 {
        if isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while isRunning, Date() < deadline { usleep(5_000) }
            if isRunning { kill(pid, SIGKILL) }
        }
        return waitUntilExit()
    }

    private func reap(blocking: Bool) -> Int32? {
        code.withLock { code in
            if let code { return code }
            var status: Int32 = 0
            while true {
                let r = waitpid(pid, &status, blocking ? 0 : WNOHANG)
                if r == pid {
                    code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
                    return code
                }
                if r == 0 { return nil }
                if errno == EINTR { continue }
                code = -1  // not ours to wait for any more (ECHILD): report it as gone
                return code
            }
        }
    }
}

/// Reads one descriptor to its end on a thread of its own, keeping everything read.
final class OutputCollector: @unchecked Sendable {
    private struct State {
        var data = Data()
        var ended = false
    }
    private let state = Locked(State())

    /// Takes `fd` over (and closes it at the end).
    init(_ fd: Int32) {
        Thread.detachNewThread { [state] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                state.withLock { $0.data.append(contentsOf: buffer[0..<n]) }
            }
            close(fd)
            state.withLock { $0.ended = true }
        }
    }

    var data: Data { state.withLock { $0.data } }
    var text: String { String(decoding: data, as: UTF8.self) }
    var ended: Bool { state.withLock { $0.ended } }

    /// Waits at most `seconds` for the end (every writer gone). A descendant of the child that
    /// still holds the pipe cannot make the caller wait longer.
    func waitForEnd(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !ended, Date() < deadline { usleep(2_000) }
    }
}
