import CSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Starting a child process that holds nothing of its parent but what it is given.
///
/// A descriptor that is not close-on-exec is inherited by every child started while it is open,
/// from any thread. Foundation's `Process` on Linux closes the others in the child by number, up to
/// the highest open when it looks, so a pipe or socket another thread opens meanwhile leaks into
/// the child (2 of 200 long-lived children held another child's descriptors in a test program
/// with three threads spawning). A leaked pipe end or termination socket means the other child's
/// end is seen only when this one exits too: a test run once hung so for its whole CI budget.
/// Here every descriptor made for a child is close-on-exec from its creation (`pipe2`,
/// `O_CLOEXEC`), and the child closes everything above stderr before it execs.
public enum ChildSpawn {
    /// What a child's stdin, stdout or stderr is.
    public enum Stdio: Sendable {
        /// The parent's own.
        case inherit
        /// /dev/null.
        case null
        /// This descriptor (the parent keeps, and closes, its own copy).
        case descriptor(Int32)
        /// A new pipe: the child gets one end, `Spawned` hands the parent the other.
        case pipe
    }

    /// A started child, and the parent's ends of the pipes asked for (stdin's write end, stdout's
    /// and stderr's read ends), close-on-exec and the caller's to close.
    public struct Spawned: Sendable {
        public let pid: pid_t
        public let stdin: Int32?
        public let stdout: Int32?
        public let stderr: Int32?
    }

    public struct Failure: Error, CustomStringConvertible {
        public let what: String
        public let code: Int32
        public var description: String { "\(what): \(String(cString: strerror(code)))" }
    }

    /// A pipe whose two ends are close-on-exec from the start.
    public static func pipe() throws(Failure) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard kmesh_pipe_cloexec(&fds) == 0 else { throw Failure(what: "pipe", code: errno) }
        return (fds[0], fds[1])
    }

    /// Starts `executable` (a path) with `argv` (argv[0] first) and exactly `environment`, in a new
    /// process group whose id is its pid, with an empty signal mask and `defaultSignals` back at
    /// their default actions (an ignored signal stays ignored across exec otherwise). Nothing is
    /// left open when it fails.
    public static func spawn(
        _ executable: String, argv: [String], environment: [String: String],
        stdin: Stdio = .null, stdout: Stdio = .inherit, stderr: Stdio = .inherit, defaultSignals: [Int32]
    ) throws(Failure) -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child's ends of new pipes, and sources moved above 0...2, close here once it started
        // (or failed to); the parent's ends close too if it failed.
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var parentEnds: [Int32?] = [nil, nil, nil]
        var started = false
        defer { if !started { for case let fd? in parentEnds { close(fd) } } }
        for (target, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .pipe:
                let p = try pipe()
                let (mine, theirs) = target == 0 ? (p.write, p.read) : (p.read, p.write)
                parentEnds[Int(target)] = mine
                childEnds.append(theirs)
                posix_spawn_file_actions_adddup2(&actions, theirs, target)
            case .descriptor(var fd):
                // A source among 0...2 could be overwritten by an earlier dup2: move it above them first.
                if fd < 3 {
                    let high = fcntl(fd, F_DUPFD_CLOEXEC, 3)
                    guard high >= 0 else { throw Failure(what: "dup", code: errno) }
                    childEnds.append(high)
                    fd = high
                }
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        kmesh_spawn_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = cArgs.withUnsafeBufferPointer { a in
            cEnv.withUnsafeBufferPointer { e in
                posix_spawn(
                    &pid, executable, &actions, &attributes, UnsafeMutablePointer(mutating: a.baseAddress!),
                    UnsafeMutablePointer(mutating: e.baseAddress!))
            }
        }
        guard rc == 0 else { throw Failure(what: "cannot start \(argv.first ?? executable)", code: rc) }
        started = true
        return Spawned(pid: pid, stdin: parentEnds[0], stdout: parentEnds[1], stderr: parentEnds[2])
    }
}
