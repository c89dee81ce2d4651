import Foundation
import KMeshSupport
import TestSupport
import Testing

@testable import HTTPTransport

/// A client given an extra CA verifies every connection against one shared store of the bundle
/// and that CA, built once (libcurl would parse the whole bundle again for each new connection).
@Suite(.serialized) struct TrustStoreTests {
    /// A CA that signed nothing the tests meet (its key was thrown away).
    static let unrelatedCA = """
        -----BEGIN CERTIFICATE-----
        MIIBrjCCAVOgAwIBAgIUVhNrlS9nFtA86pzaO4ZP5ZOhDkwwCgYIKoZIzj0EAwIw
        KzEpMCcGA1UEAwwga21lc2gtZWNzIHRlc3RzOiBhbiB1bnJlbGF0ZWQgQ0EwIBcN
        MjYxMjA0MTg1NzEwWhgPMjEyNjExMTAxODU3MTBaMCsxKTAnBgNVBAMMIGttZXNo
        LWVjcyB0ZXN0czogYW4gdW5yZWxhdGVkIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0D
        AQcDQgAEPzYPcCUK07NurCw6YgVACFFmGyY4iZd/042SbxruhXdB9je7DHLKdA3U
        3WJzUqIHoRZLw5w3luyn64XO2NhQw6NTMFEwHQYDVR0OBBYEFHpvsvUueNSRvJld
        NV1atQ6C0OVhMB8GA1UdIwQYMBaAFHpvsvUueNSRvJldNV1atQ6C0OVhMA8GA1Ud
        EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAIcjT/pPndqz80dR7eyqnAYv
        eC3c6q3kpLiLmczjDsmSAiEAnK+H0P1J+Yw2BfUar/5H+F2u9UOY20P/1711nVET
        Syw=
        -----END CERTIFICATE-----

        """

    static func client(_ tls: TLSConfiguration) -> CurlHTTPClient {
        CurlHTTPClient(configuration: .init(tls: tls))
    }

    /// A new TLS connection each time: the server is told to close it after answering.
    static func fresh(_ url: String) -> HTTPRequest { HTTPRequest(method: "GET", url: url, headers: ["Connection": "close"]) }

    @Test func theBundleAndTheExtraCAAreOneStoreBuiltOnceAndEveryConnectionUsesIt() async throws {
        let peer = try await CurlHTTPClientTests.tls.get()
        let url = "https://127.0.0.1:\(peer.port)/echo"
        let testCA = try #require(peer.string("ca_file"))
        // The test server's CA is the bundle here and the unrelated CA the extra one; the bundle is
        // gone once the store is built. libcurl is handed the extra CA as its blob (and the
        // bundle's name, which it does not open beside a blob), so the server is trusted only
        // through the shared store, and a connection that opened the bundle would fail.
        let bundle = PeerProcess.scratch.appendingPathComponent("bundle-\(UUID().uuidString).pem").path
        try FileManager.default.copyItem(atPath: testCA, toPath: bundle)
        let tls = TLSConfiguration(caBundlePath: bundle, extraCAPEM: Data(Self.unrelatedCA.utf8))
        guard case .store(let store)? = TrustStores.entry(for: tls) else {
            Issue.record("no store for the test CA and the unrelated CA")
            return
        }
        try FileManager.default.removeItem(atPath: bundle)
        #expect(TrustStores.count(store) == 2)
        for _ in 0..<3 {
            let client = Self.client(tls)
            for _ in 0..<3 { #expect(try await client.send(Self.fresh(url)).status == 200) }
        }
        // The bundle's name is this test's own: other suites' stores, built meanwhile, do not count.
        #expect(TrustStores.storesBuilt(bundle: bundle) == 1, "three clients of one configuration share one store")
        if case .store(let again)? = TrustStores.entry(for: tls) { #expect(again == store, "the store was built again") }
        #expect(TrustStores.count(store) == 2, "libcurl added nothing to the shared store")

        // A store that cannot be built leaves libcurl to load the same CAs, and to say what is wrong.
        let missing = TLSConfiguration(caBundlePath: "/nonexistent/ca.pem", extraCAPEM: Data(Self.unrelatedCA.utf8))
        guard case .failed(let why)? = TrustStores.entry(for: missing) else {
            Issue.record("a missing bundle made a store")
            return
        }
        #expect(why.contains("/nonexistent/ca.pem"), "\(why)")
        let refused = await #expect(throws: TransportError.self) { try await Self.client(missing).send(Self.fresh(url)) }
        #expect(refused?.kind == .tls, "\(String(describing: refused))")
        let garbage = TLSConfiguration(caBundlePath: nil, extraCAPEM: Data("not a certificate".utf8))
        guard case .failed(let what)? = TrustStores.entry(for: garbage) else {
            Issue.record("a PEM without a certificate made a store")
            return
        }
        #expect(what.contains("no PEM certificate"), "\(what)")
    }

    @Test func aConnectionIsReusedOnlyByClientsThatTrustTheSameCAs() async throws {
        let peer = try await CurlHTTPClientTests.tls.get()
        let url = "https://127.0.0.1:\(peer.port)/echo"
        let testCA = try #require(peer.string("ca_file"))
        let pem = try Data(contentsOf: URL(fileURLWithPath: testCA))
        // A client that trusts the test CA leaves a verified connection in the shared pool...
        let trusting = Self.client(.init(caBundlePath: "/nonexistent/none.pem", extraCAPEM: pem))
        let trustingToo = Self.client(.system(environment: Environment(), extraCAPEM: pem))
        #expect(try await trustingToo.send(HTTPRequest(method: "GET", url: url)).status == 200)
        // ...which a client that trusts only the unrelated CA must not take for its own request.
        let other = Self.client(.init(caBundlePath: nil, extraCAPEM: Data(Self.unrelatedCA.utf8)))
        let error = await #expect(throws: TransportError.self) { try await other.send(HTTPRequest(method: "GET", url: url)) }
        #expect(error?.kind == .tls, "\(String(describing: error))")
        // Nor a client of the system bundle alone (a CA file: libcurl's own cached store).
        let system = Self.client(.system(environment: Environment()))
        let refused = await #expect(throws: TransportError.self) { try await system.send(HTTPRequest(method: "GET", url: url)) }
        #expect(refused?.kind == .tls, "\(String(describing: refused))")
        // The test CA alone, with the bundle missing, still comes through libcurl's own blob.
        #expect(try await trusting.send(HTTPRequest(method: "GET", url: url)).status == 200)
    }
}
