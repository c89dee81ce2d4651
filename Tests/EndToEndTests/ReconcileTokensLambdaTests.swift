import AWS
import Foundation
import KMeshSupport
import Kuma
import TestSupport
import Testing

/// The reconcile-tokens binary as a Lambda custom runtime: AWS_LAMBDA_RUNTIME_API points at the
/// fake Runtime API; AWS is moto (signature checking on) behind the proxy; Kuma is the stand-in.
struct ReconcileTokensLambdaTests {
    static func taskEvent(cluster: String, task: String, last: String = "PROVISIONING", desired: String = "RUNNING", version: Int = 2)
        -> [String: Any]
    {
        [
            "version": "0", "id": UUID().uuidString, "detail-type": "ECS Task State Change", "source": "aws.ecs",
            "account": "123456789012", "time": "2026-11-22T06:00:00Z", "region": "us-east-1", "resources": [task],
            "detail": [
                "clusterArn": cluster, "taskArn": task, "lastStatus": last, "desiredStatus": desired, "version": version,
                "group": "service:x", "launchType": "FARGATE", "createdAt": "2026-11-22T05:59:58.402Z", "containers": [],
                "someFieldFromTheFuture": ["x": 1],
            ],
        ]
    }

    static var scheduled: [String: Any] {
        [
            "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-22T06:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/reconcile-tokens"], "detail": [:],
        ]
    }

    @Test func eventsDriveSingleTaskAndFullPassesAndBadEventsAreErrorsTheLoopSurvives() async throws {
        let w = try await TokensWorld.make(region: "eu-south-1")
        defer { w.stop() }
        let runtime = try await RuntimeStandin.start()
        defer { runtime.process.stop() }
        let clusterArn = try await w.seed.createCluster("lam")
        let tasks = try await w.seed.runTasks(cluster: "lam", family: "a", count: 1, tags: ["kuma.io/service": "alpha"])
        _ = try await w.seed.runTasks(cluster: "lam", family: "b", count: 2, tags: ["kuma.io/service": "beta"])
        try await w.secret("alpha")
        try await w.secret("beta")
        _ = try await w.seed.createSecret("kuma/api", value: w.kuma.adminToken.value)
        var env = w.environment(extra: [
            "AWS_LAMBDA_RUNTIME_API": runtime.endpoint, "KMESH_CLUSTERS": "lam",
            "KUMA_API_TOKEN_SECRET_ID": "kuma/api", "_HANDLER": "bootstrap",
        ])
        env["KUMA_API_TOKEN"] = nil
        let function = try BackgroundBinary("reconcile-tokens", environment: env)
        defer { function.stop() }

        // A task waiting for its secret: a single-task pass for its service only.
        let first = try await runtime.enqueue(Self.taskEvent(cluster: clusterArn, task: tasks[0]))
        let r1 = try #require(try await runtime.result(first), "no answer: \(function.stop().output)")
        #expect(r1["kind"] as? String == "response")
        let report1 = try #require(r1["body"] as? [String: Any])
        let services1 = report1["services"] as? [[String: Any]] ?? []
        #expect(services1.map { $0["service"] as? String } == ["alpha"] && services1.first?["action"] as? String == "written")
        #expect(try await w.verifiedClaims("alpha") != nil)
        #expect(try await w.stored("beta").isEmpty, "a single-task pass touches only that task's service")

        // The same event again (EventBridge delivers at least once): skipped by this warm instance.
        let repeatId = try await runtime.enqueue(Self.taskEvent(cluster: clusterArn, task: tasks[0]))
        let repeated = try #require(try await runtime.result(repeatId))
        #expect(
            (repeated["body"] as? [String: Any])?["skipped"] as? String == "repeat of an event already handled (\(tasks[0]), version 2)")
        let stopping = try #require(
            try await runtime.result(
                try await runtime.enqueue(
                    Self.taskEvent(cluster: clusterArn, task: tasks[0], last: "DEPROVISIONING", desired: "STOPPED", version: 5))))
        #expect(((stopping["body"] as? [String: Any])?["skipped"] as? String)?.contains("is stopping") == true)

        // Bad events are error responses; the loop goes on.
        let malformed = try #require(try await runtime.result(try await runtime.enqueue("{not json")))
        #expect(malformed["kind"] as? String == "error" && malformed["error_type"] as? String == "Function.MalformedEvent")
        let unsupported = try #require(
            try await runtime.result(
                try await runtime.enqueue(["detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": [:]])))
        #expect(unsupported["error_type"] as? String == "Function.UnsupportedEvent")
        #expect(
            ((unsupported["body"] as? [String: Any])?["errorMessage"] as? String)?.contains("EC2 Instance State-change Notification")
                == true)
        let huge = try #require(try await runtime.result(try await runtime.enqueue(String(repeating: "x", count: 300_000))))
        #expect(huge["error_type"] as? String == "Function.PayloadTooLarge")
        let noDetail = try #require(
            try await runtime.result(
                try await runtime.enqueue([
                    "detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": ["lastStatus": "PENDING"],
                ])))
        #expect(noDetail["error_type"] as? String == "Function.MalformedEvent")

        // The schedule: a full pass.
        let full = try #require(try await runtime.result(try await runtime.enqueue(Self.scheduled)))
        let totals = (full["body"] as? [String: Any])?["totals"] as? [String: Int]
        #expect(full["kind"] as? String == "response" && totals?["written"] == 1 && totals?["unchanged"] == 1)
        #expect(try await w.verifiedClaims("beta") != nil)
        let empty = try #require(try await runtime.result(try await runtime.enqueue([String: Any]())))
        #expect((((empty["body"] as? [String: Any])?["totals"]) as? [String: Int])?["unchanged"] == 2)

        // Near the deadline no new write starts: reported as skipped for the next pass. 2.9 s puts
        // the invocation inside the no-new-write margin (3 s) from its start, while the cancel
        // (1 s before the deadline) is still 1.9 s away, long enough for the reads on a loaded
        // machine (1.5 s left only 0.5 s for them and was cancelled once in CI).
        _ = try await w.seed.runTasks(cluster: "lam", family: "d", count: 1, tags: ["kuma.io/service": "delta"])
        try await w.secret("delta")
        let rushed = try #require(try await runtime.result(try await runtime.enqueue(Self.scheduled, deadlineMs: 2900)))
        let delta = ((rushed["body"] as? [String: Any])?["services"] as? [[String: Any]])?.first { $0["service"] as? String == "delta" }
        #expect(rushed["kind"] as? String == "response")
        #expect(delta?["action"] as? String == "skipped" && (delta?["reason"] as? String)?.contains("deadline") == true)
        #expect(try await w.stored("delta").isEmpty)

        // A failed service makes the invocation an error (EventBridge retries it, then the DLQ).
        _ = try await w.seed.runTasks(cluster: "lam", family: "c", count: 1, tags: ["kuma.io/service": "gamma"])
        let failed = try #require(try await runtime.result(try await runtime.enqueue(Self.scheduled)))
        #expect(failed["kind"] as? String == "error" && failed["error_type"] as? String == "Function.ReconcileFailed")
        #expect(((failed["body"] as? [String: Any])?["errorMessage"] as? String)?.contains("gamma: the secret does not exist") == true)

        // The API token was read from its secret once and kept warm across the invocations: the
        // only GetSecretValue calls are that one and the single-task pass's read of alpha's secret
        // (full passes batch their reads).
        #expect(try await w.proxy.total("SecretsManager.GetSecretValue") == 2)
        #expect(try await w.proxy.total("SecretsManager.BatchGetSecretValue") == 4)
        let output = function.stop()
        let lines = output.stderr.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.contains { $0["msg"] as? String == "token written" && $0["request-id"] as? String == first })
        // Every line logged during an invocation carries its request id, the AWS client's included.
        let duringFirst = lines.filter { ($0["msg"] as? String) == "pass finished" }
        #expect(!duringFirst.isEmpty && duringFirst.allSatisfy { ($0["request-id"] as? String) != nil })
        #expect(!output.output.contains(w.kuma.adminToken.value))
    }

    @Test func aStartUpFailureIsReportedToInitErrorAndTheProcessExits() async throws {
        let runtime = try await RuntimeStandin.start()
        defer { runtime.process.stop() }
        let function = try BackgroundBinary(
            "reconcile-tokens",
            environment: [
                "AWS_LAMBDA_RUNTIME_API": runtime.endpoint, "AWS_REGION": "us-east-1", "KUMA_API_TOKEN": "t",
                "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s",
            ])
        defer { function.stop() }
        #expect(await function.waitForExit(seconds: 20) == 1)
        let results = try await runtime.results()
        #expect(results.count == 1)
        #expect(results.first?["kind"] as? String == "init-error")
        #expect(results.first?["error_type"] as? String == "Runtime.ConfigurationError")
        #expect((((results.first?["body"]) as? [String: Any])?["errorMessage"] as? String)?.contains("KUMA_API_SERVER_URL") == true)
    }
}

extension ReconcileTokensLambdaTests {
    /// A warm instance keeps the API token, and reads its secret again only when the control plane
    /// rejects it: a rotation (new token in the secret, old one revoked) needs no restart.
    @Test func aRotatedAPITokenIsPickedUpAfterA401WithoutARestart() async throws {
        let w = try await TokensWorld.make(region: "me-south-1")
        defer { w.stop() }
        let runtime = try await RuntimeStandin.start()
        defer { runtime.process.stop() }
        _ = try await w.seed.createCluster("rot")
        _ = try await w.seed.runTasks(cluster: "rot", family: "a", count: 1, tags: ["kuma.io/service": "one"])
        try await w.secret("one")
        let admin = try w.kuma.client(token: w.kuma.adminToken)
        let oldToken = try await admin.generateUserToken(name: "ecs-controller", groups: ["mesh-system:admin"], validFor: GoDuration("1h")!)
        _ = try await w.seed.createSecret("kuma/rotating", value: oldToken.value)
        var env = w.environment(extra: [
            "AWS_LAMBDA_RUNTIME_API": runtime.endpoint, "KMESH_CLUSTERS": "rot",
            "KUMA_API_TOKEN_SECRET_ID": "kuma/rotating",
        ])
        env["KUMA_API_TOKEN"] = nil
        let function = try BackgroundBinary("reconcile-tokens", environment: env)
        defer { function.stop() }

        let first = try #require(try await runtime.result(try await runtime.enqueue(Self.scheduled)))
        #expect(first["kind"] as? String == "response", "\(first)")
        // The API token's secret, and service one's secret (a pass with one secret does not batch).
        #expect(try await w.proxy.total("SecretsManager.GetSecretValue") == 2)

        // Rotate: a new token in the secret, the old one revoked in the control plane.
        let newToken = try await admin.generateUserToken(name: "ecs-controller", groups: ["mesh-system:admin"], validFor: GoDuration("1h")!)
        _ = try await w.direct.putSecretValue(
            id: "kuma/rotating", clientRequestToken: "rotation-" + UUID().uuidString,
            secretString: newToken, versionStages: nil)
        try await admin.putGlobalSecret(name: "user-token-revocations", data: Secret(try KumaTokenClaims.decode(oldToken).id!))
        _ = try await w.seed.runTasks(cluster: "rot", family: "b", count: 1, tags: ["kuma.io/service": "two"])
        try await w.secret("two")

        let second = try #require(try await runtime.result(try await runtime.enqueue(Self.scheduled)))
        #expect(second["kind"] as? String == "response", "\(second)")
        #expect((((second["body"] as? [String: Any])?["totals"]) as? [String: Int])?["written"] == 1)
        #expect(try await w.verifiedClaims("two") != nil)
        // Two services now: batched; the only new GetSecretValue is the token's, after the 401.
        #expect(try await w.proxy.total("SecretsManager.GetSecretValue") == 3, "the token secret is read again once, after the 401")
        #expect(try await w.kuma.calls()["GET /who-am-i"] == 3, "one preflight in the first pass; a 401 then the retry in the second")
        let output = function.stop()
        #expect(!output.output.contains(oldToken.value) && !output.output.contains(newToken.value))
    }
}
