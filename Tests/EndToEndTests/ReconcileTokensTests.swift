import AWS
import Foundation
import KMeshSupport
import TestSupport
import Testing

/// reconcile-tokens, the built binary, end to end: moto with signature checking behind the fault
/// proxy, and the Kuma stand-in. Each test has its own AWS region, proxy and stand-in.
struct ReconcileTokensTests {
    struct Report: Decodable {
        struct Entry: Decodable {
            let mesh: String?
            let service: String
            let secret: String?
            let tasks: Int
            let action: String
            let reason: String
        }
        let dryRun: Bool
        let clusters: Int
        let tasksSeen: Int
        let services: [Entry]
        let totals: [String: Int]
        let errors: [String]
        func entry(_ service: String) -> Entry? { services.first { $0.service == service } }
    }

    func report(_ run: BinaryRun) throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
    }

    @Test func convergesAcrossClustersAndMeshesAndTheSecondPassWritesNothing() async throws {
        let w = try await TokensWorld.make(region: "us-west-1", meshes: ["default", "payments"])
        defer { w.stop() }
        try await w.cluster("prod", [("web", nil, 3), ("billing", "payments", 2), ("plain", nil, 0)])
        try await w.cluster("batch", [("worker", nil, 2), ("ledger", "payments", 1), ("web", nil, 1)])
        _ = try await w.seed.runTasks(cluster: "prod", family: "untagged", count: 2, tags: ["team": "data"])
        for s in ["web", "billing", "worker", "ledger"] { try await w.secret(s) }

        let first = try await w.reconcile(["--cluster", "prod", "--cluster", "batch", "--output", "json"])
        #expect(first.exitCode == 0, "\(first.output)")
        let r1 = try report(first)
        #expect(r1.totals["written"] == 4 && r1.clusters == 2 && r1.tasksSeen == 9)
        #expect(r1.entry("web")?.tasks == 4 && r1.entry("web")?.reason == "no token yet")
        for (service, mesh) in [("web", "default"), ("billing", "payments"), ("worker", "default"), ("ledger", "payments")] {
            let claims = try #require(try await w.verifiedClaims(service), "no valid token in \(service)")
            #expect(claims["Mesh"] as? String == mesh)
            #expect((claims["Tags"] as? [String: [String]]) == ["kuma.io/service": [service]])
            #expect(claims["Name"] as? String == "")
            let exp = try #require(claims["exp"] as? Double)
            #expect(abs(exp - Date().timeIntervalSince1970 - 8760 * 3600) < 120)
        }
        #expect(try await w.proxy.forwarded("SecretsManager.PutSecretValue") == 4)
        #expect(try await w.kuma.calls()["POST /tokens/dataplane"] == 4)

        // Second pass: reads, finds every token valid, writes nothing, asks Kuma for nothing.
        let putsBefore = try await w.proxy.total("SecretsManager.PutSecretValue")
        let tokensBefore = try await w.kuma.calls()["POST /tokens/dataplane"] ?? 0
        let second = try await w.reconcile(["--cluster", "prod", "--cluster", "batch", "--output", "json"])
        #expect(second.exitCode == 0)
        let r2 = try report(second)
        #expect(r2.totals["unchanged"] == 4 && r2.totals["written"] == 0)
        #expect(r2.entry("billing")?.reason.hasPrefix("valid for 364d") == true)
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == putsBefore)
        #expect(try await w.kuma.calls()["POST /tokens/dataplane"] ?? 0 == tokensBefore)
        #expect(second.logLines.contains { ($0["msg"] as? String) == "nothing to write: every secret holds a valid token" })
        #expect(!second.output.contains(w.kuma.adminToken.value), "the API token leaked into the output")
    }

    @Test func replacesWrongAndStaleTokensKeepsOtherKeysAndReportsTheRest() async throws {
        let w = try await TokensWorld.make(region: "eu-west-2", meshes: ["default", "payments"])
        defer { w.stop() }
        let admin = try w.kuma.client(token: w.kuma.adminToken)
        let good = try await admin.generateDataplaneToken(.forService("keep", mesh: "default", validFor: GoDuration("8760h")!)).value
        let otherService = try await admin.generateDataplaneToken(.forService("not-me", mesh: "default", validFor: GoDuration("8760h")!))
            .value
        let otherMesh = try await admin.generateDataplaneToken(.forService("wrong-mesh", mesh: "payments", validFor: GoDuration("8760h")!))
            .value
        let nearExpiry = try await admin.generateDataplaneToken(.forService("near", mesh: "default", validFor: GoDuration("2h")!)).value
        let services = ["keep", "wrong-service", "wrong-mesh", "expired", "near", "garbage", "extra-keys", "missing", "not-json"]
        try await w.cluster("apps", services.map { ($0, nil, 1) } + [("bad/../name", nil, 1)])
        try await w.secret("keep", #"{"token":"\#(good)"}"#)
        try await w.secret("wrong-service", #"{"token":"\#(otherService)"}"#)
        try await w.secret("wrong-mesh", #"{"token":"\#(otherMesh)"}"#)
        try await w.secret("expired", #"{"token":"\#(TokensWorld.unsignedToken(mesh: "default", service: "expired", expiresIn: -3600))"}"#)
        try await w.secret("near", #"{"token":"\#(nearExpiry)"}"#)
        try await w.secret("garbage", #"{"token":"this is not a jwt"}"#)
        try await w.secret("extra-keys", #"{"token":"x.y","owner":"team-a","nested":{"n":1}}"#)
        try await w.secret("not-json", "plain text the reconciler must not touch")

        let run = try await w.reconcile(["--cluster", "apps", "--output", "json"])
        #expect(run.exitCode == 1, "a missing secret makes the pass fail")
        let r = try report(run)
        #expect(r.entry("keep")?.action == "unchanged")
        #expect(r.entry("wrong-service")?.reason == "the stored token is for \"not-me\", not \"wrong-service\"")
        #expect(r.entry("wrong-mesh")?.reason == "the stored token is for mesh \"payments\", not \"default\"")
        #expect(r.entry("expired")?.reason.hasPrefix("the stored token expired") == true)
        #expect(r.entry("near")?.reason.hasPrefix("the stored token expires in 1h") == true)
        #expect(r.entry("garbage")?.reason == "the stored token is not a JWT")
        for s in ["wrong-service", "wrong-mesh", "expired", "near", "garbage", "extra-keys"] {
            #expect(r.entry(s)?.action == "written", "\(s): \(String(describing: r.entry(s)))")
            #expect(try await w.verifiedClaims(s)?["Tags"] as? [String: [String]] == ["kuma.io/service": [s]])
        }
        #expect(try await w.stored("keep")["token"] as? String == good)
        let extra = try await w.stored("extra-keys")
        #expect(extra["owner"] as? String == "team-a" && (extra["nested"] as? [String: Int]) == ["n": 1])

        #expect(r.entry("missing")?.action == "failed")
        #expect(r.entry("missing")?.reason.contains("the secret does not exist: create it") == true)
        #expect(r.entry("not-json")?.action == "failed")
        let notJSON = try await w.direct.getSecretValue(id: w.prefix + "not-json", versionStage: nil, versionId: nil)
        #expect(notJSON.secretString?.value == "plain text the reconciler must not touch")
        #expect(r.entry("bad/../name")?.action == "skipped")
        #expect(r.entry("bad/../name")?.reason.contains("only letters, digits") == true)
        #expect(try await w.proxy.calls().keys.contains { $0.contains("CreateSecret") } == false, "secrets are never created")
        #expect(!run.output.contains(good) && !run.output.contains(nearExpiry), "a token value leaked into the output")
    }

    @Test func dryRunReadsEverythingAndWritesNothing() async throws {
        let w = try await TokensWorld.make(region: "eu-west-3")
        defer { w.stop() }
        try await w.cluster("c1", [("alpha", nil, 2), ("beta", nil, 1)])
        try await w.secret("alpha")
        try await w.secret("beta")
        let run = try await w.reconcile(["--cluster", "c1", "--dry-run"])
        #expect(run.exitCode == 0)
        #expect(
            run.stdout.contains("would-write")
                && run.stdout.contains("dry run: 2 services, 3 tasks in 1 cluster: 0 unchanged, 0 written, 2 would-write"))
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
        #expect(try await w.kuma.calls()["POST /tokens/dataplane"] == nil)
        #expect(try await w.stored("alpha").isEmpty)
        // KMESH_DRY_RUN does the same.
        let viaEnv = try await w.reconcile(["--cluster", "c1"], extra: ["KMESH_DRY_RUN": "true"])
        #expect(viaEnv.exitCode == 0 && viaEnv.stdout.contains("2 would-write"))
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
    }

    @Test func everyClusterWhenNoneIsNamedAndSingleTaskMode() async throws {
        let w = try await TokensWorld.make(region: "eu-north-1")
        defer { w.stop() }
        try await w.cluster("one", [("svc-a", nil, 1)])
        try await w.cluster("two", [("svc-b", nil, 1)])
        try await w.secret("svc-a")
        try await w.secret("svc-b")
        // Single-task mode first: one DescribeTasks, one secret read, one token, one write.
        let taskArn = try #require(try await LiveECSLister(world: w).firstTask(cluster: "two"))
        let single = try await w.reconcile(["--cluster", "two", "--task", taskArn, "--output", "json"])
        #expect(single.exitCode == 0, "\(single.output)")
        let s = try report(single)
        #expect(s.services.map(\.service) == ["svc-b"] && s.entry("svc-b")?.action == "written")
        let calls = try await w.proxy.calls()
        #expect(calls["ECS.DescribeTasks"]?["total"] == 1)
        #expect(calls["ECS.ListTasks"] == nil && calls["ECS.ListClusters"] == nil)
        #expect(calls["SecretsManager.GetSecretValue"]?["total"] == 1)
        #expect(calls["SecretsManager.PutSecretValue"]?["total"] == 1)
        #expect(try await w.kuma.calls()["POST /tokens/dataplane"] == 1)

        let all = try await w.reconcile(["--output", "json"])
        #expect(all.exitCode == 0)
        let r = try report(all)
        #expect(r.clusters == 2 && r.entry("svc-a")?.action == "written" && r.entry("svc-b")?.action == "unchanged")
        #expect(try await w.proxy.total("ECS.ListClusters") == 1)
    }

    @Test func twoPassesAtOnceWriteEachSecretAtMostOnce() async throws {
        let w = try await TokensWorld.make(region: "ap-south-1")
        defer { w.stop() }
        let services = (0..<6).map { "race-\($0)" }
        try await w.cluster("race", services.map { ($0, nil, 1) })
        for s in services { try await w.secret(s) }
        async let a = w.reconcile(["--cluster", "race", "--output", "json"])
        async let b = w.reconcile(["--cluster", "race", "--output", "json"])
        let (ra, rb) = try await (a, b)
        #expect(ra.exitCode == 0 && rb.exitCode == 0, "\(ra.output)\n\(rb.output)")
        for s in services {
            #expect(try await w.versions(s) == 2, "\(s) was written more than once")
            #expect(try await w.verifiedClaims(s) != nil)
        }
        let written = try report(ra).totals["written"]! + report(rb).totals["written"]!
        #expect(written == services.count)
    }

    @Test func kumaFailingForOneMeshLeavesTheOthersDone() async throws {
        let w = try await TokensWorld.make(region: "ap-northeast-1", meshes: ["default", "payments"])
        defer { w.stop() }
        try await w.cluster("c", [("ok-1", nil, 1), ("ok-2", nil, 1), ("pay", "payments", 1)])
        for s in ["ok-1", "ok-2", "pay"] { try await w.secret(s) }
        try await w.kuma.fault("500", path: "/tokens/dataplane", mesh: "payments", count: -1)
        let run = try await w.reconcile(["--cluster", "c", "--output", "json"])
        #expect(run.exitCode == 1)
        let r = try report(run)
        #expect(r.entry("ok-1")?.action == "written" && r.entry("ok-2")?.action == "written")
        #expect(r.entry("pay")?.action == "failed")
        #expect(r.entry("pay")?.reason.hasPrefix("token not issued: Kuma API POST /tokens/dataplane failed (HTTP 500)") == true)
        #expect(try await w.stored("pay").isEmpty)
    }

    @Test func throttlingBurstsOnEveryAWSCallStillConverge() async throws {
        let w = try await TokensWorld.make(region: "ap-southeast-1")
        defer { w.stop() }
        let services = (0..<5).map { "busy-\($0)" }
        try await w.cluster("busy", services.map { ($0, nil, 2) })
        for s in services { try await w.secret(s) }
        // Every other call of every operation is throttled, in each service's own error shape.
        try await w.proxy.inject("ThrottlingException", operation: "*", count: -1, every: 2)
        let run = try await w.reconcile(
            ["--cluster", "busy", "--output", "json", "--log-level", "debug"], extra: ["AWS_MAX_ATTEMPTS": "5"])
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(try report(run).totals["written"] == 5)
        let calls = try await w.proxy.calls()
        #expect(calls.values.reduce(0) { $0 + ($1["faulted"] ?? 0) } >= 5)
        #expect(run.logLines.contains { ($0["msg"] as? String) == "retrying AWS call" })
        for s in services { #expect(try await w.verifiedClaims(s) != nil) }
    }

    @Test func kumaDownIsOneClearLineAndNothingIsWritten() async throws {
        let w = try await TokensWorld.make(region: "sa-east-1")
        defer { w.stop() }
        try await w.cluster("c", [("a", nil, 1), ("b", nil, 1), ("c", nil, 1)])
        for s in ["a", "b", "c"] { try await w.secret(s) }
        let run = try await w.reconcile(["--cluster", "c", "--output", "json"], kumaURL: "http://127.0.0.1:\(closedLoopbackPort())")
        #expect(run.exitCode == 1)
        let r = try report(run)
        #expect(r.errors.count == 1)
        #expect(r.errors.first?.hasPrefix("the Kuma control plane at http://127.0.0.1:") == true)
        #expect(r.errors.first?.contains("could not connect") == true)
        #expect(r.totals["failed"] == 3)
        let errorLines = run.logLines.filter {
            ($0["level"] as? String) == "error" && ($0["msg"] as? String) == "the Kuma API is unreachable"
        }
        #expect(errorLines.count == 1)
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
    }

    @Test func aControlPlaneOnTLSIsTrustedThroughItsCAAsAFileOrAsBytes() async throws {
        let w = try await TokensWorld.make(region: "eu-central-2")
        defer { w.stop() }
        let kuma = try await KumaPeer.start(tls: true)
        defer { kuma.process.stop() }
        let caFile = try #require(kuma.caFile)
        try await w.cluster("c", [("tls-a", nil, 1), ("tls-b", nil, 1)])
        for s in ["tls-a", "tls-b"] { try await w.secret(s) }
        let extra = ["KUMA_API_TOKEN": kuma.adminToken.value]
        // Its CA is not in the system bundle: one line that says so, and nothing is written.
        let refused = try await w.reconcile(["--cluster", "c", "--output", "json"], extra: extra, kumaURL: kuma.baseURL)
        #expect(refused.exitCode == 1)
        #expect(try report(refused).errors.first?.contains("TLS handshake or certificate verification failed") == true, "\(refused.stdout)")
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
        // With the CA as bytes (the system bundle and it, one store) and then as a file.
        let pem = try String(contentsOfFile: caFile, encoding: .utf8)
        let run = try await w.reconcile(["--cluster", "c"], extra: extra.merging(["KUMA_API_CA_BYTES": pem]) { $1 }, kumaURL: kuma.baseURL)
        #expect(run.exitCode == 0, "\(run.stderr)")
        for service in ["tls-a", "tls-b"] {
            let token = try #require(try await w.stored(service)["token"] as? String)
            let verified = try await kuma.verify(Secret(token))
            #expect(verified["valid"] as? Bool == true, "the token of \(service) is the TLS control plane's")
            #expect((verified["claims"] as? [String: Any])?["Tags"] as? [String: [String]] == ["kuma.io/service": [service]])
        }
        let again = try await w.reconcile(
            ["--cluster", "c", "--output", "json"], extra: extra.merging(["KUMA_API_CA_FILE": caFile]) { $1 }, kumaURL: kuma.baseURL)
        let unchanged = try report(again).totals["unchanged"]
        #expect(again.exitCode == 0 && unchanged == 2, "\(again.stdout)")
    }

    @Test func withoutBatchGetPermissionItSaysSoOnceAndReadsOneByOne() async throws {
        let w = try await TokensWorld.make(region: "us-east-2")
        defer { w.stop() }
        let services = (0..<25).map { "nb-\($0)" }
        try await w.cluster("nb", services.map { ($0, nil, 1) })
        for s in services { try await w.secret(s) }
        let run = try await w.reconcile(
            ["--cluster", "nb", "--output", "json"],
            extra: [
                "AWS_ACCESS_KEY_ID": w.moto.noBatch.accessKeyId, "AWS_SECRET_ACCESS_KEY": w.moto.noBatch.secretAccessKey.value,
            ])
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(try report(run).totals["written"] == 25)
        let warnings = run.logLines.filter { ($0["msg"] as? String)?.contains("BatchGetSecretValue") == true }
        #expect(warnings.count == 1, "said \(warnings.count) times")
        #expect(warnings.first?["level"] as? String == "warning")
        #expect(try await w.proxy.total("SecretsManager.GetSecretValue") == 25)
    }

    @Test func rejectedAPITokenAndUnknownMeshAreReportedPlainly() async throws {
        let w = try await TokensWorld.make(region: "us-west-2", meshes: ["default"])
        defer { w.stop() }
        try await w.cluster("c", [("known", nil, 1), ("lost", "ghost", 1)])
        try await w.secret("known")
        try await w.secret("lost")
        let rejected = try await w.reconcile(["--cluster", "c", "--output", "json"], extra: ["KUMA_API_TOKEN": w.kuma.forgedToken.value])
        #expect(rejected.exitCode == 1)
        let r1 = try report(rejected)
        #expect(r1.errors.count == 1 && r1.errors[0].contains("HTTP 401") && r1.errors[0].contains("issue a new user token"))
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
        #expect(!rejected.output.contains(w.kuma.forgedToken.value))

        let run = try await w.reconcile(["--cluster", "c", "--output", "json"])
        #expect(run.exitCode == 1)
        let r2 = try report(run)
        #expect(r2.entry("known")?.action == "written")
        #expect(r2.entry("lost")?.action == "failed")
        #expect(r2.entry("lost")?.reason.contains("Signing Key not found") == true)
        #expect(r2.entry("lost")?.reason.contains("check the kuma.io/mesh tag") == true)
    }

    @Test func accessDeniedSaysWhichPermissionIsMissing() async throws {
        let w = try await TokensWorld.make(region: "af-south-1")
        defer { w.stop() }
        try await w.cluster("locked", [("svc", nil, 1)])
        let run = try await w.reconcile(
            ["--output", "json"],
            extra: [
                "AWS_ACCESS_KEY_ID": w.moto.limited.accessKeyId, "AWS_SECRET_ACCESS_KEY": w.moto.limited.secretAccessKey.value,
            ])
        #expect(run.exitCode == 1)
        let r = try report(run)
        #expect(r.errors.count == 1, "\(r.errors)")
        #expect(r.errors.first?.hasPrefix("cannot list the tasks of cluster") == true)
        #expect(r.errors.first?.contains("the IAM policy of the caller does not allow ecs:ListTasks") == true)
        #expect(try await w.proxy.total("ECS.ListTasks") == 1, "AccessDenied is not retried")
        #expect(!run.output.contains(w.moto.limited.secretAccessKey.value))
    }

    @Test func configurationAndUsageErrorsExitWithTheirCodes() async throws {
        let noURL = try await Binaries.run("reconcile-tokens", [], environment: ["KUMA_API_TOKEN": "t", "AWS_REGION": "eu-west-1"])
        #expect(noURL.exitCode == 78 && noURL.stderr.contains("KUMA_API_SERVER_URL"))
        let noToken = try await Binaries.run(
            "reconcile-tokens", [], environment: ["KUMA_API_SERVER_URL": "http://127.0.0.1:1", "AWS_REGION": "eu-west-1"])
        #expect(noToken.exitCode == 78 && noToken.stderr.contains("no Kuma API token"))
        let noRegion = try await Binaries.run(
            "reconcile-tokens", [],
            environment: [
                "KUMA_API_SERVER_URL": "http://127.0.0.1:1", "KUMA_API_TOKEN": "t",
                "AWS_EC2_METADATA_DISABLED": "true",
            ])
        #expect(noRegion.exitCode == 78 && noRegion.stderr.contains("AWS_REGION"))
        let badCA = try await Binaries.run(
            "reconcile-tokens", ["--ca-file", "/nonexistent.pem"],
            environment: ["KUMA_API_SERVER_URL": "https://127.0.0.1:1", "KUMA_API_TOKEN": "t"])
        #expect(badCA.exitCode == 78 && badCA.stderr.contains("cannot read the CA file /nonexistent.pem"))
        let badDuration = try await Binaries.run(
            "reconcile-tokens", [],
            environment: ["KUMA_API_SERVER_URL": "http://127.0.0.1:1", "KUMA_API_TOKEN": "t", "KMESH_RENEW_BEFORE": "30d"])
        #expect(badDuration.exitCode == 78 && badDuration.stderr.contains("KMESH_RENEW_BEFORE is \"30d\""))
        let usage = try await Binaries.run("reconcile-tokens", ["--task", "arn:aws:ecs:x"], environment: [:])
        #expect(usage.exitCode == 64)
        let unknown = try await Binaries.run("reconcile-tokens", ["--frobnicate"], environment: [:])
        #expect(unknown.exitCode == 64)
        // A bad flag value is usage, whatever else is missing; the same value in a variable is configuration.
        let badFlag = try await Binaries.run("reconcile-tokens", ["--output", "yaml"], environment: [:])
        #expect(badFlag.exitCode == 64 && badFlag.stderr.contains("--output is \"yaml\""), "\(badFlag.output)")
        let badVariable = try await Binaries.run(
            "reconcile-tokens", [],
            environment: ["KUMA_API_SERVER_URL": "http://127.0.0.1:1", "KUMA_API_TOKEN": "t", "KMESH_OUTPUT": "yaml"])
        #expect(badVariable.exitCode == 78 && badVariable.stderr.contains("KMESH_OUTPUT is \"yaml\""), "\(badVariable.output)")
        for run in [noURL, noToken, noRegion, badCA, badDuration, badVariable] {
            #expect(run.stderr.split(separator: "\n").count == 1, "not one line: \(run.stderr)")
            #expect(!run.stderr.contains("\"t\""))
        }
    }

    @Test func apiTokenFromASecretPlainOrJSON() async throws {
        let w = try await TokensWorld.make(region: "ca-central-1")
        defer { w.stop() }
        try await w.cluster("c", [("svc", nil, 1)])
        try await w.secret("svc")
        _ = try await w.seed.createSecret("kuma/api-token-json", value: #"{"token":"\#(w.kuma.adminToken.value)"}"#)
        _ = try await w.seed.createSecret("kuma/api-token-plain", value: w.kuma.adminToken.value)
        var env = w.environment()
        env["KUMA_API_TOKEN"] = nil
        env["KUMA_API_TOKEN_SECRET_ID"] = "kuma/api-token-json"
        let json = try await Binaries.run("reconcile-tokens", ["--cluster", "c"], environment: env)
        #expect(json.exitCode == 0, "\(json.output)")
        let plain = try await Binaries.run(
            "reconcile-tokens", ["--cluster", "c", "--api-token-secret-id", "kuma/api-token-plain"], environment: env)
        #expect(plain.exitCode == 0, "\(plain.output)")
        let missing = try await Binaries.run(
            "reconcile-tokens", ["--cluster", "c", "--api-token-secret-id", "kuma/none"], environment: env)
        #expect(missing.exitCode == 78 && missing.stderr.contains("cannot read the Kuma API token from secret kuma/none"))
        #expect(!json.output.contains(w.kuma.adminToken.value) && !plain.output.contains(w.kuma.adminToken.value))
    }
}

/// Finds a task ARN the way an EventBridge event would carry it.
struct LiveECSLister {
    let world: TokensWorld
    func firstTask(cluster: String) async throws -> String? {
        let client = TestAWS.client(endpoint: world.moto.baseURL, credentials: world.moto.admin, region: world.region)
        return try await AWS.LiveECS(client: client).listTasks(cluster: cluster, desiredStatus: "RUNNING").first
    }
}
