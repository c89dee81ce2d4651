import AWS
import FoundationEssentials
import Hashing
import KMeshSupport
import Kuma
import Logging
import ReconcileCore

/// Renews the Kuma API user token the reconcilers themselves use, through Secrets Manager's version
/// stages, so that there is never a moment without a working token: the new token is minted, stored
/// as AWSPENDING, tested, and only then made AWSCURRENT; the old one stays valid until it is revoked
/// after a grace period. The same type runs the four steps of a Secrets Manager rotation function.
public struct UserTokenRotator: Reconciler {
    public struct Options: Sendable {
        public var tokenSecretId: String
        /// Used only when the current token can no longer authenticate.
        public var adminTokenSecretId: String?
        /// Nil: the current token's Name, else "ecs-controller".
        public var name: String?
        /// Empty: the current token's Groups, else mesh-system:admin.
        public var groups: [String] = []
        public var validFor = GoDuration(seconds: 8766 * 3600)
        public var rotateBefore = GoDuration(seconds: 720 * 3600)
        /// 0 disables revocation.
        public var revokeAfter = GoDuration(seconds: 24 * 3600)
        public var force = false
        public var dryRun = false
        public init(tokenSecretId: String) { self.tokenSecretId = tokenSecretId }
    }

    /// The steps of a Secrets Manager rotation function.
    public enum RotationStep: String, Sendable, CaseIterable { case createSecret, setSecret, testSecret, finishSecret }

    public enum Scope: Sendable, Equatable {
        /// The scheduled one-shot: rotate when due, revoke when due.
        case scheduled
        /// One step of a Secrets Manager rotation, for the version `clientRequestToken`.
        case step(RotationStep, secretId: String, clientRequestToken: String)
    }

    public static let defaultName = "ecs-controller"
    public static let defaultGroups = ["mesh-system:admin"]

    let secrets: any SecretsManagerAPI
    /// A Kuma client that authenticates with the given token.
    let kuma: @Sendable (Secret) throws -> any KumaAPI
    let options: Options
    let clock: any WallClock
    let logger: Logger

    public init(
        secrets: any SecretsManagerAPI, kuma: @escaping @Sendable (Secret) throws -> any KumaAPI, options: Options,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.secrets = secrets
        self.kuma = kuma
        self.options = options
        self.clock = clock
        self.logger = logger
    }

    /// A failed step: the report names it; AWSCURRENT is as it was.
    struct StepFailure: Error {
        let step: String
        let message: String
        /// False when the step may have moved AWSCURRENT and the labels could not be read back.
        var currentKnownUnchanged = true
    }

    /// The pass's record of what it did, turned into the report (one task writes it at a time).
    final class Trail: @unchecked Sendable {
        var steps: [RotationReport.Step] = []
        var current: UserTokenFacts?
        var new: UserTokenFacts?
        func add(_ name: String, _ outcome: String, _ detail: String) { steps.append(.init(name, outcome, detail)) }
    }

    public func run(_ scope: Scope = .scheduled, deadline: Date? = nil) async -> RotationReport {
        let started = clock.now()
        let trail = Trail()
        let secret = scope == .scheduled ? options.tokenSecretId : Self.secretId(of: scope)
        var outcome: RotationReport.Outcome
        var reason: String
        var errors: [String] = []
        do {
            switch scope {
            case .scheduled:
                (outcome, reason) = try await scheduled(trail)
            case .step(let step, let secretId, let token):
                reason = try await rotationStep(step, secretId: secretId, token: token, trail)
                outcome = .stepDone
            }
        } catch let failure as StepFailure {
            outcome = .failed
            reason =
                failure.currentKnownUnchanged
                ? "step \(failure.step) failed; AWSCURRENT is unchanged"
                : "step \(failure.step) failed; whether AWSCURRENT moved is not known (its labels could not be read back): run again"
            errors.append("\(failure.step): \(failure.message)")
            trail.add(failure.step, "failed", failure.message)
            logger.error(
                "rotation step failed", metadata: ["step": "\(failure.step)", "secret": "\(secret)", "error": "\(failure.message)"])
        } catch {
            outcome = .failed
            reason = "\(error)"
            errors.append("\(error)")
        }
        let report = RotationReport(
            dryRun: options.dryRun, secret: secret, outcome: outcome, reason: reason, current: trail.current,
            new: trail.new, steps: trail.steps, errors: errors,
            durationSeconds: max(0, clock.now().timeIntervalSince(started)))
        if report.failed {
            logger.error("pass finished with failures", metadata: ["outcome": "\(outcome.rawValue)"])
        } else {
            logger.info("pass finished", metadata: ["outcome": "\(outcome.rawValue)", "reason": "\(reason)"])
        }
        return report
    }

    static func secretId(of scope: Scope) -> String {
        if case .step(_, let id, _) = scope { return id }
        return ""
    }

    // MARK: the scheduled one-shot

    func scheduled(_ trail: Trail) async throws -> (RotationReport.Outcome, String) {
        let id = options.tokenSecretId
        let description = try await step("read") { try await secrets.describeSecret(id: id) }
        let current = try await step("read") { try await secrets.getSecretValue(id: id, versionStage: "AWSCURRENT", versionId: nil) }
        let value = try parse(current, step: "read")
        let facts = Self.facts(value.token)
        trail.current = facts
        let (name, groups) = wanted(facts)
        let now = clock.now()
        trail.add("read", "done", "AWSCURRENT is version \(current.versionId) (\(Self.describe(facts, now: now)))")

        let pendingId = Self.clientRequestToken(secret: description.arn.isEmpty ? id : description.arn, replacing: current.versionId)
        let pendingExists = description.versionIdsToStages[pendingId]?.contains("AWSPENDING") == true
        let decision = UserTokenPolicy.decide(
            facts, name: name, groups: groups, now: now, rotateBefore: options.rotateBefore.seconds,
            force: options.force)
        if case .keep(let why) = decision, !pendingExists {
            trail.add("decide", "done", "nothing to do: \(why)")
            try await revokeIfDue(current: current, currentToken: value.token, trail)
            return (.nothingToDo, why)
        }
        let why: String = {
            switch decision {
            case .rotate(let r): r
            case .keep: "finishing the rotation an earlier run started (AWSPENDING is version \(pendingId))"
            }
        }()
        trail.add("decide", "done", "rotate: \(why)")
        if options.dryRun {
            trail.add("mint", "would", "a token for \(name) in \(groups.joined(separator: ",")), valid for \(options.validFor)")
            trail.add("finish", "would", "AWSCURRENT moves to the new version once it passes who-am-i")
            return (.wouldRotate, why)
        }

        // Mint, or reuse what an interrupted run stored.
        let newToken: String
        if pendingExists {
            let pending = try await step("mint") { try await secrets.getSecretValue(id: id, versionStage: nil, versionId: pendingId) }
            newToken = try parse(pending, step: "mint").token
            trail.add("mint", "reused", "version \(pendingId) (AWSPENDING) from an earlier run: no second token minted")
        } else {
            let minted = try await mint(name: name, groups: groups, currentToken: value.token, currentFacts: facts, trail)
            newToken = minted.value
            try await storePending(id: id, versionId: pendingId, value: value.replacing(token: newToken), trail)
        }
        trail.new = Self.facts(newToken)
        try await test(token: newToken, name: name, groups: groups, trail)
        try await finish(id: id, pendingId: pendingId, currentId: current.versionId, trail)
        return (.rotated, why)
    }

    /// The name and groups the new token is for: the options', else the current token's, else the defaults.
    func wanted(_ facts: UserTokenFacts?) -> (String, [String]) {
        let name = options.name ?? facts?.name.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultName
        var groups = !options.groups.isEmpty ? options.groups : (facts?.groups ?? [])
        groups.removeAll { $0 == "mesh-system:authenticated" }
        return (name, groups.isEmpty ? Self.defaultGroups : groups)
    }

    /// POST /tokens/user with the current token; with the admin token when the current one is
    /// expired or rejected.
    func mint(name: String, groups: [String], currentToken: String, currentFacts: UserTokenFacts?, _ trail: Trail) async throws -> Secret {
        let expired = currentFacts?.expiresAt.map { $0 <= clock.now() } ?? true
        var why = expired ? "the current token has expired" : ""
        if !expired {
            do {
                let token = try await kuma(Secret(currentToken)).generateUserToken(name: name, groups: groups, validFor: options.validFor)
                trail.add(
                    "mint", "done",
                    "a token for \(name) in \(groups.joined(separator: ",")), valid for \(options.validFor), minted with the current token")
                return token
            } catch let e as KumaAPIError where e.status == 401 {
                why = "the control plane rejected the current token (HTTP 401)"
            } catch {
                throw StepFailure(step: "mint", message: "the control plane did not issue a token: \(error)")
            }
        }
        guard let adminId = options.adminTokenSecretId else {
            throw StepFailure(step: "mint", message: Self.recovery(why: why, name: name, groups: groups, secretId: options.tokenSecretId))
        }
        let admin = try await step("mint") { try await secrets.getSecretValue(id: adminId, versionStage: "AWSCURRENT", versionId: nil) }
        let adminToken = try parse(admin, step: "mint", what: "the admin token secret \(adminId)")
        do {
            let token = try await kuma(Secret(adminToken.token)).generateUserToken(name: name, groups: groups, validFor: options.validFor)
            trail.add("mint", "done", "\(why): minted with the admin token from \(adminId)")
            return token
        } catch {
            throw StepFailure(step: "mint", message: "\(why), and the admin token from \(adminId) did not mint one either: \(error)")
        }
    }

    /// The exact steps to recover by hand, for the secret's own id.
    static func recovery(why: String, name: String, groups: [String], secretId: String) -> String {
        let groupFlags = groups.map { "--group \($0)" }.joined(separator: " ")
        return "\(why) and no admin token secret is configured (--admin-token-secret-id / KMESH_ADMIN_TOKEN_SECRET_ID). Recover by hand: "
            + "as a control-plane admin run `kumactl generate user-token --name \(name) \(groupFlags) --valid-for 8766h > token.jwt`, "
            + "then `aws secretsmanager put-secret-value --secret-id \(secretId) --secret-string file://token.jwt` "
            + "(for a JSON secret, put {\"token\": \"<the JWT>\"} instead), then run rotate-user-token again"
    }

    func storePending(id: String, versionId: String, value: String, _ trail: Trail) async throws {
        do {
            _ = try await secrets.putSecretValue(
                id: id, clientRequestToken: versionId, secretString: Secret(value), versionStages: ["AWSPENDING"])
            trail.add("store", "done", "version \(versionId) staged AWSPENDING only")
        } catch let e as AWSServiceError where e.code == "ResourceExistsException" {
            throw StepFailure(
                step: "store", message: "version \(versionId) already exists with another token (a concurrent run?): run again")
        } catch {
            throw StepFailure(step: "store", message: "cannot store the new token as AWSPENDING: \(error)")
        }
    }

    /// GET /who-am-i with the new token: its user and groups must be the wanted ones.
    func test(token: String, name: String, groups: [String], _ trail: Trail) async throws {
        let user: KumaUser
        do {
            user = try await kuma(Secret(token)).whoAmI()
        } catch {
            throw StepFailure(step: "test", message: "the new token does not authenticate: \(error)")
        }
        guard user.name == name, Set(groups).isSubset(of: Set(user.groups)) else {
            throw StepFailure(
                step: "test",
                message:
                    "the new token authenticates as \(user.name) in \(user.groups.joined(separator: ",")), not \(name) in \(groups.joined(separator: ","))"
            )
        }
        trail.add("test", "done", "who-am-i: \(user.name) in \(user.groups.joined(separator: ","))")
    }

    /// AWSCURRENT to the new version (AWSPREVIOUS follows to the old one), then AWSPENDING off it.
    func finish(id: String, pendingId: String, currentId: String, _ trail: Trail) async throws {
        do {
            try await secrets.updateSecretVersionStage(
                id: id, stage: "AWSCURRENT", moveToVersionId: pendingId, removeFromVersionId: currentId)
        } catch {
            // The move may have been made and only its answer lost: a retry then finds AWSCURRENT
            // gone from the old version and fails. Read the labels back before calling it failed.
            let stages: [String: [String]]
            do {
                stages = try await secrets.describeSecret(id: id).versionIdsToStages
            } catch let readBack {
                throw StepFailure(
                    step: "finish",
                    message: "cannot move AWSCURRENT to version \(pendingId): \(error); reading the labels back failed too: \(readBack)",
                    currentKnownUnchanged: false)
            }
            guard stages[pendingId]?.contains("AWSCURRENT") == true else {
                throw StepFailure(step: "finish", message: "cannot move AWSCURRENT to version \(pendingId): \(error)")
            }
            logger.warning(
                "moving AWSCURRENT answered an error, but the labels show it moved",
                metadata: ["secret": "\(id)", "version": "\(pendingId)", "error": "\(error)"])
        }
        do {
            try await secrets.updateSecretVersionStage(id: id, stage: "AWSPENDING", moveToVersionId: nil, removeFromVersionId: pendingId)
        } catch {
            // The rotation is done; only the label is left over.
            trail.add("finish", "done", "AWSCURRENT is version \(pendingId); AWSPENDING could not be removed from it (\(error))")
            return
        }
        trail.add("finish", "done", "AWSCURRENT is version \(pendingId), AWSPREVIOUS version \(currentId), no AWSPENDING")
    }

    /// Revokes the token in AWSPREVIOUS once AWSCURRENT is older than the grace period.
    func revokeIfDue(current: SecretValue, currentToken: String, _ trail: Trail) async throws {
        guard options.revokeAfter.seconds > 0 else {
            trail.add("revoke", "skipped", "revocation is off (--revoke-after 0)")
            return
        }
        let age = current.createdDate.map { clock.now().timeIntervalSince($0) } ?? 0
        guard age >= Double(options.revokeAfter.seconds) else {
            trail.add(
                "revoke", "skipped",
                "not yet: AWSCURRENT is \(TokenPolicy.span(age)) old, the previous token stays valid for \(options.revokeAfter)")
            return
        }
        let previous: SecretValue
        do {
            previous = try await secrets.getSecretValue(id: options.tokenSecretId, versionStage: "AWSPREVIOUS", versionId: nil)
        } catch let e as AWSServiceError where e.code == "ResourceNotFoundException" {
            trail.add("revoke", "skipped", "there is no AWSPREVIOUS version")
            return
        } catch {
            throw StepFailure(step: "revoke", message: "cannot read AWSPREVIOUS: \(error)")
        }
        guard case .success(let old) = TokenSecretValue.parse(previous.secretString?.value ?? ""), let jti = Self.facts(old.token)?.id
        else {
            trail.add("revoke", "skipped", "AWSPREVIOUS holds no Kuma user token with an id")
            return
        }
        if old.token == currentToken {
            trail.add("revoke", "skipped", "AWSPREVIOUS holds the current token")
            return
        }
        let client: any KumaAPI
        do { client = try kuma(Secret(currentToken)) } catch { throw StepFailure(step: "revoke", message: "\(error)") }
        let list: String
        do {
            list = try await client.globalSecret(name: UserTokenRevocations.secretName)?.value ?? ""
        } catch {
            throw StepFailure(step: "revoke", message: "cannot read the global secret \(UserTokenRevocations.secretName): \(error)")
        }
        guard let updated = UserTokenRevocations.appending(jti, to: list) else {
            trail.add("revoke", "done", "the previous token (id \(jti)) is already revoked")
            return
        }
        if options.dryRun {
            trail.add("revoke", "would", "the previous token (id \(jti), AWSPREVIOUS) would be revoked")
            return
        }
        do {
            try await client.putGlobalSecret(name: UserTokenRevocations.secretName, data: Secret(updated))
        } catch {
            throw StepFailure(step: "revoke", message: "cannot write the global secret \(UserTokenRevocations.secretName): \(error)")
        }
        logger.info("previous token revoked", metadata: ["jti": "\(jti)", "secret": "\(options.tokenSecretId)"])
        trail.add("revoke", "done", "the previous token (id \(jti), AWSPREVIOUS) is revoked: added to \(UserTokenRevocations.secretName)")
    }

    // MARK: the Secrets Manager rotation function

    /// One step, idempotent, checked against DescribeSecret as the AWS rotation template does.
    func rotationStep(_ step: RotationStep, secretId: String, token: String, _ trail: Trail) async throws -> String {
        let description = try await self.step(step.rawValue) { try await secrets.describeSecret(id: secretId) }
        let stages = description.versionIdsToStages[token]
        if stages == nil, step != .createSecret {
            throw StepFailure(step: step.rawValue, message: "version \(token) is not a version of \(secretId)")
        }
        if stages?.contains("AWSCURRENT") == true {
            trail.add(step.rawValue, "done", "version \(token) is already AWSCURRENT: nothing to do")
            return "version \(token) is already AWSCURRENT"
        }
        if let stages, !stages.contains("AWSPENDING") {
            throw StepFailure(step: step.rawValue, message: "version \(token) is not AWSPENDING (it is \(stages.joined(separator: ",")))")
        }
        switch step {
        case .createSecret:
            let current = try await self.step("createSecret") {
                try await secrets.getSecretValue(id: secretId, versionStage: "AWSCURRENT", versionId: nil)
            }
            let value = try parse(current, step: "createSecret")
            let facts = Self.facts(value.token)
            trail.current = facts
            if stages != nil, let pending = try? await secrets.getSecretValue(id: secretId, versionStage: "AWSPENDING", versionId: token),
                case .success(let p) = TokenSecretValue.parse(pending.secretString?.value ?? "")
            {
                trail.new = Self.facts(p.token)
                trail.add("createSecret", "done", "version \(token) already holds a token: nothing to do")
                return "version \(token) already holds a token"
            }
            let (name, groups) = wanted(facts)
            let minted = try await mint(name: name, groups: groups, currentToken: value.token, currentFacts: facts, trail)
            trail.new = Self.facts(minted.value)
            do {
                _ = try await secrets.putSecretValue(
                    id: secretId, clientRequestToken: token, secretString: Secret(value.replacing(token: minted.value)),
                    versionStages: ["AWSPENDING"])
            } catch {
                throw StepFailure(step: "createSecret", message: "cannot store the new token as version \(token): \(error)")
            }
            trail.add("createSecret", "done", "version \(token) holds a new token, staged AWSPENDING")
            return "a new token was stored in version \(token)"
        case .setSecret:
            trail.add("setSecret", "done", "Kuma user tokens are self-contained: there is nothing to set in the control plane")
            return "nothing to set: Kuma user tokens are self-contained"
        case .testSecret:
            let pending = try await self.step("testSecret") {
                try await secrets.getSecretValue(id: secretId, versionStage: "AWSPENDING", versionId: token)
            }
            let value = try parse(pending, step: "testSecret")
            let facts = Self.facts(value.token)
            trail.new = facts
            let (name, groups) = wanted(facts)
            do {
                try await test(token: value.token, name: name, groups: groups, trail)
            } catch let f as StepFailure {
                throw StepFailure(step: "testSecret", message: f.message)
            }
            return "version \(token) authenticates"
        case .finishSecret:
            guard let currentId = description.versionIdsToStages.first(where: { $0.value.contains("AWSCURRENT") })?.key else {
                throw StepFailure(step: "finishSecret", message: "\(secretId) has no AWSCURRENT version")
            }
            do {
                try await finish(id: secretId, pendingId: token, currentId: currentId, trail)
            } catch let f as StepFailure {
                throw StepFailure(step: "finishSecret", message: f.message)
            }
            return "AWSCURRENT is version \(token)"
        }
    }

    // MARK: helpers

    func step<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let f as StepFailure { throw f } catch {
            throw StepFailure(step: name, message: "\(error)")
        }
    }

    func parse(_ value: SecretValue, step: String, what: String? = nil) throws -> TokenSecretValue {
        switch TokenSecretValue.parse(value.secretString?.value ?? "") {
        case .success(let v): return v
        case .failure(let problem):
            throw StepFailure(
                step: step,
                message:
                    "\(what ?? "the secret \(value.name.isEmpty ? options.tokenSecretId : value.name)") (version \(value.versionId)): \(problem)"
            )
        }
    }

    static func facts(_ token: String) -> UserTokenFacts? {
        guard let claims = try? KumaTokenClaims.decode(Secret(token)) else { return nil }
        return UserTokenFacts(name: claims.name, groups: claims.groups, expiresAt: claims.expiresAt, id: claims.id)
    }

    static func describe(_ facts: UserTokenFacts?, now: Date) -> String {
        guard let facts else { return "not a Kuma user token" }
        let left = facts.expiresAt.map { $0.timeIntervalSince(now) }
        let expiry = left.map { $0 > 0 ? "expires in \(TokenPolicy.span($0))" : "expired \(TokenPolicy.span(-$0)) ago" } ?? "no expiry"
        return "\(facts.name ?? "(no name)") in \(facts.groups.joined(separator: ",")), \(expiry)"
    }

    /// The version id of the new token: the same for every run that replaces the same version, so
    /// that a run after a crash finds the pending version instead of minting again.
    static func clientRequestToken(secret: String, replacing versionId: String) -> String {
        "kmesh-rot-" + Digest.hex(Digest.sha256(Array("\(secret)|\(versionId)".utf8))).prefix(32)
    }
}
