import Foundation
import HTTPTransport
import KMeshSupport
import TestSupport
import Testing

/// The libcurl client against a real HTTP(S) server on loopback (scripts/peers/echo_server.py).
@Suite(.serialized) struct CurlHTTPClientTests {
    static let plain = PeerHandle { try await PeerProcess.start("echo_server.py") }
    static let tls = PeerHandle {
        try await PeerProcess.start(
            "echo_server.py", ["--tls", PeerProcess.scratch.appendingPathComponent("tls-\(UUID().uuidString)").path])
    }

    func client(
        _ tls: TLSConfiguration = TLSConfiguration(caBundlePath: nil), requestTimeout: Duration = .seconds(10),
        maxBytes: Int = 16 << 20
    ) -> CurlHTTPClient {
        var c = CurlHTTPClient.Configuration(tls: tls)
        c.requestTimeout = requestTimeout
        c.maxResponseBytes = maxBytes
        return CurlHTTPClient(configuration: c)
    }

    struct Echo: Decodable {
        let method: String
        let headers: [[String]]
        let body: String
        let connection: Int
        func header(_ n: String) -> String? { headers.first { $0[0].lowercased() == n.lowercased() }?[1] }
    }

    @Test func postSendsExactBodyWithoutImplicitContentTypeOrExpect() async throws {
        let peer = try await Self.plain.get()
        let body = Data(repeating: 0x41, count: 300_000)  // large enough that curl would add Expect
        let response = try await client().send(HTTPRequest(method: "POST", url: peer.baseURL + "/echo", body: body))
        #expect(response.status == 200)
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.method == "POST")
        #expect(Data(base64Encoded: echo.body) == body)
        #expect(echo.header("Content-Type") == nil)
        #expect(echo.header("Expect") == nil)
        #expect(echo.header("Content-Length") == "300000")
        #expect(response.headers["content-type"] == "application/json")
    }

    @Test func headersGoOutAsGivenAndEmptyBodyPostHasZeroLength() async throws {
        let peer = try await Self.plain.get()
        let response = try await client().send(
            HTTPRequest(
                method: "PUT", url: peer.baseURL + "/echo",
                headers: ["Content-Type": "application/json", "X-Empty": ""]))
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.method == "PUT")
        #expect(echo.header("Content-Type") == "application/json")
        #expect(echo.header("X-Empty") == "")
        #expect(echo.header("Content-Length") == "0")
    }

    @Test func nonSuccessStatusIsAResponseNotAnError() async throws {
        let peer = try await Self.plain.get()
        let response = try await client().send(HTTPRequest(method: "GET", url: peer.baseURL + "/status/503"))
        #expect(response.status == 503)
        #expect(response.bodyText == "status 503")
    }

    @Test func sixteenConcurrentRequestsOverlapAndConnectionsAreReused() async throws {
        let peer = try await Self.plain.get()
        let http = client()
        _ = try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/stats/reset"))
        // 16 requests the server holds for a second each: the server counts how many it was
        // serving at once (1 if the client sent them one after another).
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask { try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/delay?ms=1000")).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 200, count: 16))
        let stats = try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/stats"))
        let inFlight = (try JSONSerialization.jsonObject(with: stats.body) as! [String: Int])["max_in_flight"]!
        #expect(inFlight >= 12, "only \(inFlight) of 16 requests were in flight at once")

        // Sequential requests afterwards reuse the pooled connections instead of opening new ones.
        let before = try await connections(http, peer)
        for _ in 0..<10 { _ = try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/echo")) }
        let after = try await connections(http, peer)
        #expect(after - before <= 1, "opened \(after - before) connections for 10 sequential requests")
    }

    /// A DNS pass's shape: a burst of concurrent requests to one host (Kuma's lists), then one to
    /// another (Route 53), then the next pass's burst. The burst's connections must survive the
    /// other host's request: libcurl by default sizes its idle cache to four per transfer running,
    /// so one transfer elsewhere closed all but four of them and every pass reconnected.
    @Test func idleConnectionsOutliveARequestToAnotherHost() async throws {
        let peer = try await Self.plain.get()
        let other = try await Self.other.get()
        let http = client()
        func burst() async throws {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/delay?ms=300")).status }
                }
                for try await status in group { #expect(status == 200) }
            }
        }
        try await burst()
        let before = try await connections(http, peer)
        for _ in 0..<3 { #expect(try await http.send(HTTPRequest(method: "GET", url: other.baseURL + "/echo")).status == 200) }
        try await burst()
        let opened = try await connections(http, peer) - before
        #expect(opened == 0, "the second burst opened \(opened) new connections of 8")
    }

    static let other = PeerHandle { try await PeerProcess.start("echo_server.py") }

    func connections(_ http: CurlHTTPClient, _ peer: PeerProcess) async throws -> Int {
        let r = try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/stats"))
        return (try JSONSerialization.jsonObject(with: r.body) as! [String: Int])["connections"]!
    }

    @Test func connectionRefusedIsAConnectError() async throws {
        let url = "http://127.0.0.1:\(closedLoopbackPort())/x?secret=1"
        let error = await #expect(throws: TransportError.self) {
            try await client().send(HTTPRequest(method: "GET", url: url))
        }
        #expect(error?.kind == .connect)
        #expect(error?.description.contains("could not connect") == true)
        #expect(error?.description.contains("secret") == false, "the query string must not be echoed")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func slowServerHitsTheTotalTimeout() async throws {
        let peer = try await Self.plain.get()
        let error = await #expect(throws: TransportError.self) {
            try await client(requestTimeout: .milliseconds(300)).send(HTTPRequest(method: "GET", url: peer.baseURL + "/delay?ms=3000"))
        }
        #expect(error?.kind == .timeout)
        // A per-request timeout overrides the client's default.
        let ok = try await client(requestTimeout: .milliseconds(300)).send(
            HTTPRequest(method: "GET", url: peer.baseURL + "/delay?ms=600", timeout: .seconds(5)))
        #expect(ok.status == 200)
    }

    @Test func cancellingTheTaskStopsTheTransferAtOnce() async throws {
        let peer = try await Self.plain.get()
        let http = client(requestTimeout: .seconds(60))
        let started = ContinuousClock.now
        // The server answers after 30 s: a cancelled error well before that proves the transfer was
        // stopped, however long a loaded machine takes to schedule the cancel and the wake-up.
        let task = Task { try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/delay?ms=30000")) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        #expect(error?.kind == .cancelled && error?.isTransient == false)
        #expect(ContinuousClock.now - started < .seconds(20), "the transfer ran on after the cancel")
        // A task cancelled before its request is sent never sends it; the client goes on working.
        let before = try await connections(http, peer)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/echo"))
        }
        let earlyError = await #expect(throws: TransportError.self) { try await early.value }
        #expect(earlyError?.kind == .cancelled)
        #expect(try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/echo")).status == 200)
        #expect(try await connections(http, peer) <= before + 1)
    }

    @Test func droppedConnectionIsConnectionLost() async throws {
        let peer = try await Self.plain.get()
        let error = await #expect(throws: TransportError.self) {
            try await client().send(HTTPRequest(method: "GET", url: peer.baseURL + "/drop"))
        }
        #expect(error?.kind == .connectionLost)
        #expect(error?.isTransient == true)
    }

    @Test func oversizedResponseIsRefused() async throws {
        let peer = try await Self.plain.get()
        let error = await #expect(throws: TransportError.self) {
            try await client(maxBytes: 1000).send(HTTPRequest(method: "GET", url: peer.baseURL + "/big?bytes=5000"))
        }
        #expect(error?.kind == .responseTooLarge)
        // Without a Content-Length the limit is met while reading.
        let chunked = await #expect(throws: TransportError.self) {
            try await client(maxBytes: 1000).send(HTTPRequest(method: "GET", url: peer.baseURL + "/big?bytes=5000&chunked=1"))
        }
        #expect(chunked?.kind == .responseTooLarge)
        let fits = try await client(maxBytes: 5000).send(HTTPRequest(method: "GET", url: peer.baseURL + "/big?bytes=5000&chunked=1"))
        #expect(fits.body.count == 5000)
    }

    @Test func malformedRequestsAreRejectedBeforeSending() async throws {
        let error = await #expect(throws: TransportError.self) {
            try await client().send(HTTPRequest(method: "GET", url: "ftp://127.0.0.1/x"))
        }
        #expect(error?.kind == .invalidRequest)
        let header = await #expect(throws: TransportError.self) {
            try await client().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/", headers: ["X-Bad": "a\r\nInjected: 1"]))
        }
        #expect(header?.kind == .invalidRequest)
    }

    @Test func tlsIsVerifiedAgainstTheSystemBundleAndAnExtraCA() async throws {
        let peer = try await Self.tls.get()
        let url = "https://127.0.0.1:\(peer.port)/echo"
        // The system bundle does not know the test CA: verification must fail.
        let system = TLSConfiguration.system(environment: Environment())
        let error = await #expect(throws: TransportError.self) {
            try await client(system).send(HTTPRequest(method: "GET", url: url))
        }
        #expect(error?.kind == .tls)
        // Given the CA as PEM bytes (as KUMA_API_CA_BYTES does), the same server is trusted.
        let pem = try Data(contentsOf: URL(fileURLWithPath: peer.string("ca_file")!))
        let trusted = TLSConfiguration.system(environment: Environment(), extraCAPEM: pem)
        #expect(try await client(trusted).send(HTTPRequest(method: "GET", url: url)).status == 200)
        // SSL_CERT_FILE replaces the probed bundle.
        let viaEnv = TLSConfiguration.system(environment: Environment(["SSL_CERT_FILE": peer.string("ca_file")!]))
        #expect(viaEnv.caBundlePath == peer.string("ca_file"))
        #expect(try await client(viaEnv).send(HTTPRequest(method: "GET", url: url)).status == 200)
    }

    @Test func bundleProbeTakesTheFirstReadableCandidate() {
        let found = TLSConfiguration.system(environment: Environment(), candidates: ["/nonexistent/a.crt", "/etc/hostname"])
        #expect(found.caBundlePath == "/etc/hostname")
        #expect(TLSConfiguration.system(environment: Environment(), candidates: ["/nonexistent"]).caBundlePath == nil)
    }
}
