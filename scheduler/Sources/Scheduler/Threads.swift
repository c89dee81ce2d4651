import CSignalPipe

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `body` on a new detached OS thread: for blocking work (reading a pipe, waiting for
/// signals, accepting connections) that must not hold one of the few cooperative-pool threads.
func detachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attr, 256 * 1024)
    let rc = pthread_create(
        &thread, &attr,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    pthread_attr_destroy(&attr)
    if rc != 0 { Unmanaged<Box>.fromOpaque(box).release() }
}

/// The signals the scheduler handles itself (SIGTERM, SIGINT, SIGHUP, SIGCHLD): handlers write each
/// to a pipe (CSignalPipe), and one thread reads it and hands the signal to the loop.
public enum SchedulerSignals {
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGCHLD]

    /// A write to a closed pipe is an error to handle, not a reason to die.
    public static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    /// Installs the handlers and runs `handler` for each signal, on its own thread.
    static func watch(_ handler: @escaping @Sendable (Int32) -> Void) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        let reader = fds[0]
        detachedThread {
            var byte: UInt8 = 0
            while true {
                let n = read(reader, &byte, 1)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                handler(Int32(byte))
            }
        }
        _ = kmesh_install_signal_pipe(fds[1])
    }
}
