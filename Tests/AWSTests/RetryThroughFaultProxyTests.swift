import AWS
import Foundation
import KMeshSupport
import Logging
import TestSupport
import Testing

/// Retries against moto behind the fault-injecting proxy. One proxy for this suite, whose fault
/// rules and counts are its own; the tests run one after another because they share it.
@Suite(.serialized) struct RetryThroughFaultProxyTests {
    static let proxyHandle = PeerHandle {
        let moto = try await MotoPeer.get()
        return try await FaultProxy.start(upstream: moto.baseURL).process
    }

    func setUp() async throws -> (FaultProxy, MotoPeer) {
        let proxy = FaultProxy(process: try await Self.proxyHandle.get())
        try await proxy.reset()
        return (proxy, try await MotoPeer.get())
    }

    @Test func twoThrottlesThenSuccessSucceedsAndTheRetriesAreLogged() async throws {
        let (proxy, moto) = try await setUp()
        let logs = LogCapture()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin, logger: logs.logger(level: .debug))
        try await proxy.inject("ThrottlingException", operation: "ECS.ListClusters", count: 2)

        _ = try await LiveECS(client: client).listClusters()

        let calls = try await proxy.calls()["ECS.ListClusters"]
        #expect(calls?["total"] == 3)
        #expect(calls?["faulted"] == 2)
        #expect(calls?["forwarded"] == 1)
        let retries = logs.all.filter { $0.message == "retrying AWS call" }
        #expect(retries.count == 2)
        #expect(retries.allSatisfy { $0.level == .debug && $0.metadata["aws-operation"] == "ListClusters" })
        #expect(retries.first?.metadata["error"] == "ThrottlingException (HTTP 400)")
        #expect(retries.map { $0.metadata["attempt"] } == ["1", "2"])
    }

    @Test(arguments: ["Throttling", "PriorRequestNotComplete", "500", "503", "reset"])
    func route53TransientFaultsAreRetried(_ fault: String) async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)
        let zoneName = "retry-\(UUID().uuidString.prefix(6).lowercased()).mesh.local"
        let zone = try await AWSSeeder(client: client).createHostedZone(zoneName)
        try await proxy.inject(fault, operation: "Route53.ChangeResourceRecordSets", count: 2)
        _ = try await LiveRoute53(client: client).changeResourceRecordSets(
            zoneId: zone, comment: nil,
            changes: [
                RecordChange(.upsert, ResourceRecordSet(name: "a.\(zoneName).", type: "A", ttl: 60, values: ["127.4.0.9"]))
            ])
        #expect(try await proxy.total("Route53.ChangeResourceRecordSets") == 3)
    }

    @Test func accessDeniedIsNotRetried() async throws {
        let (proxy, moto) = try await setUp()
        // A real AccessDenied from moto's IAM check (the limited user may only list clusters).
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.limited)
        let error = await #expect(throws: AWSServiceError.self) {
            try await LiveSecretsManager(client: client).getSecretValue(id: "x", versionStage: nil, versionId: nil)
        }
        #expect(error?.isAccessDenied == true)
        #expect(try await proxy.total("SecretsManager.GetSecretValue") == 1)
        // And an injected one, in the service's own error shape.
        try await proxy.inject("AccessDenied", operation: "ECS.ListTasks", count: 5)
        let injected = await #expect(throws: AWSServiceError.self) {
            try await LiveECS(client: TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)).listTasks(
                cluster: "c", desiredStatus: "RUNNING")
        }
        #expect(injected?.code == "AccessDeniedException")
        #expect(try await proxy.total("ECS.ListTasks") == 1)
    }

    @Test func throttlingPastTheAttemptsSurfacesTheLastError() async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)
        try await proxy.inject("ThrottlingException", operation: "SecretsManager.DescribeSecret", count: -1)
        let error = await #expect(throws: AWSServiceError.self) {
            try await LiveSecretsManager(client: client).describeSecret(id: "anything")
        }
        #expect(error?.code == "ThrottlingException")
        #expect(error?.description.contains("Secrets Manager DescribeSecret failed: ThrottlingException (HTTP 400)") == true)
        #expect(try await proxy.total("SecretsManager.DescribeSecret") == 3)
    }

    @Test func droppedConnectionsAreRetriedAndReportedWhenPersistent() async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)
        try await proxy.inject("reset", operation: "ECS.ListClusters", count: 1)
        _ = try await LiveECS(client: client).listClusters()
        #expect(try await proxy.total("ECS.ListClusters") == 2)

        try await proxy.inject("reset", operation: "ECS.ListClusters", count: -1)
        let error = await #expect(throws: AWSClientError.self) { try await LiveECS(client: client).listClusters() }
        #expect(error?.description.hasPrefix("ECS ListClusters failed: POST \(proxy.baseURL)/: the connection was closed") == true)
    }

    @Test func credentialsRejectedAsExpiredAreFetchedAgainOnce() async throws {
        let (proxy, moto) = try await setUp()
        let provider = RefreshingCredentialProvider { moto.admin }
        let client = TestAWS.client(endpoint: proxy.baseURL, provider: provider)
        _ = try await LiveECS(client: client).listClusters()
        #expect(await provider.fetchCount == 1, "long-term credentials are cached")
        try await proxy.inject("ExpiredTokenException", operation: "ECS.ListClusters", count: 1)
        _ = try await LiveECS(client: client).listClusters()
        #expect(await provider.fetchCount == 2, "the rejection made the client fetch credentials again")
        #expect(try await proxy.total("ECS.ListClusters") == 3)
        // Rejected twice in a row: surfaced, not looped on.
        try await proxy.inject("ExpiredTokenException", operation: "ECS.ListClusters", count: 2)
        let error = await #expect(throws: AWSServiceError.self) { try await LiveECS(client: client).listClusters() }
        #expect(error?.description.contains("the credentials have expired") == true)
    }

    @Test func clientSideRateLimitSpacesRequests() async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin, rateLimits: ["ECS": 10])
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { _ = try await LiveECS(client: client).listClusters() } }
            try await group.waitForAll()
        }
        // Six requests at 10/s cannot all be sent in under half a second, however fast the machine.
        #expect(ContinuousClock.now - start >= .milliseconds(500))
        #expect(try await proxy.total("ECS.ListClusters") == 6)
    }
}
