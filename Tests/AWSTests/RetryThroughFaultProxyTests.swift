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

    /// A list read wrongly must never look like a short list (the DNS reconciler would delete
    /// what it did not see): a proxy's HTML page, garbage and a cut body are errors naming the call.
    @Test(arguments: ["content-type", "garbage", "truncated", "huge"])
    func aSpoiledRecordListIsAnErrorNotAnEmptyList(_ fault: String) async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)
        let zoneName = "spoiled-\(UUID().uuidString.prefix(6).lowercased()).mesh.local"
        let zone = try await AWSSeeder(client: client).createHostedZone(zoneName)
        let route53 = LiveRoute53(client: client)
        #expect(try await route53.listResourceRecordSets(zoneId: zone).count == 2)  // SOA and NS
        try await proxy.inject(fault, operation: "Route53.ListResourceRecordSets", count: -1)
        let error = await #expect(throws: (any Error).self) { try await route53.listResourceRecordSets(zoneId: zone) }
        let line = error.map { "\($0)" } ?? ""
        #expect(line.contains("ListResourceRecordSets"), "\(line)")
        if fault == "content-type" {
            #expect(line.contains("expected a ListResourceRecordSetsResponse document, got <html> (text/html)"), "\(line)")
        }
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

    /// A create whose answer is lost after it was done upstream is retried: the seeder's
    /// ClientRequestToken makes the retry the same create. (Without it the retry met
    /// ResourceExistsException: seen twice on one core, where moto answers slowly.)
    @Test func aCreateRetriedAfterItsAnswerWasCutIsTheSameCreate() async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin)
        try await proxy.inject("cut", operation: "SecretsManager.CreateSecret", count: 1)
        let name = "retried-create-\(UUID().uuidString.prefix(8))"
        let arn = try await AWSSeeder(client: client).createSecret(name, value: "{}")
        #expect(arn.contains(name))
        let calls = try await proxy.calls()["SecretsManager.CreateSecret"]
        #expect(calls?["total"] == 2 && calls?["forwarded"] == 2, "the first was done upstream, then retried: \(String(describing: calls))")
    }

    @Test func clientSideRateLimitHoldsEverySecondToTheLimitWithoutIdling() async throws {
        let (proxy, moto) = try await setUp()
        let client = TestAWS.client(endpoint: proxy.baseURL, credentials: moto.admin, rateLimits: ["ECS": 3])
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<7 { group.addTask { _ = try await LiveECS(client: client).listClusters() } }
            try await group.waitForAll()
        }
        // Seven requests at 3 in any second: the seventh cannot go before two full windows.
        #expect(ContinuousClock.now - start >= .seconds(2))
        let arrivals = try #require(try await proxy.arrivals()["ECS.ListClusters"]).sorted()
        #expect(arrivals.count == 7)
        let busiest = arrivals.indices.map { i in arrivals[i...].prefix { $0 < arrivals[i] + 1.0 }.count }.max() ?? 0
        #expect(busiest <= 3, "\(busiest) requests within one second: \(arrivals.map { $0 - arrivals[0] })")
        #expect(arrivals[2] - arrivals[0] < 0.5, "the first three go at once: the limiter waits only when the window is full")
    }
}

/// The sliding-window limiter: at most `limit` grants in any window, and no wait while the window
/// has room (it never idles).
struct RateWindowTests {
    @Test func aBurstGoesAtOnceAndTheRestWaitsOnlyForTheWindow() {
        var w = RateWindow(limit: 5)
        let t0 = ContinuousClock.now
        let slots = (0..<12).map { _ in w.reserve(at: t0) }
        #expect(slots.prefix(5).allSatisfy { $0 == t0 }, "five go at once: no spacing while the window has room")
        #expect(slots[5..<10].allSatisfy { $0 == t0 + .seconds(1) } && slots[10..<12].allSatisfy { $0 == t0 + .seconds(2) })
        for i in 0..<slots.count where i >= 5 { #expect(slots[i] - slots[i - 5] >= .seconds(1)) }
    }

    @Test func aRequestAfterAQuietSpellDoesNotWait() {
        var w = RateWindow(limit: 5)
        let t0 = ContinuousClock.now
        for _ in 0..<5 { _ = w.reserve(at: t0) }
        #expect(w.reserve(at: t0 + .milliseconds(1500)) == t0 + .milliseconds(1500))
        #expect(w.reserve(at: t0 + .milliseconds(1600)) == t0 + .milliseconds(1600), "the window holds one grant")
    }

    /// Seven at once at 3 a window: the second three were reserved for 1.05 s but went at 1.126 s
    /// (their waits ended late); the seventh, reserved for 2.1 s, must then wait for 2.176 s, or four
    /// would go within one window. (Seen under ThreadSanitizer with other suites running.)
    @Test func aWaitThatEndsLateHoldsTheRequestsAfterIt() {
        let window = Duration.milliseconds(1050)
        var w = RateWindow(limit: 3, window: window)
        let t0 = ContinuousClock.now
        let slots = (0..<7).map { _ in w.reserve(at: t0) }
        #expect(slots[6] == t0 + .milliseconds(2100))
        let went: [Duration] = [.zero, .milliseconds(10), .milliseconds(15), .milliseconds(1126), .milliseconds(1127), .milliseconds(1128)]
        for (i, offset) in went.enumerated() {
            #expect(w.earliestBySent(at: t0 + offset) == t0 + offset, "request \(i + 1) may go when it woke")
            w.recordSent(at: t0 + offset)
        }
        #expect(w.earliestBySent(at: slots[6]) == t0 + .milliseconds(1126) + window)
        // Recorded in any order, the latest two sent are what counts.
        var v = RateWindow(limit: 2, window: .seconds(1))
        for ms in [300, 100, 200] { v.recordSent(at: t0 + .milliseconds(ms)) }
        #expect(v.earliestBySent(at: t0) == t0 + .milliseconds(1200))
    }
}
