import AWS
import Foundation
import HTTPTransport
import KMeshSupport
import Logging

/// moto (signature checking on) as started by scripts/peers/moto_peer.py.
public struct MotoPeer: Sendable {
    public let process: PeerProcess
    public var baseURL: String { process.baseURL }
    public var admin: AWSCredentials {
        AWSCredentials(
            accessKeyId: process.string("access_key_id")!, secretAccessKey: Secret(process.string("secret_access_key")!),
            source: "test")
    }
    /// A user allowed only ecs:ListClusters.
    public var limited: AWSCredentials {
        AWSCredentials(
            accessKeyId: process.string("limited_access_key_id")!,
            secretAccessKey: Secret(process.string("limited_secret_access_key")!), source: "test")
    }
    /// A user allowed everything but secretsmanager:BatchGetSecretValue.
    public var noBatch: AWSCredentials {
        AWSCredentials(
            accessKeyId: process.string("nobatch_access_key_id")!,
            secretAccessKey: Secret(process.string("nobatch_secret_access_key")!), source: "test")
    }
    public var roleArn: String { process.string("role_arn")! }

    public static let shared = PeerHandle { try await PeerProcess.start("moto_peer.py") }
    public static func get() async throws -> MotoPeer { MotoPeer(process: try await shared.get()) }
}

/// The fault proxy, with helpers for its control endpoints.
public struct FaultProxy: Sendable {
    public let process: PeerProcess
    public var baseURL: String { process.baseURL }

    public init(process: PeerProcess) { self.process = process }

    public static func start(upstream: String) async throws -> FaultProxy {
        FaultProxy(process: try await PeerProcess.start("fault_proxy.py", ["--upstream", upstream]))
    }

    static let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))

    /// Adds a rule: `fault` for the next `count` calls of `operation` (`-1`: every call).
    public func inject(_ fault: String, operation: String = "*", count: Int = 1, every: Int = 1, delayMs: Int? = nil) async throws {
        var rule: [String: Any] = ["fault": fault, "operation": operation, "count": count, "every": every]
        if let delayMs { rule["delay_ms"] = delayMs }
        _ = try await Self.http.send(
            HTTPRequest(
                method: "POST", url: baseURL + "/__proxy/faults",
                headers: ["Content-Type": "application/json"],
                body: try JSONSerialization.data(withJSONObject: rule)))
    }

    public func reset() async throws {
        _ = try await Self.http.send(HTTPRequest(method: "POST", url: baseURL + "/__proxy/reset"))
    }

    /// Requests seen per operation: total, faulted, forwarded.
    public func calls() async throws -> [String: [String: Int]] {
        let r = try await Self.http.send(HTTPRequest(method: "GET", url: baseURL + "/__proxy/calls"))
        return (try JSONSerialization.jsonObject(with: r.body) as? [String: [String: Int]]) ?? [:]
    }

    /// When each request arrived, by operation (monotonic seconds).
    public func arrivals() async throws -> [String: [Double]] {
        let r = try await Self.http.send(HTTPRequest(method: "GET", url: baseURL + "/__proxy/arrivals"))
        return (try JSONSerialization.jsonObject(with: r.body) as? [String: [Double]]) ?? [:]
    }

    public func total(_ operation: String) async throws -> Int { try await calls()[operation]?["total"] ?? 0 }
    public func forwarded(_ operation: String) async throws -> Int { try await calls()[operation]?["forwarded"] ?? 0 }
}

public enum TestAWS {
    /// Fast retries for tests: same rules, 10 ms base instead of 1 s.
    public static var fastRetry: RetryConfiguration {
        var r = RetryConfiguration()
        r.baseDelay = .milliseconds(10)
        r.maxBackoff = .milliseconds(100)
        return r
    }

    public static func client(
        endpoint: String, credentials: AWSCredentials, region: String = "us-east-1",
        retry: RetryConfiguration = fastRetry, rateLimits: [String: Double] = [:],
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> AWSClient {
        client(
            endpoint: endpoint, provider: StaticCredentialProvider(credentials), region: region, retry: retry,
            rateLimits: rateLimits, logger: logger)
    }

    public static func client(
        endpoint: String, provider: any CredentialProvider, region: String = "us-east-1",
        retry: RetryConfiguration = fastRetry, rateLimits: [String: Double] = [:],
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> AWSClient {
        var endpoints: [String: String] = [:]
        for s in AWSService.all { endpoints[s.name] = endpoint }
        let config = AWSConfiguration(region: region, endpoints: endpoints, retry: retry, rateLimits: rateLimits)
        return AWSClient(configuration: config, http: sharedHTTP, credentials: provider, logger: logger)
    }

    public static let sharedHTTP = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))
}
