import KMeshSupport

/// Signing keys keyed by (access key, day, region, service). A key is valid for one UTC day, so
/// computing it once per day saves four HMACs on every request.
public final class SigningKeyCache: Sendable {
    private struct Key: Hashable { let accessKeyId: String, day: String, region: String, service: String }
    private let entries = Locked<[Key: [UInt8]]>([:])

    public init() {}

    public func key(for credentials: SigV4Credentials, day: String, region: String, service: String) -> [UInt8] {
        let k = Key(accessKeyId: credentials.accessKeyId, day: day, region: region, service: service)
        if let hit = entries.withLock({ $0[k] }) { return hit }
        let value = SigV4Signer.signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        entries.withLock {
            if $0.count > 64 { $0.removeAll() }
            $0[k] = value
        }
        return value
    }
}
