import CCurl
import FoundationEssentials
import KMeshSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTPClient` over libcurl's multi interface. One background thread drives every transfer of
/// this client, so any number of requests can be in flight at once while sharing one connection
/// cache (keep-alive across calls). Async callers never block a cooperative thread.
public final class CurlHTTPClient: HTTPClient {
    public struct Configuration: Sendable {
        public var tls: TLSConfiguration
        public var connectTimeout: Duration = .seconds(5)
        /// Default total time per request (a request may set its own).
        public var requestTimeout: Duration = .seconds(30)
        /// Responses larger than this fail with `.responseTooLarge` instead of exhausting memory.
        public var maxResponseBytes = 32 << 20
        /// Connections kept per host; requests beyond it wait in libcurl's queue.
        public var maxConnectionsPerHost = 16
        public var userAgent = "kmesh-ecs/0.1"

        public init(tls: TLSConfiguration) { self.tls = tls }
    }

    private let engine: CurlEngine

    public init(configuration: Configuration) {
        engine = CurlEngine(configuration: configuration)
    }

    deinit { engine.shutdown() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            engine.submit(Transfer(request: request, continuation: continuation))
        }
    }
}

/// One request in flight. Touched by the submitting task only before `submit`, then only by the
/// engine thread.
final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseHeaders: [(name: String, value: String)] = []
    var body = Data()
    var tooLarge = false
    var maxBytes = 0
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(request: HTTPRequest, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.request = request
        self.continuation = continuation
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }
}

private let curlGlobalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

final class CurlEngine: @unchecked Sendable {
    private struct Inbox {
        var pending: [Transfer] = []
        var stopping = false
    }

    private let configuration: CurlHTTPClient.Configuration
    /// The CA bundle plus the extra CA, built once and handed to every transfer by pointer
    /// (CURL_BLOB_NOCOPY): copying a ~200 KB bundle into each request is work on the hot path.
    private let caBlob: UnsafeMutableRawBufferPointer?
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let threadStarted = Mutex(false)
    // Engine-thread state.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: CurlHTTPClient.Configuration) {
        _ = curlGlobalInit
        self.configuration = configuration
        if let blob = configuration.tls.combinedBlob() {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blob.count, alignment: 1)
            buffer.copyBytes(from: blob)
            caBlob = buffer
        } else {
            caBlob = nil
        }
        multi = curl_multi_init()!
        _ = kmesh_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
    }

    func submit(_ transfer: Transfer) {
        inbox.withLock { $0.pending.append(transfer) }
        startThreadIfNeeded()
        curl_multi_wakeup(multi)
    }

    func shutdown() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    private func startThreadIfNeeded() {
        let start = threadStarted.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        guard start else { return }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let engine = Unmanaged<CurlEngine>.fromOpaque(raw!).takeRetainedValue()
                engine.run()
                return nil
            }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }

    private func run() {
        while true {
            let (newTransfers, stopping) = inbox.withLock { box -> ([Transfer], Bool) in
                defer { box.pending.removeAll() }
                return (box.pending, box.stopping)
            }
            for transfer in newTransfers { start(transfer) }
            if stopping && active.isEmpty { break }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                finish(easy: easy, code: message.pointee.data.result)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for handle in idleHandles { curl_easy_cleanup(handle) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        caBlob?.deallocate()  // no handle refers to it any more
    }

    private func start(_ transfer: Transfer) {
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
        transfer.maxBytes = configuration.maxResponseBytes
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            return "only http:// and https:// URLs are supported"
        }
        guard !request.url.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else {
            return "the URL contains spaces or control characters"
        }
        if kmesh_easy_setopt_ptr(easy, CURLOPT_URL, request.url) != CURLE_OK { return "libcurl rejected the URL" }
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
        if let blob = caBlob {
            var b = curl_blob(data: blob.baseAddress, len: blob.count, flags: UInt32(CURL_BLOB_NOCOPY))
            _ = kmesh_easy_setopt_blob(easy, CURLOPT_CAINFO_BLOB, &b)
        } else if let path = configuration.tls.caBundlePath {
            _ = kmesh_easy_setopt_ptr(easy, CURLOPT_CAINFO, path)
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
    let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: n), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue or a 1xx): headers start over.
        transfer.responseHeaders.removeAll()
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingASCIIWhitespace()
        transfer.responseHeaders.append((name, value))
    }
    return n
}
