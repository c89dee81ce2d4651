import Foundation
import KMeshSupport
import Testing

/// `ChildSpawn`: a child holds its three standard descriptors and nothing else of its parent's,
/// also while other threads open pipes and start children at the same moment.
@Suite(.serialized) struct ChildSpawnTests {
    /// The descriptors a running child holds, by number, and what each is.
    func descriptors(of pid: pid_t) -> [Int: String] {
        let dir = "/proc/\(pid)/fd"
        var found: [Int: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let fd = Int(name) else { continue }
            found[fd] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(name)")) ?? "?"
        }
        return found
    }

    func sleeper(stdout: ChildSpawn.Stdio = .null) throws -> pid_t {
        try ChildSpawn.spawn(
            "/bin/sleep", argv: ["sleep", "30"], environment: [:], stdin: .null, stdout: stdout, stderr: .null, defaultSignals: []
        ).pid
    }

    func end(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test func aDescriptorLeftInheritableIsNotInherited() throws {
        // What other code opens without close-on-exec (libcurl's sockets, a library's files).
        let foreign = open("/dev/null", O_RDONLY)
        #expect(foreign > 2)
        defer { close(foreign) }
        let pipe = try ChildSpawn.pipe()
        defer {
            close(pipe.read)
            close(pipe.write)
        }
        let pid = try sleeper(stdout: .descriptor(pipe.write))
        defer { end(pid) }
        usleep(50_000)  // exec'd by now: the descriptors are the program's own
        let held = descriptors(of: pid)
        #expect(held.keys.sorted() == [0, 1, 2], "the child holds \(held)")
        #expect(held[0] == "/dev/null" && held[2] == "/dev/null")
        #expect(held[1]?.hasPrefix("pipe:") == true, "stdout is the pipe given: \(held)")
    }

    /// Three threads start short children on pipes of their own, without pause, while 100
    /// long-lived children start: none of those may hold one of the others' pipe ends (Foundation's
    /// `Process` did, for 2 of 200, in the same program; the other child's end then waits for this
    /// one's).
    @Test func childrenStartedTogetherHoldNothingOfEachOther() throws {
        let stop = Locked(false)
        let started = Locked(0)
        let group = DispatchGroup()
        for _ in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while !stop.withLock({ $0 }) {
                    guard let out = try? ChildSpawn.pipe() else { continue }
                    let pid = try? ChildSpawn.spawn(
                        "/bin/true", argv: ["true"], environment: [:], stdout: .descriptor(out.write), defaultSignals: []
                    ).pid
                    close(out.write)
                    close(out.read)
                    if let pid {
                        var status: Int32 = 0
                        waitpid(pid, &status, 0)
                        started.withLock { $0 += 1 }
                    }
                }
            }
        }
        var sleepers: [pid_t] = []
        for _ in 0..<100 {
            sleepers.append(try sleeper())
            usleep(5_000)
        }
        stop.withLock { $0 = true }
        group.wait()
        // An inherited descriptor stays for the child's life; what its loader opens at start does not.
        usleep(200_000)
        let leaks = sleepers.compactMap { pid -> String? in
            let held = descriptors(of: pid).filter { $0.key > 2 }
            return held.isEmpty ? nil : "\(pid): \(held)"
        }
        for pid in sleepers { end(pid) }
        #expect(started.withLock { $0 } > 100, "the other threads started children meanwhile")
        #expect(leaks.isEmpty, "children holding others' descriptors: \(leaks)")
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: ChildSpawn.Failure.self) {
            try ChildSpawn.spawn("/nonexistent/program", argv: ["program"], environment: [:], defaultSignals: [])
        }
    }
}
