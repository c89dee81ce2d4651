import AWS
import Foundation
import KMeshSupport
import Kuma
import ReconcileCore
import TestSupport
import Testing

@testable import Reconcilers

/// UserTokenRotator on the in-memory Secrets Manager (versions and stages) and Kuma.
struct UserTokenRotatorTests {
    static let id = "kuma/token"

    struct World {
        let clock = ManualClock(Date())
        let secrets: FakeSecretsManager
        let kuma = FakeKuma()
        let logs = LogCapture()

        init() { secrets = FakeSecretsManager(clock: clock) }

        func token(hours: Double, name: String = "ecs-controller") -> String {
            let now = Date().timeIntervalSince1970
            return FakeKuma.token(claims: [
                "Name": name, "Groups": ["mesh-system:admin"], "exp": Int(now + hours * 3600),
                "jti": UUID().uuidString,
            ]).value
        }

        func rotator(_ edit: (inout UserTokenRotator.Options) -> Void = { _ in }) -> UserTokenRotator {
            var o = UserTokenRotator.Options(tokenSecretId: UserTokenRotatorTests.id)
            edit(&o)
            let kuma = self.kuma
            return UserTokenRotator(secrets: secrets, kuma: { _ in kuma }, options: o, clock: clock, logger: logs.logger())
        }

        func stages() -> [[String]] { secrets.versions(UserTokenRotatorTests.id).map(\.stages) }
    }

    @Test func rotatesOnceThenHasNothingToDo() async {
        let w = World()
        w.secrets.create(Self.id, value: w.token(hours: 10))
        let first = await w.rotator().run()
        #expect(first.outcome == .rotated && !first.failed, "\(first.errors)")
        #expect(w.stages() == [["AWSPREVIOUS"], ["AWSCURRENT"]])
        let second = await w.rotator().run()
        #expect(second.outcome == .nothingToDo && w.kuma.calls.count("POST /tokens/user") == 1)
        #expect(w.secrets.calls.count("PutSecretValue") == 1)
    }

    @Test func dryRunMintsAndWritesNothing() async {
        let w = World()
        w.secrets.create(Self.id, value: w.token(hours: 10))
        let r = await w.rotator { $0.dryRun = true }.run()
        #expect(r.outcome == .wouldRotate && w.kuma.calls.all.isEmpty && w.secrets.calls.count("PutSecretValue") == 0)
    }

    @Test func aFailedFinishLeavesAWSCURRENTAndTheNextRunReusesThePendingVersion() async {
        let w = World()
        let old = w.token(hours: 10)
        w.secrets.create(Self.id, value: old)
        w.secrets.calls.failNext(
            "UpdateSecretVersionStage",
            with: AWSServiceError(
                service: "Secrets Manager", operation: "UpdateSecretVersionStage",
                status: 500, code: "InternalServiceError", message: "boom"))
        let crashed = await w.rotator().run()
        #expect(crashed.failed && crashed.errors.first?.hasPrefix("finish:") == true && w.secrets.current(Self.id) == old)
        let resumed = await w.rotator().run()
        #expect(resumed.outcome == .rotated && resumed.steps.first { $0.name == "mint" }?.outcome == "reused")
        #expect(w.kuma.calls.count("POST /tokens/user") == 1 && w.secrets.current(Self.id) != old)
    }

    /// AWSCURRENT moved, but the answer was lost and the retry was rejected: the labels say it is
    /// done, so the rotation is.
    @Test func aMoveWhoseAnswerWasLostIsReadBackAndDone() async {
        let w = World()
        let old = w.token(hours: 10)
        w.secrets.create(Self.id, value: old)
        w.secrets.calls.loseAnswerNext(
            "UpdateSecretVersionStage",
            with: AWSServiceError(
                service: "Secrets Manager", operation: "UpdateSecretVersionStage", status: 400, code: "InvalidParameterException",
                message: "Version stage AWSCURRENT not found in version x"))
        let r = await w.rotator().run()
        #expect(r.outcome == .rotated && !r.failed, "\(r.errors)")
        #expect(w.secrets.current(Self.id) != old && w.stages() == [["AWSPREVIOUS"], ["AWSCURRENT"]])
        #expect(w.logs.all.contains { $0.message == "moving AWSCURRENT answered an error, but the labels show it moved" })
    }

    @Test func revocationAppendsThePreviousTokensIdOnce() async throws {
        let w = World()
        w.secrets.create(Self.id, value: w.token(hours: 10))
        _ = await w.rotator().run()
        try await w.kuma.putGlobalSecret(name: "user-token-revocations", data: Secret("earlier-1,earlier-2"))
        let revoked = await w.rotator { $0.revokeAfter = GoDuration(seconds: 0) }.run()
        #expect(revoked.steps.last?.detail.contains("revocation is off") == true)
        // A grace period of one second, and a version created two seconds ago.
        w.clock.advance(by: 2)
        let due = await w.rotator { $0.revokeAfter = GoDuration(seconds: 1) }.run()
        #expect(due.steps.last?.outcome == "done", "\(due.steps)")
        let previous = try #require(w.secrets.version(Self.id, stage: "AWSPREVIOUS")?.value)
        let jti = try #require(try KumaTokenClaims.decode(Secret(previous)).id)
        #expect(w.kuma.globalSecret("user-token-revocations") == "earlier-1,earlier-2,\(jti)")
        _ = await w.rotator { $0.revokeAfter = GoDuration(seconds: 1) }.run()
        #expect(w.kuma.globalSecret("user-token-revocations")?.split(separator: ",").count == 3, "idempotent")
    }
}
