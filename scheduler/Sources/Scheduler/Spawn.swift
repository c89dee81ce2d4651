import Dispatch
import KMeshSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A job's process: its own process group, stdin from /dev/null, stdout and stderr on pipes.
struct SpawnedProcess: Sendable {
    let pid: pid_t
    let stdout: Int32
    let stderr: Int32
    /// Wall-clock milliseconds when the spawn returned.
    var startedMs: Int64 = 0
}

enum SpawnError: Error, CustomStringConvertible {
    case failed(String, Int32)
    var description: String {
        switch self {
        case .failed(let what, let code): "\(what): \(String(cString: strerror(code)))"
        }
    }
}

enum Spawner {
    /// Output readers still running: the scheduler waits for them before it exits, so that a job's
    /// last lines (what it printed on TERM) are logged.
    static let activeReaders = Locked(0)

    /// Waits at most `seconds` for every output reader to reach the end of its pipes.
    static func drainReaders(seconds: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while activeReaders.withLock({ $0 }) > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Spawns every request at once from a few threads, and returns when all have started.
    static func spawnAll(_ requests: [(argv: [String], environment: [String: String])]) -> [Result<SpawnedProcess, SpawnError>] {
        if requests.count == 1 { return [spawnRecording(requests[0].argv, requests[0].environment)] }
        final class Shared: Sendable {
            let results: Locked<[Result<SpawnedProcess, SpawnError>?]>
            let next = Locked(0)
            init(_ n: Int) { results = Locked(Array(repeating: nil, count: n)) }
        }
        let shared = Shared(requests.count)
        let group = DispatchGroup()
        for _ in 0..<min(8, requests.count) {
            group.enter()
            detachedThread {
                while true {
                    let i = shared.next.withLock { n -> Int in
                        defer { n += 1 }
                        return n
                    }
                    guard i < requests.count else { break }
                    let r = spawnRecording(requests[i].argv, requests[i].environment)
                    shared.results.withLock { $0[i] = r }
                }
                group.leave()
            }
        }
        group.wait()
        return shared.results.withLock { $0.map { $0! } }
    }

    static func spawnRecording(_ argv: [String], _ environment: [String: String]) -> Result<SpawnedProcess, SpawnError> {
        do {
            var p = try spawn(argv, environment: environment)
            p.startedMs = Scheduler.nowMs()
            return .success(p)
        } catch let e as SpawnError {
            return .failure(e)
        } catch {
            return .failure(.failed("\(error)", 0))
        }
    }

    /// `name` on the job's PATH, as a shell would find it (a name with a slash is taken as it is),
    /// so that the child execs once instead of trying every directory.
    static func resolve(_ name: String, path: String?) -> String? {
        if name.contains("/") { return name }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts `argv` (looked up on the job's PATH) with `environment`, in a new process group whose
    /// id is its pid: stdin from /dev/null, stdout and stderr on pipes of its own, and no other
    /// descriptor of the scheduler's (runs start from several threads at once: see `ChildSpawn`).
    static func spawn(_ argv: [String], environment: [String: String]) throws -> SpawnedProcess {
        guard let executable = resolve(argv[0], path: environment["PATH"]) else {
            throw SpawnError.failed("cannot start \(argv[0])", ENOENT)
        }
        do throws(ChildSpawn.Failure) {
            let child = try ChildSpawn.spawn(
                executable, argv: argv, environment: environment, stdin: .null, stdout: .pipe, stderr: .pipe,
                defaultSignals: SchedulerSignals.handled + [SIGPIPE])
            return SpawnedProcess(pid: child.pid, stdout: child.stdout!, stderr: child.stderr!)
        } catch {
            throw SpawnError.failed(error.what, error.code)
        }
    }

    /// Reads a run's stdout and stderr to their ends on one thread of its own (poll on both),
    /// handing over each line (without the newline; a line longer than 64 KiB in pieces), then
    /// closes them.
    static func readLines(stdout: Int32, stderr: Int32, _ line: @escaping @Sendable (_ isStderr: Bool, [UInt8]) -> Void) {
        activeReaders.withLock { $0 += 1 }
        detachedThread {
            defer { activeReaders.withLock { $0 -= 1 } }
            var fds = [pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)]
            var pending: [[UInt8]] = [[], []]
            var open = 2
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while open > 0 {
                let ready = poll(&fds, 2, -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    break
                }
                for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 {
                        if !pending[i].isEmpty { line(i == 1, pending[i]) }
                        close(fds[i].fd)
                        fds[i].fd = -1
                        open -= 1
                        continue
                    }
                    pending[i] += buffer[0..<n]
                    while let nl = pending[i].firstIndex(of: 10) {
                        line(i == 1, Array(pending[i][..<nl]))
                        pending[i].removeSubrange(...nl)
                    }
                    if pending[i].count > 65_536 {
                        line(i == 1, pending[i])
                        pending[i].removeAll()
                    }
                }
            }
        }
    }
}
