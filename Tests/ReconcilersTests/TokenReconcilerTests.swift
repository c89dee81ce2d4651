import AWS
import Foundation
import HTTPTransport
import KMeshSupport
import Kuma
import ReconcileCore
import TestSupport
import Testing

@testable import Reconcilers

/// TokenReconciler on the in-memory fakes: the reconciler contract (idempotent, dry-run stops at
/// the apply boundary, partial failure, the deadline, a lost race) in milliseconds, without peers.
struct TokenReconcilerTests {
    struct World {
        let ecs = FakeECS()
        let secrets = FakeSecretsManager()
        let kuma = FakeKuma(meshes: ["default", "payments"])
        let logs = LogCapture()

        func reconciler(
            dryRun: Bool = false, concurrency: Int = 4, clock: any WallClock = SystemWallClock(),
            secrets override: (any SecretsManagerAPI)? = nil
        ) -> TokenReconciler {
            var options = TokenReconciler.Options()
            options.dryRun = dryRun
            options.concurrency = concurrency
            return TokenReconciler(
                ecs: ecs, secrets: override ?? secrets, kuma: kuma, options: options, clock: clock, logger: logs.logger())
        }

        /// `count` services with `tasks` tasks each in cluster `prod`, each with its secret `{}`.
        func seed(services count: Int, tasks: Int = 2) {
            for s in 0..<count {
                for t in 0..<tasks {
                    ecs.add(cluster: "prod", arn: "arn:aws:ecs:eu-west-1:111122223333:task/prod/s\(s)t\(t)", service: "svc-\(s)")
                }
                secrets.create("kong-mesh-ecs/svc-\(s)", value: "{}")
            }
        }

        func token(_ service: String) throws -> KumaTokenClaims? {
            guard let text = secrets.current("kong-mesh-ecs/\(service)"),
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let token = object["token"] as? String
            else { return nil }
            return try KumaTokenClaims.decode(Secret(token))
        }
    }

    static let reads = ["ListClusters", "ListTasks", "DescribeTasks", "BatchGetSecretValue", "GetSecretValue", "DescribeSecret"]

    @Test func convergesThenTheSecondPassOnlyReads() async throws {
        let w = World()
        w.seed(services: 45, tasks: 3)  // 135 tasks: two DescribeTasks; 45 secrets: three batches
        let first = await w.reconciler().run(.all)
        #expect(!first.failed && first.totals["written"] == 45, "\(first.failures)")
        #expect(try w.token("svc-7")?.tags == ["kuma.io/service": ["svc-7"]] && w.token("svc-7")?.mesh == "default")
        #expect(w.secrets.calls.count("PutSecretValue") == 45 && w.kuma.calls.count("POST /tokens/dataplane") == 45)

        let before = w.secrets.calls.all.merging(w.ecs.calls.all) { a, _ in a }
        let second = await w.reconciler().run(.all)
        #expect(!second.failed && second.totals["unchanged"] == 45 && second.totals["written"] == 0)
        #expect(w.secrets.calls.count("PutSecretValue") == 45, "the converged pass wrote")
        #expect(w.kuma.calls.count("POST /tokens/dataplane") == 45, "the converged pass asked for tokens")
        #expect(w.ecs.calls.count("DescribeTasks") - (before["DescribeTasks"] ?? 0) == 2, "100 tasks per DescribeTasks")
        #expect(w.secrets.calls.count("BatchGetSecretValue") - (before["BatchGetSecretValue"] ?? 0) == 3, "20 secrets per batch")
        #expect(w.secrets.versions("kong-mesh-ecs/svc-0").count == 2, "one new version per secret, not one per pass")
    }

    @Test func dryRunReadsAndPlansButWritesNothing() async throws {
        let w = World()
        w.seed(services: 3)
        let report = await w.reconciler(dryRun: true).run(.all)
        #expect(report.dryRun && report.totals["would-write"] == 3 && !report.failed)
        #expect(w.secrets.calls.count("PutSecretValue") == 0 && w.kuma.calls.all.isEmpty, "\(w.kuma.calls.all)")
        #expect(w.secrets.current("kong-mesh-ecs/svc-0") == "{}")
        #expect(report.summary.hasPrefix("dry run: 3 services, 6 tasks in 1 cluster: 0 unchanged, 0 written, 3 would-write"))
    }

    @Test func oneFailedWriteFailsThePassButTheOthersAreDone() async throws {
        let w = World()
        w.seed(services: 4)
        w.ecs.add(cluster: "prod", arn: "arn:aws:ecs:eu-west-1:111122223333:task/prod/lost", service: "lost", mesh: "nowhere")
        w.secrets.create("kong-mesh-ecs/lost", value: "{}")
        w.secrets.calls.failNext(
            "PutSecretValue",
            with: AWSServiceError(
                service: "Secrets Manager", operation: "PutSecretValue", status: 400,
                code: "AccessDeniedException", message: "not allowed"))
        let report = await w.reconciler(concurrency: 1).run(.all)
        #expect(report.failed && report.totals["written"] == 3 && report.totals["failed"] == 2)
        #expect(report.services.first { $0.service == "lost" }?.reason.contains("Signing Key not found") == true)
        #expect(report.failures.count == 2 && report.failures.allSatisfy { !$0.contains("\n") })
        // The next pass finishes the job and leaves the rest alone.
        let again = await w.reconciler().run(.all)
        #expect(again.totals["written"] == 1 && again.totals["unchanged"] == 3 && again.totals["failed"] == 1)
    }

    @Test func noWriteStartsAfterTheDeadline() async throws {
        let w = World()
        w.seed(services: 5)
        // Each read of the reconciler's clock moves it one second: the pass starts at T (the plan),
        // and the write checks see T+1, T+2, T+3...
        let clock = ManualClock(step: 1)
        let start = clock.now()
        clock.advance(by: -1)
        let report = await w.reconciler(concurrency: 1, clock: clock).run(.all, deadline: start.addingTimeInterval(2.5))
        #expect(report.totals["written"] == 2 && report.totals["skipped"] == 3, "\(report.totals)")
        #expect(report.services.filter { $0.action == .skipped }.allSatisfy { $0.reason.contains("deadline") })
        #expect(w.secrets.calls.count("PutSecretValue") == 2)
    }

    @Test func aLostRaceIsTheOtherPassesWrite() async throws {
        let w = World()
        w.seed(services: 1)
        let racing = RacingSecrets(inner: w.secrets)
        let report = await w.reconciler(secrets: racing).run(.all)
        #expect(!report.failed && report.totals["unchanged"] == 1, "\(report.failures)")
        #expect(report.services.first?.reason.contains("written by a concurrent pass") == true)
        #expect(w.secrets.current("kong-mesh-ecs/svc-0") == #"{"token":"the other pass's"}"#, "the winner's value stays")
        #expect(w.secrets.versions("kong-mesh-ecs/svc-0").count == 2, "one new version, not two")
    }

    @Test func anUnreachableControlPlaneIsOneLineAndNoWrite() async throws {
        let w = World()
        w.seed(services: 3)
        w.kuma.calls.failAlways(
            "GET /who-am-i",
            with: KumaClientError.unreachable(
                baseURL: "https://cp:5682",
                TransportError(kind: .connect, method: "GET", url: "https://cp:5682/who-am-i", detail: "refused")))
        let report = await w.reconciler().run(.all)
        #expect(report.failed && report.errors.count == 1 && report.errors[0].contains("unreachable"))
        #expect(report.totals["failed"] == 3 && w.secrets.calls.count("PutSecretValue") == 0)
        #expect(w.kuma.calls.count("POST /tokens/dataplane") == 0)
    }

    @Test func singleTaskScopeTouchesOnlyThatService() async throws {
        let w = World()
        w.seed(services: 3)
        let report = await w.reconciler().run(.task(cluster: "prod", taskArn: "arn:aws:ecs:eu-west-1:111122223333:task/prod/s1t0"))
        #expect(report.services.map(\.service) == ["svc-1"] && report.totals["written"] == 1)
        #expect(w.secrets.current("kong-mesh-ecs/svc-0") == "{}" && w.secrets.calls.count("BatchGetSecretValue") == 0)
    }
}

/// Secrets Manager where another pass, working from the same version, writes first: its
/// PutSecretValue lands with the same ClientRequestToken just before ours.
struct RacingSecrets: SecretsManagerAPI {
    let inner: FakeSecretsManager
    func getSecretValue(id: String, versionStage: String?, versionId: String?) async throws -> SecretValue {
        try await inner.getSecretValue(id: id, versionStage: versionStage, versionId: versionId)
    }
    func batchGetSecretValue(ids: [String]) async throws -> BatchSecretValues { try await inner.batchGetSecretValue(ids: ids) }
    func putSecretValue(id: String, clientRequestToken: String, secretString: Secret, versionStages: [String]?) async throws
        -> PutSecretValueResult
    {
        _ = try await inner.putSecretValue(
            id: id, clientRequestToken: clientRequestToken, secretString: Secret(#"{"token":"the other pass's"}"#),
            versionStages: versionStages)
        return try await inner.putSecretValue(
            id: id, clientRequestToken: clientRequestToken, secretString: secretString, versionStages: versionStages)
    }
    func describeSecret(id: String) async throws -> SecretDescription { try await inner.describeSecret(id: id) }
    func updateSecretVersionStage(id: String, stage: String, moveToVersionId: String?, removeFromVersionId: String?) async throws {
        try await inner.updateSecretVersionStage(
            id: id, stage: stage, moveToVersionId: moveToVersionId, removeFromVersionId: removeFromVersionId)
    }
}
