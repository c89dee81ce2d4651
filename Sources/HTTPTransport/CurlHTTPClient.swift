import CCurl
import FoundationEssentials
import KMeshSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTPClient` over libcurl's multi interface. Every client in the process shares one transfer
/// thread (`CurlEngine.shared`), so any number of requests can be in flight at once over one
/// connection cache (keep-alive across calls and clients; libcurl reuses a connection only for a
/// request with the same TLS settings). Async callers never block a cooperative thread.
///
/// The transfer thread is also a task executor (`CurlHTTPClient.taskExecutor`): a task that prefers
/// it (`withTaskExecutorPreference`, as the reconcilers' entry points do) runs its code on that
/// thread between transfers, so a request's start and its answer's arrival need no wake-up of
/// another thread. That is most of what a request costs on a warm process: on the project's
/// 2-core machine, a loopback request costs about twice the CPU when the answer is handed to a
/// pool thread.
public final class CurlHTTPClient: HTTPClient {
    public struct Configuration: Sendable {
        public var tls: TLSConfiguration
        public var connectTimeout: Duration = .seconds(5)
        /// Default total time per request (a request may set its own).
        public var requestTimeout: Duration = .seconds(30)
        /// Responses larger than this fail with `.responseTooLarge` instead of exhausting memory. The
        /// largest real answers are a few MB (a Kuma list page of 1,000 items, 20 secrets at once);
        /// 16 MiB keeps a process that meets a huge body under 64 MB (see docs/reliability.md).
        public var maxResponseBytes = 16 << 20
        public var userAgent = "kmesh-ecs/0.1"

        public init(tls: TLSConfiguration) { self.tls = tls }
    }

    /// The executor that runs code on the transfer thread (see the type's documentation).
    public static var taskExecutor: any TaskExecutor { CurlEngine.shared }

    private let settings: ClientSettings

    public init(configuration: Configuration) {
        settings = ClientSettings(configuration)
    }

    /// Cancelling the calling task stops the transfer at once (it is removed from libcurl and fails
    /// with `.cancelled`), so that nothing runs on after a Lambda invocation's deadline.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let box = TransferBox()
        let engine = CurlEngine.shared
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let transfer = Transfer(request: request, settings: settings, continuation: continuation)
                box.set(transfer)
                engine.submit(transfer)
            }
        } onCancel: {
            box.cancel { engine.cancel($0) }
        }
    }

    /// `CurlHTTPClient.sleep(for:)`, the transfer thread's wait.
    public func sleep(for duration: Duration) async throws {
        try await Self.sleep(for: duration)
    }

    /// Waits `duration` on the transfer thread: the wait is the timeout of the poll the thread
    /// makes anyway, and the waiting task resumes there. `Task.sleep` arms a timer on Dispatch's
    /// manager thread, which wakes a pool thread, which hands the task back: on the project's
    /// 2-core machine a 100 ms `Task.sleep` cost about 330 µs of CPU against 80 µs for a thread
    /// blocked as long, and a reconcile-tokens pass with one retry made 23 more system calls for
    /// its wait (futexes, epoll, timerfd: `strace -f -c` over 200 such passes).
    /// Cancelling the calling task ends the wait at once with `CancellationError`.
    public static func sleep(for duration: Duration) async throws {
        let engine = CurlEngine.shared
        let sleeper = Sleeper(until: ContinuousClock.now.advanced(by: max(.zero, duration)))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if sleeper.arm(continuation) { engine.submit(sleeper) } else { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            if sleeper.cancel() { engine.cancel(sleeper) }
        }
    }
}

/// One wait on the transfer thread. The calling task arms it with its continuation (unless it was
/// cancelled first); from then on only the engine thread resumes it, when it is due or when the
/// cancellation it was sent arrives, so it is resumed exactly once.
final class Sleeper: @unchecked Sendable {
    let until: ContinuousClock.Instant
    private struct State {
        var continuation: CheckedContinuation<Void, any Error>?
        var cancelled = false
    }
    private let state = Locked(State())

    init(until: ContinuousClock.Instant) { self.until = until }

    /// False when the task was cancelled before: the caller resumes the continuation itself.
    func arm(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        state.withLock { s in
            if s.cancelled { return false }
            s.continuation = continuation
            return true
        }
    }

    /// Marks the wait cancelled; true when it was armed, so that the engine must be told.
    func cancel() -> Bool {
        state.withLock { s in
            s.cancelled = true
            return s.continuation != nil
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Engine thread only, once.
    func resume(cancelled: Bool) {
        let continuation = state.withLock { s in
            defer { s.continuation = nil }
            return s.continuation
        }
        if cancelled { continuation?.resume(throwing: CancellationError()) } else { continuation?.resume() }
    }
}

/// One client's configuration and what its transfers hand libcurl for trust, built once: with an
/// extra CA, the process's shared store for it (`TrustStores`) and, as the CA blob, the extra CA
/// alone (libcurl tells connections made with different trust apart by their CA settings, and
/// parses so small a blob at no cost before the store replaces it); if that store could not be
/// built, the bundle and the extra CA as one blob, whose failure libcurl reports. The blob goes
/// to every transfer by pointer (CURL_BLOB_NOCOPY). Immutable; each transfer holds it, so the blob
/// outlives the client's transfers.
final class ClientSettings: @unchecked Sendable {
    let configuration: CurlHTTPClient.Configuration
    let caBlob: UnsafeMutableRawBufferPointer?
    let trustStore: OpaquePointer?

    init(_ configuration: CurlHTTPClient.Configuration) {
        self.configuration = configuration
        var blob: Data?
        switch TrustStores.entry(for: configuration.tls) {
        case .store(let store)?:
            trustStore = store
            blob = configuration.tls.extraCAPEM
        case .failed?:
            trustStore = nil
            blob = configuration.tls.combinedBlob()
        case nil:
            trustStore = nil
        }
        if let blob {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blob.count, alignment: 1)
            buffer.copyBytes(from: blob)
            caBlob = buffer
        } else {
            caBlob = nil
        }
    }

    deinit { caBlob?.deallocate() }
}

/// Links a task's cancellation to its transfer, whichever comes first.
final class TransferBox: Sendable {
    private let state = Locked<(transfer: Transfer?, cancelled: Bool)>((nil, false))

    func set(_ transfer: Transfer) {
        let cancelled = state.withLock { s -> Bool in
            s.transfer = transfer
            return s.cancelled
        }
        if cancelled { transfer.cancelled.withLock { $0 = true } }
    }

    func cancel(_ engineCancel: (Transfer) -> Void) {
        let transfer = state.withLock { s -> Transfer? in
            s.cancelled = true
            return s.transfer
        }
        if let transfer {
            transfer.cancelled.withLock { $0 = true }
            engineCancel(transfer)
        }
    }
}

/// One request in flight. Touched by the submitting task only before `submit`, then only by the
/// engine thread (but for `cancelled`).
final class Transfer: @unchecked Sendable {
    /// Set when the calling task is cancelled; the engine fails the transfer instead of starting it.
    let cancelled = Locked(false)
    let request: HTTPRequest
    let settings: ClientSettings
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseHeaders: [(name: String, value: String)] = []
    var body = Data()
    var tooLarge = false
    var maxBytes = 0
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(request: HTTPRequest, settings: ClientSettings, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.request = request
        self.settings = settings
        self.continuation = continuation
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }
}

/// The process's transfer thread: one libcurl multi handle driven by one thread, which also runs
/// the jobs of tasks that prefer it as their executor. It lives as long as the process.
final class CurlEngine: TaskExecutor, @unchecked Sendable {
    static let shared = CurlEngine()

    /// Connections kept per host across every client; requests beyond it wait in libcurl's queue.
    static let maxConnectionsPerHost = 16

    /// Idle connections kept open for reuse, every host together. libcurl's default sizes this
    /// cache to four per transfer running, so after a burst of lists to Kuma one request to
    /// Route 53 closed all but four of the burst's connections and every pass reconnected; this
    /// holds two hosts' worth at the per-host limit (a process talks to Kuma, the Runtime API and
    /// two or three AWS services). Beyond it the oldest idle connection is closed.
    static let maxIdleConnections = 2 * maxConnectionsPerHost

    private struct Inbox {
        var pending: [Transfer] = []
        var cancels: [Transfer] = []
        var jobs: [UnownedJob] = []
        var sleeps: [Sleeper] = []
        var wakes: [Sleeper] = []
        var isEmpty: Bool { pending.isEmpty && cancels.isEmpty && jobs.isEmpty && sleeps.isEmpty && wakes.isEmpty }
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    /// The transfer thread, once started.
    private let thread = Locked<pthread_t?>(nil)
    // Engine-thread state.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    /// Waits not yet due, soonest first.
    private var sleepers: [Sleeper] = []

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()!
        _ = kmesh_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, Self.maxConnectionsPerHost)
        _ = kmesh_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, Self.maxIdleConnections)
    }

    func submit(_ transfer: Transfer) { post { $0.pending.append(transfer) } }

    /// Stops `transfer` on the engine thread (if it is still running there).
    func cancel(_ transfer: Transfer) { post { $0.cancels.append(transfer) } }

    func submit(_ sleeper: Sleeper) { post { $0.sleeps.append(sleeper) } }

    /// Ends `sleeper`'s wait early (if it is still waiting).
    func cancel(_ sleeper: Sleeper) { post { $0.wakes.append(sleeper) } }

    /// Puts work in the inbox and makes sure the engine thread sees it.
    private func post(_ add: (inout Inbox) -> Void) {
        inbox.withLock { add(&$0) }
        wake()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        post { $0.jobs.append(job) }
    }

    /// Work put in the inbox from the engine thread itself is seen before it polls again; from
    /// any other thread the poll is interrupted.
    private func wake() {
        let current = pthread_self()
        let onEngineThread = thread.withLock { running -> Bool in
            if let running { return pthread_equal(running, current) != 0 }
            running = Self.startThread(self)
            return false
        }
        if !onEngineThread { curl_multi_wakeup(multi) }
    }

    private static func startThread(_ engine: CurlEngine) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(engine).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let engine = Unmanaged<CurlEngine>.fromOpaque(raw!).takeRetainedValue()
                engine.run()
                return nil
            }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
        return thread
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        while true {
            let work = inbox.withLock { box -> Inbox in
                defer { box = Inbox() }
                return box
            }
            for transfer in work.pending { start(transfer) }
            for transfer in work.cancels { stop(transfer) }
            for sleeper in work.sleeps { start(sleeper) }
            for sleeper in work.wakes { stop(sleeper) }
            for job in work.jobs { job.runSynchronously(on: executor) }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                finish(easy: easy, code: message.pointee.data.result)
            }
            let timeout = fireDueSleepers()
            // Jobs resumed by the answers just finished or the waits just ended (or queued by the
            // jobs above) run next, without waiting in the poll.
            if inbox.withLock({ $0.isEmpty }) { curl_multi_poll(multi, nil, 0, timeout, nil) }
        }
    }

    private func start(_ sleeper: Sleeper) {
        if sleeper.isCancelled {
            sleeper.resume(cancelled: true)
            return
        }
        // Soonest first; among equals, the first to ask.
        let at = sleepers.firstIndex { $0.until > sleeper.until } ?? sleepers.endIndex
        sleepers.insert(sleeper, at: at)
    }

    private func stop(_ sleeper: Sleeper) {
        guard let at = sleepers.firstIndex(where: { $0 === sleeper }) else { return }  // ended already
        sleepers.remove(at: at)
        sleeper.resume(cancelled: true)
    }

    /// Resumes every wait that is due; returns how long the poll may block (milliseconds, rounded
    /// up so that no wait ends early; at most a second, as before there were waits).
    private func fireDueSleepers() -> Int32 {
        guard !sleepers.isEmpty else { return 1000 }  // the usual case: no clock read
        let now = ContinuousClock.now
        var due = 0
        while due < sleepers.count, sleepers[due].until <= now { due += 1 }
        if due > 0 {
            // Resuming only queues the waiting task's job (it runs after this), so the list is not
            // touched meanwhile and needs no copy.
            for sleeper in sleepers[..<due] { sleeper.resume(cancelled: false) }
            sleepers.removeFirst(due)
        }
        guard let next = sleepers.first else { return 1000 }
        let (seconds, attoseconds) = (next.until - now).components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: min(1000, max(0, ms)))
    }

    /// A cancelled transfer still in flight: out of libcurl, and failed as `.cancelled`.
    private func stop(_ transfer: Transfer) {
        guard let easy = active.first(where: { $0.value === transfer })?.key else { return }  // finished already
        curl_multi_remove_handle(multi, easy)
        active.removeValue(forKey: easy)
        idleHandles.append(easy)
        transfer.continuation.resume(
            throwing: TransportError(
                kind: .cancelled, method: transfer.request.method, url: transfer.request.url, detail: "the calling task was cancelled"))
    }

    private func start(_ transfer: Transfer) {
        if transfer.cancelled.withLock({ $0 }) {
            transfer.continuation.resume(
                throwing: TransportError(
                    kind: .cancelled, method: transfer.request.method, url: transfer.request.url, detail: "the calling task was cancelled"))
            return
        }
        let easy: UnsafeMutableRawPointer
        if let reused = idleHandles.popLast() {
            curl_easy_reset(reused)
            easy = reused
        } else {
            guard let fresh = curl_easy_init() else {
                transfer.continuation.resume(
                    throwing: TransportError(
                        kind: .other, method: transfer.request.method, url: transfer.request.url, detail: "curl_easy_init failed"))
                return
            }
            easy = fresh
        }
        if let problem = configure(easy, transfer) {
            idleHandles.append(easy)
            transfer.continuation.resume(
                throwing: TransportError(
                    kind: .invalidRequest, method: transfer.request.method, url: transfer.request.url, detail: problem))
            return
        }
        active[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    /// Sets every option for one transfer; returns a problem description when the request cannot
    /// be expressed.
    private func configure(_ easy: UnsafeMutableRawPointer, _ transfer: Transfer) -> String? {
        let request = transfer.request
        let configuration = transfer.settings.configuration
        transfer.maxBytes = configuration.maxResponseBytes
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            return "only http:// and https:// URLs are supported"
        }
        guard !request.url.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else {
            return "the URL contains spaces or control characters"
        }
        if kmesh_easy_setopt_ptr(easy, CURLOPT_URL, request.url) != CURLE_OK { return "libcurl rejected the URL" }
        // An announced Content-Length over the limit is refused before a byte of the body is read.
        _ = kmesh_easy_setopt_long(easy, CURLOPT_MAXFILESIZE, configuration.maxResponseBytes)
        _ = kmesh_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = kmesh_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = kmesh_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        let total = request.timeout ?? configuration.requestTimeout
        _ = kmesh_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, total == .zero ? 0 : Self.milliseconds(total))
        _ = kmesh_easy_setopt_ptr(easy, CURLOPT_USERAGENT, configuration.userAgent)
        _ = kmesh_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)

        // TLS: verification stays on; only the trust store varies.
        _ = kmesh_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = kmesh_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        // No CA directory beside a bundle: libcurl then keeps the bundle's parsed store for later
        // connections (see `TrustStores`).
        if let blob = transfer.settings.caBlob {
            var b = curl_blob(data: blob.baseAddress, len: blob.count, flags: UInt32(CURL_BLOB_NOCOPY))
            _ = kmesh_easy_setopt_blob(easy, CURLOPT_CAINFO_BLOB, &b)
            _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CAPATH, nil)
            if let store = transfer.settings.trustStore {
                // libcurl loads no file beside a blob, but still tells connections (and TLS
                // sessions) apart by it: with the extra CA as the blob, the pair names the store.
                _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CAINFO, configuration.tls.caBundlePath)
                _ = kmesh_easy_use_trust_store(easy, store)
            }
        } else if let path = configuration.tls.caBundlePath {
            _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CAINFO, path)
            _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CAPATH, nil)
        }

        let method = request.method.uppercased()
        let hasBody = !request.body.isEmpty
        switch method {
        case "GET" where !hasBody:
            _ = kmesh_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD":
            _ = kmesh_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            if method != "POST" { _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, method) }
            if hasBody || method == "POST" || method == "PUT" || method == "PATCH" {
                _ = kmesh_easy_setopt_long(easy, CURLOPT_POST, 1)
                _ = kmesh_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
                request.body.withUnsafeBytes { raw in
                    // COPYPOSTFIELDS copies, so the body need not outlive this call.
                    let empty: StaticString = ""
                    _ = kmesh_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(empty.utf8Start))
                }
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            guard !name.isEmpty, !name.utf8.contains(where: { $0 == 58 || $0 <= 32 }),
                !value.utf8.contains(where: { $0 == 10 || $0 == 13 })
            else {
                if let list { curl_slist_free_all(list) }
                return "header \(name.isEmpty ? "(empty name)" : name) is malformed"
            }
            // "Name;" is libcurl's syntax for sending a header with an empty value.
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        // No implicit `Content-Type: application/x-www-form-urlencoded`, no `Expect: 100-continue`.
        if !request.headers.contains("Content-Type") { list = curl_slist_append(list, "Content-Type:") }
        if !request.headers.contains("Expect") { list = curl_slist_append(list, "Expect:") }
        transfer.headerList = list
        _ = kmesh_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = kmesh_easy_setopt_datacb(easy, CURLOPT_WRITEFUNCTION, curlWriteBody)
        _ = kmesh_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, context)
        _ = kmesh_easy_setopt_datacb(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        _ = kmesh_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, context)
        return nil
    }

    private func finish(easy: UnsafeMutableRawPointer, code: CURLcode) {
        curl_multi_remove_handle(multi, easy)
        guard let transfer = active.removeValue(forKey: easy) else { return }
        var status = 0
        _ = kmesh_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let detail = String(cString: transfer.errorBuffer)
        idleHandles.append(easy)
        let request = transfer.request

        if code == CURLE_OK {
            transfer.continuation.resume(
                returning: HTTPResponse(
                    status: status, headers: HTTPHeaders(transfer.responseHeaders), body: transfer.body))
            return
        }
        var kind = Self.kind(of: code)
        if transfer.tooLarge { kind = .responseTooLarge }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        transfer.continuation.resume(
            throwing: TransportError(
                kind: kind, method: request.method, url: request.url,
                detail: message))
    }

    static func kind(of code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .resolve
        case CURLE_COULDNT_CONNECT: .connect
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED:
            .tls
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: .connectionLost
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        case CURLE_FILESIZE_EXCEEDED: .responseTooLarge
        default: .other
        }
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (s, attos) = d.components
        return max(1, Int(s) * 1000 + Int(attos / 1_000_000_000_000_000))
    }
}

private let curlWriteBody: kmesh_data_callback = { pointer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let n = size * count
    guard let pointer, n > 0 else { return n }
    if transfer.body.count + n > transfer.maxBytes {
        transfer.tooLarge = true
        return 0  // aborts the transfer with CURLE_WRITE_ERROR
    }
    transfer.body.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: n)
    return n
}

private let curlWriteHeader: kmesh_data_callback = { pointer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let n = size * count
    guard let pointer, n > 0 else { return n }
    // Read as bytes: one String per name and value, none for the line.
    let line = UnsafeRawBufferPointer(start: pointer, count: n)
    if n >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
        line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/")
    {
        // A new status line (after 100 Continue or a 1xx): headers start over.
        transfer.responseHeaders.removeAll()
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }
        var from = colon + 1
        var to = n
        while from < to, isSpace(line[from]) { from += 1 }
        while to > from, isSpace(line[to - 1]) { to -= 1 }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: line[from..<to]), as: UTF8.self)
        transfer.responseHeaders.append((name, value))
    }
    return n
}
