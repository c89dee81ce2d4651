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

    /// `count` such pipes, or none (what was made is closed again when one fails).
    public static func pipes(_ count: Int) throws(Failure) -> [(read: Int32, write: Int32)] {
        var made: [(read: Int32, write: Int32)] = []
        do {
            for _ in 0..<count { made.append(try pipe()) }
        } catch {
            for p in made {
                close(p.read)
                close(p.write)
            }
            throw error
        }
        return made
    }

    /// Starts `executable` (a path) with `argv` (argv[0] first) and exactly `environment`, in a new
    /// process group whose id is its pid, with an empty signal mask and `defaultSignals` back at
    /// their default actions (an ignored signal stays ignored across exec otherwise). Returns its pid.
    public static func spawn(
        _ executable: String, argv: [String], environment: [String: String],
        stdin: Stdio = .null, stdout: Stdio = .inherit, stderr: Stdio = .inherit, defaultSignals: [Int32]
    ) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // A source among 0...2 could be overwritten by an earlier dup2: move it above them first.
        var moved: [Int32] = []
        defer { for fd in moved { close(fd) } }
        for (target, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(var fd):
                if fd < 3 {
                    let high = fcntl(fd, F_DUPFD_CLOEXEC, 3)
                    guard high >= 0 else { throw Failure(what: "dup", code: errno) }
                    moved.append(high)
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
        return pid
    }
}
