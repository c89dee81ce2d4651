import CCurl
import Testing

@testable import HTTPTransport

/// Tests on loopback cannot make DNS fail without sending traffic elsewhere, so the mapping of
/// libcurl's result codes onto the typed kinds is checked directly.
struct CurlErrorMappingTests {
    @Test func resultCodesMapToTypedKinds() {
        #expect(CurlEngine.kind(of: CURLE_COULDNT_RESOLVE_HOST) == .resolve)
        #expect(CurlEngine.kind(of: CURLE_COULDNT_CONNECT) == .connect)
        #expect(CurlEngine.kind(of: CURLE_OPERATION_TIMEDOUT) == .timeout)
        #expect(CurlEngine.kind(of: CURLE_PEER_FAILED_VERIFICATION) == .tls)
        #expect(CurlEngine.kind(of: CURLE_SSL_CONNECT_ERROR) == .tls)
        #expect(CurlEngine.kind(of: CURLE_GOT_NOTHING) == .connectionLost)
        #expect(CurlEngine.kind(of: CURLE_RECV_ERROR) == .connectionLost)
        #expect(CurlEngine.kind(of: CURLE_URL_MALFORMAT) == .invalidRequest)
    }

    @Test func resolveErrorReadsAsOneLine() {
        let e = TransportError(
            kind: .resolve, method: "POST", url: "https://ecs.eu-west-1.amazonaws.com/?x=1",
            detail: "Could not resolve host: ecs.eu-west-1.amazonaws.com")
        #expect(
            e.description
                == "POST https://ecs.eu-west-1.amazonaws.com/: could not resolve the host name (Could not resolve host: ecs.eu-west-1.amazonaws.com)"
        )
        #expect(e.isTransient)
    }
}
