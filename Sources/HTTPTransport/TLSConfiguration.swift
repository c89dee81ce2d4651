import FoundationEssentials
import KMeshSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Certificate verification is always on. What varies is where trusted CAs come from.
public struct TLSConfiguration: Sendable {
    /// Known CA bundle locations, probed in order at run time: Amazon Linux (Lambda's
    /// provided.al2023), then Debian/Ubuntu. `SSL_CERT_FILE` overrides both.
    public static let bundleCandidates = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"]

    /// The CA bundle file in use; nil leaves libcurl's compiled-in default.
    public var caBundlePath: String?
    /// An extra CA in PEM form, trusted in addition to the bundle (the Kuma control plane's CA,
    /// given as bytes in `KUMA_API_CA_BYTES`).
    public var extraCAPEM: Data?

    public init(caBundlePath: String?, extraCAPEM: Data? = nil) {
        self.caBundlePath = caBundlePath
        self.extraCAPEM = extraCAPEM
    }

    /// Probes the file system for the bundle, honouring `SSL_CERT_FILE`.
    public static func system(
        environment: Environment, extraCAPEM: Data? = nil,
        candidates: [String] = bundleCandidates
    ) -> TLSConfiguration {
        if let override = environment["SSL_CERT_FILE"] {
            return TLSConfiguration(caBundlePath: override, extraCAPEM: extraCAPEM)
        }
        let found = candidates.first { access($0, R_OK) == 0 }
        return TLSConfiguration(caBundlePath: found, extraCAPEM: extraCAPEM)
    }

    /// The bytes handed to libcurl as an in-memory CA blob when an extra CA is given: the bundle's
    /// contents followed by the extra PEM, so that both are trusted.
    func combinedBlob() -> Data? {
        guard let extra = extraCAPEM else { return nil }
        var blob = Data()
        if let path = caBundlePath, let bundle = FileReader.read(path) {
            blob.append(bundle)
            blob.append(10)
        }
        blob.append(extra)
        blob.append(10)
        return blob
    }
}
