import AWS
import Foundation
import KMeshSupport
import TestSupport
import Testing

/// rotate-user-token, the built binary, end to end: Secrets Manager in moto (signature checking)
/// behind the fault proxy, and the Kuma stand-in, which signs and checks the user tokens.
struct RotateUserTokenTests {
    struct Report: Decodable {
        struct Step: Decodable {
            let name: String
            let outcome: String
            let detail: String
        }
        struct Token: Decodable {
            let name: String?
            let groups: [String]
            let expires: String?
            let id: String?
        }
        let secret: String
        let outcome: String
        let reason: String
        let steps: [Step]
        let errors: [String]
        let current: Token?
        let new: Token?
        func step(_ name: String) -> Step? { steps.last { $0.name == name } }
    }

    static let secretId = "kuma/controller-token"

    func report(_ run: BinaryRun) throws -> Report {
        do { return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8)) } catch {
            throw PeerError(message: "no JSON report (exit \(run.exitCode)): \(run.output.prefix(3000))")
        }
    }

    func rotate(_ w: TokensWorld, _ arguments: [String] = [], extra: [String: String] = [:]) async throws -> BinaryRun {
        var env = w.environment(extra: ["KUMA_API_TOKEN_SECRET_ID": Self.secretId].merging(extra) { _, b in b })
        env["KUMA_API_TOKEN"] = nil
        return try await Binaries.run("rotate-user-token", ["--output", "json"] + arguments, environment: env)
    }

    /// Version id -> stages of the token secret.
    func stages(_ w: TokensWorld) async throws -> [String: [String]] {
        try await w.direct.describeSecret(id: Self.secretId).versionIdsToStages.filter { !$0.value.isEmpty }
    }

    func current(_ w: TokensWorld) async throws -> String {
        try await w.direct.getSecretValue(id: Self.secretId, versionStage: "AWSCURRENT", versionId: nil).secretString?.value ?? ""
    }

    func noTokenIn(_ run: BinaryRun, _ tokens: [Secret]) {
        for t in tokens where !t.value.isEmpty {
            #expect(!run.output.contains(t.value), "a token leaked into the output")
            #expect(!run.output.contains(String(t.value.split(separator: ".").last ?? "").prefix(20)), "a token's signature leaked")
        }
    }

    @Test func aFreshTokenIsLeftAlone() async throws {
        let w = try await TokensWorld.make(region: "eu-north-1")
        defer { w.stop() }
        let token = try await w.kuma.userToken(seconds: 8766 * 3600)
        _ = try await w.seed.createSecret(Self.secretId, value: token.value)
        let run = try await rotate(w)
        #expect(run.exitCode == 0, "\(run.output)")
        let r = try report(run)
        #expect(r.outcome == "nothing-to-do" && r.reason.hasPrefix("valid for 365d"))
        #expect(r.step("revoke")?.detail.contains("there is no AWSPREVIOUS") == true || r.step("revoke")?.outcome == "skipped")
        #expect(try await w.proxy.total("SecretsManager.PutSecretValue") == 0)
        #expect(try await w.kuma.calls()["POST /tokens/user"] == nil)
        noTokenIn(run, [token])
    }

    @Test func nearExpiryRotatesThenRevokesThePreviousAfterTheGracePeriod() async throws {
        let w = try await TokensWorld.make(region: "eu-south-2")
        defer { w.stop() }
        let old = try await w.kuma.userToken(seconds: 100 * 3600)
        let oldVersion = try await w.direct.putSecretValueInNewSecret(Self.secretId, old.value, seed: w.seed)

        let run = try await rotate(w)
        #expect(run.exitCode == 0, "\(run.output)")
        let r = try report(run)
        #expect(r.outcome == "rotated" && r.reason.contains("expires in 4d3h"), "\(r.reason)")
        #expect(r.steps.map(\.name) == ["read", "decide", "mint", "store", "test", "finish", "revoke"].filter { $0 != "revoke" })
        let stages = try await stages(w)
        #expect(stages.values.filter { $0.contains("AWSCURRENT") }.count == 1)
        #expect(stages[oldVersion] == ["AWSPREVIOUS"], "\(stages)")
        #expect(!stages.values.contains { $0.contains("AWSPENDING") }, "\(stages)")
        let new = Secret(try await current(w))
        #expect(new.value != old.value && new.value.split(separator: ".").count == 3)
        #expect(try await w.kuma.whoAmI(new) == "ecs-controller")
        #expect(try await w.kuma.whoAmI(old) == "ecs-controller", "both work until the old is revoked")
        let claims = try #require(try await w.kuma.verify(new)["claims"] as? [String: Any])
        #expect(claims["Groups"] as? [String] == ["mesh-system:admin"])
        #expect(abs((claims["exp"] as? Double ?? 0) - Date().timeIntervalSince1970 - 8766 * 3600) < 120)

        // Within the grace period: nothing is revoked.
        let early = try report(try await rotate(w))
        #expect(early.outcome == "nothing-to-do" && early.step("revoke")?.detail.hasPrefix("not yet") == true)
        #expect(try await w.kuma.whoAmI(old) != nil)

        // After it: the previous token is revoked, once; the list keeps what it held, in order.
        let before = try await w.kuma.client(token: w.kuma.adminToken).globalSecret(name: "user-token-revocations")?.value ?? ""
        var revoked: Report?
        for _ in 0..<20 {
            let attempt = try report(try await rotate(w, ["--revoke-after", "1s"]))
            if attempt.step("revoke")?.outcome == "done" {
                revoked = attempt
                break
            }
            try await Task.sleep(for: .milliseconds(250))  // the version must become a second old
        }
        let done = try #require(revoked, "the previous token was never revoked")
        #expect(done.step("revoke")?.detail.contains("is revoked") == true)
        #expect(try await w.kuma.whoAmI(old) == nil)
        #expect(try await w.kuma.whoAmI(new) == "ecs-controller")
        let after = try await w.kuma.client(token: w.kuma.adminToken).globalSecret(name: "user-token-revocations")?.value ?? ""
        #expect(!before.isEmpty && after.hasPrefix(before + ","), "other entries kept, in order: \(before) -> \(after)")
        let again = try await rotate(w, ["--revoke-after", "1s"])
        #expect(try report(again).step("revoke")?.detail.contains("already revoked") == true)
        #expect(try await w.kuma.client(token: w.kuma.adminToken).globalSecret(name: "user-token-revocations")?.value == after)
        noTokenIn(run, [old, new])
        noTokenIn(again, [old, new])

        // A reconciler that reads its API token from the secret works with the new one.
        try await w.cluster("after-rotation", [("svc", nil, 1)])
        try await w.secret("svc")
        var env = w.environment(extra: ["KUMA_API_TOKEN_SECRET_ID": Self.secretId])
        env["KUMA_API_TOKEN"] = nil
        let tokens = try await Binaries.run("reconcile-tokens", ["--cluster", "after-rotation"], environment: env)
        #expect(tokens.exitCode == 0, "\(tokens.output)")
        #expect(try await w.verifiedClaims("svc") != nil)
    }

    @Test func aCrashAfterThePendingWriteIsFinishedWithoutASecondMint() async throws {
        let w = try await TokensWorld.make(region: "ap-east-1")
        defer { w.stop() }
        let old = try await w.kuma.userToken(seconds: 10 * 3600)
        _ = try await w.seed.createSecret(Self.secretId, value: #"{"token":"\#(old.value)","owner":"platform","rotation":{"n":1}}"#)
        try await w.proxy.inject("500", operation: "SecretsManager.UpdateSecretVersionStage", count: -1)
        let crashed = try await rotate(w, extra: ["AWS_MAX_ATTEMPTS": "1"])
        #expect(crashed.exitCode == 1)
        let r1 = try report(crashed)
        #expect(r1.errors.first?.hasPrefix("finish:") == true && r1.reason.contains("AWSCURRENT is unchanged"), "\(r1.errors)")
        #expect(try await current(w).contains(old.value), "AWSCURRENT still holds the old token")
        #expect(try await stages(w).values.contains { $0 == ["AWSPENDING"] })

        try await w.proxy.reset()
        let resumed = try await rotate(w)
        #expect(resumed.exitCode == 0, "\(resumed.output)")
        let r2 = try report(resumed)
        #expect(r2.outcome == "rotated" && r2.step("mint")?.outcome == "reused")
        #expect(try await w.kuma.calls()["POST /tokens/user"] == 1, "one token minted in all")
        // The JSON secret keeps its other keys.
        let value = try JSONSerialization.jsonObject(with: Data(try await current(w).utf8)) as? [String: Any]
        #expect(value?["owner"] as? String == "platform" && (value?["rotation"] as? [String: Int]) == ["n": 1])
        #expect((value?["token"] as? String).map { $0 != old.value } == true)
        noTokenIn(crashed, [old])
        noTokenIn(resumed, [old])
    }

    @Test func aControlPlaneDownDuringTheTestLeavesAWSCURRENTAlone() async throws {
        let w = try await TokensWorld.make(region: "ap-south-2")
        defer { w.stop() }
        let old = try await w.kuma.userToken(seconds: 10 * 3600)
        _ = try await w.seed.createSecret(Self.secretId, value: old.value)
        try await w.kuma.fault("503", path: "/who-am-i", count: -1)
        let run = try await rotate(w)
        #expect(run.exitCode == 1)
        let r = try report(run)
        #expect(r.errors.first?.hasPrefix("test: the new token does not authenticate") == true, "\(r.errors)")
        #expect(try await current(w) == old.value)
        #expect(try await w.proxy.total("SecretsManager.UpdateSecretVersionStage") == 0)
    }

    @Test func anExpiredTokenNeedsTheAdminSecretAndOtherwiseSaysHowToRecover() async throws {
        let w = try await TokensWorld.make(region: "il-central-1")
        defer { w.stop() }
        _ = try await w.seed.createSecret(Self.secretId, value: w.kuma.expiredToken.value)
        let stuck = try await rotate(w)
        #expect(stuck.exitCode == 1)
        let r = try report(stuck)
        let error = try #require(r.errors.first)
        #expect(error.contains("the current token has expired"))
        #expect(error.contains("kumactl generate user-token --name ecs-controller --group mesh-system:admin --valid-for 8766h"))
        #expect(error.contains("aws secretsmanager put-secret-value --secret-id \(Self.secretId) --secret-string file://token.jwt"))
        #expect(!error.contains("\n"))

        _ = try await w.seed.createSecret("kuma/admin-token", value: w.kuma.adminToken.value)
        let rescued = try await rotate(w, ["--admin-token-secret-id", "kuma/admin-token"])
        #expect(rescued.exitCode == 0, "\(rescued.output)")
        #expect(try report(rescued).step("mint")?.detail.contains("minted with the admin token") == true)
        let rescuedToken = Secret(try await current(w))
        #expect(try await w.kuma.whoAmI(rescuedToken) == "ecs-controller")
        noTokenIn(rescued, [w.kuma.adminToken, w.kuma.expiredToken])
    }

    @Test func badSettings() async throws {
        let usage = try await Binaries.run("rotate-user-token", ["--revoke-after", "1d"], environment: [:])
        #expect(usage.exitCode == 64 && usage.stderr.contains("--revoke-after is \"1d\""))
        let noSecret = try await Binaries.run("rotate-user-token", [], environment: ["KUMA_API_SERVER_URL": "http://127.0.0.1:1"])
        #expect(noSecret.exitCode == 78 && noSecret.stderr.contains("--token-secret-id or KUMA_API_TOKEN_SECRET_ID"))
    }
}

/// rotate-user-token as a Secrets Manager rotation function through the Lambda runtime.
struct RotateUserTokenLambdaTests {
    @Test func theFourStepsInOrderEachTwice() async throws {
        let w = try await TokensWorld.make(region: "ca-west-1")
        defer { w.stop() }
        let runtime = try await RuntimeStandin.start()
        defer { runtime.process.stop() }
        let old = try await w.kuma.userToken(seconds: 100 * 3600)
        _ = try await w.seed.createSecret(RotateUserTokenTests.secretId, value: old.value)
        let oldVersion = try await w.direct.getSecretValue(id: RotateUserTokenTests.secretId, versionStage: nil, versionId: nil).versionId
        var env = w.environment(extra: [
            "AWS_LAMBDA_RUNTIME_API": runtime.endpoint, "KUMA_API_TOKEN_SECRET_ID": RotateUserTokenTests.secretId,
        ])
        env["KUMA_API_TOKEN"] = nil
        let function = try BackgroundBinary("rotate-user-token", environment: env)
        defer { function.stop() }

        let token = UUID().uuidString
        for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            for round in 1...2 {
                let answer = try #require(
                    try await runtime.result(
                        try await runtime.enqueue(["Step": step, "SecretId": RotateUserTokenTests.secretId, "ClientRequestToken": token])),
                    "no answer to \(step): \(function.stop().output)")
                #expect(answer["kind"] as? String == "response", "\(step) #\(round): \(answer)")
                let body = answer["body"] as? [String: Any]
                #expect(body?["outcome"] as? String == "step-done", "\(step) #\(round): \(String(describing: body))")
            }
        }
        let stages = try await w.direct.describeSecret(id: RotateUserTokenTests.secretId).versionIdsToStages.filter { !$0.value.isEmpty }
        #expect(stages[token] == ["AWSCURRENT"] && stages[oldVersion] == ["AWSPREVIOUS"], "\(stages)")
        #expect(try await w.kuma.calls()["POST /tokens/user"] == 1, "createSecret twice mints once")
        let unknown = try #require(
            try await runtime.result(try await runtime.enqueue(["Step": "rotateEverything", "SecretId": "x", "ClientRequestToken": "y"])))
        #expect(unknown["error_type"] as? String == "Function.UnsupportedStep")
        let stranger = try #require(
            try await runtime.result(
                try await runtime.enqueue(
                    ["Step": "testSecret", "SecretId": RotateUserTokenTests.secretId, "ClientRequestToken": UUID().uuidString])))
        #expect(stranger["error_type"] as? String == "Function.ReconcileFailed")
        #expect(((stranger["body"] as? [String: Any])?["errorMessage"] as? String)?.contains("is not a version of") == true)
        let output = function.stop()
        #expect(!output.output.contains(old.value))
        #expect(
            !output.output.contains(
                try await w.direct.getSecretValue(id: RotateUserTokenTests.secretId, versionStage: "AWSCURRENT", versionId: nil)
                    .secretString!.value)
        )
    }
}

extension LiveSecretsManager {
    /// Creates the secret holding `value` and returns its first version id.
    func putSecretValueInNewSecret(_ id: String, _ value: String, seed: AWSSeeder) async throws -> String {
        _ = try await seed.createSecret(id, value: value)
        return try await getSecretValue(id: id, versionStage: nil, versionId: nil).versionId
    }
}
