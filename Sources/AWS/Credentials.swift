import FoundationEssentials
import KMeshSupport
import Logging
import SigV4

public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?
    /// Which provider produced them (for logs: never the values).
    public var source: String

    public init(
        accessKeyId: String, secretAccessKey: Secret, sessionToken: Secret? = nil, expiration: Date? = nil,
        source: String
    ) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var signing: SigV4Credentials {
        SigV4Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    public var description: String {
        "AWSCredentials(source: \(source), accessKeyId: \(accessKeyId), expiration: \(expiration.map { UTCTime.iso8601($0) } ?? "never"))"
    }
}

/// Produces credentials. Called before every request, so implementations cache.
public protocol CredentialProvider: Sendable {
    /// Returns usable credentials or throws `CredentialsError`.
    func credentials() async throws -> AWSCredentials
    /// Drops anything cached: the service rejected the credentials as expired.
    func invalidate() async
}

extension CredentialProvider {
    public func invalidate() async {}
}

public struct StaticCredentialProvider: CredentialProvider {
    let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}

/// Caches what a fetching provider returns and fetches again shortly before expiry (or after an
/// invalidation). Concurrent callers during a refresh share one fetch.
public actor RefreshingCredentialProvider: CredentialProvider {
    public typealias Fetch = @Sendable () async throws -> AWSCredentials
    private let fetch: Fetch
    private let clock: any WallClock
    private let refreshBefore: Duration
    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?
    public private(set) var fetchCount = 0

    /// `refreshBefore`: how long before `expiration` new credentials are fetched (the SDKs use 5 to
    /// 15 minutes; a pass must never start with credentials about to lapse).
    public init(refreshBefore: Duration = .seconds(600), clock: any WallClock = SystemWallClock(), fetch: @escaping Fetch) {
        self.fetch = fetch
        self.clock = clock
        self.refreshBefore = refreshBefore
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached, !needsRefresh(cached) { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await fetch() }
        inFlight = task
        defer { inFlight = nil }
        fetchCount += 1
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch {
            // Still-valid old credentials beat none while the endpoint hiccups.
            if let cached, let exp = cached.expiration, exp > clock.now() { return cached }
            throw error
        }
    }

    public func invalidate() async { cached = nil }

    func needsRefresh(_ c: AWSCredentials) -> Bool {
        guard let exp = c.expiration else { return false }
        let seconds = Double(refreshBefore.components.seconds)
        return exp.timeIntervalSince(clock.now()) <= seconds
    }
}
