import AWS
import Foundation
import KMeshSupport

/// Secrets Manager in memory, with versions and staging labels as AWS keeps them: PutSecretValue's
/// ClientRequestToken is the version id (same token and value: no-op; other value:
/// ResourceExistsException); a new version without stages takes AWSCURRENT and the old one becomes
/// AWSPREVIOUS; UpdateSecretVersionStage checks RemoveFromVersionId; BatchGetSecretValue takes at
/// most 20 ids and reports missing ones per secret.
public final class FakeSecretsManager: SecretsManagerAPI, Sendable {
    public struct Version: Sendable, Equatable {
        public var id: String
        public var value: String
        public var stages: [String]
        public var created: Date
    }

    struct Stored {
        var name: String
        var arn: String
        var versions: [Version] = []
    }

    public let calls = FakeCalls()
    private let secrets = Locked<[String: Stored]>([:])
    private let clock: any WallClock

    public init(clock: any WallClock = SystemWallClock()) { self.clock = clock }

    /// Creates the secret, with a first AWSCURRENT version when `value` is given.
    public func create(_ name: String, value: String? = nil) {
        secrets.withLock { all in
            var s = Stored(name: name, arn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:\(name)-AbCdEf")
            if let value { s.versions.append(Version(id: UUID().uuidString, value: value, stages: ["AWSCURRENT"], created: clock.now())) }
            all[name] = s
        }
    }

    /// The AWSCURRENT value, for assertions.
    public func current(_ name: String) -> String? { version(name, stage: "AWSCURRENT")?.value }

    public func version(_ name: String, stage: String) -> Version? {
        secrets.withLock { $0[name]?.versions.first { $0.stages.contains(stage) } }
    }

    public func versions(_ name: String) -> [Version] { secrets.withLock { $0[name]?.versions ?? [] } }

    func notFound(_ op: String, _ message: String) -> AWSServiceError {
        AWSServiceError(service: "Secrets Manager", operation: op, status: 400, code: "ResourceNotFoundException", message: message)
    }

    func lookup(_ id: String, _ all: [String: Stored]) -> Stored? {
        all[id] ?? all.values.first { $0.arn == id }
    }

    public func getSecretValue(id: String, versionStage: String?, versionId: String?) async throws -> SecretValue {
        try calls.record("GetSecretValue")
        return try secrets.withLock { all in
            guard let s = lookup(id, all) else { throw notFound("GetSecretValue", "Secrets Manager can't find the specified secret.") }
            let stage = versionStage ?? "AWSCURRENT"
            let v = versionId.map { vid in s.versions.first { $0.id == vid } } ?? s.versions.first { $0.stages.contains(stage) }
            guard let v else {
                throw notFound("GetSecretValue", "Secrets Manager can't find the specified secret value for staging label: \(stage)")
            }
            return SecretValue(
                arn: s.arn, name: s.name, versionId: v.id, secretString: Secret(v.value), versionStages: v.stages,
                createdDate: v.created)
        }
    }

    public func batchGetSecretValue(ids: [String]) async throws -> BatchSecretValues {
        try calls.record("BatchGetSecretValue")
        guard ids.count <= batchGetSecretValueLimit else {
            throw AWSServiceError(
                service: "Secrets Manager", operation: "BatchGetSecretValue", status: 400, code: "InvalidParameterException",
                message: "SecretIdList may hold at most 20 ids")
        }
        return secrets.withLock { all in
            var out = BatchSecretValues(values: [], errors: [])
            for id in ids {
                if let s = lookup(id, all), let v = s.versions.first(where: { $0.stages.contains("AWSCURRENT") }) {
                    out.values.append(
                        SecretValue(
                            arn: s.arn, name: s.name, versionId: v.id, secretString: Secret(v.value),
                            versionStages: v.stages, createdDate: v.created))
                } else {
                    out.errors.append(
                        SecretValueError(
                            secretId: id, errorCode: "ResourceNotFoundException",
                            message: "Secrets Manager can't find the specified secret."))
                }
            }
            return out
        }
    }

    public func putSecretValue(id: String, clientRequestToken: String, secretString: Secret, versionStages: [String]?) async throws
        -> PutSecretValueResult
    {
        try calls.record("PutSecretValue")
        guard (32...64).contains(clientRequestToken.count) else {
            throw AWSServiceError(
                service: "Secrets Manager", operation: "PutSecretValue", status: 400, code: "InvalidParameterException",
                message: "ClientRequestToken must be 32 to 64 characters")
        }
        return try secrets.withLock { all in
            guard var s = lookup(id, all) else { throw notFound("PutSecretValue", "Secrets Manager can't find the specified secret.") }
            if let existing = s.versions.first(where: { $0.id == clientRequestToken }) {
                guard existing.value == secretString.value else {
                    throw AWSServiceError(
                        service: "Secrets Manager", operation: "PutSecretValue", status: 400, code: "ResourceExistsException",
                        message: "You can't modify an existing version, you can only create a new version.")
                }
                return PutSecretValueResult(arn: s.arn, name: s.name, versionId: existing.id, versionStages: existing.stages)
            }
            let stages = versionStages ?? ["AWSCURRENT"]
            for stage in stages {
                for i in s.versions.indices where s.versions[i].stages.contains(stage) {
                    s.versions[i].stages.removeAll { $0 == stage }
                    if stage == "AWSCURRENT" { Self.move("AWSPREVIOUS", to: i, in: &s) }
                }
            }
            s.versions.append(Version(id: clientRequestToken, value: secretString.value, stages: stages, created: clock.now()))
            all[s.name] = s
            return PutSecretValueResult(arn: s.arn, name: s.name, versionId: clientRequestToken, versionStages: stages)
        }
    }

    static func move(_ stage: String, to index: Int, in s: inout Stored) {
        for j in s.versions.indices { s.versions[j].stages.removeAll { $0 == stage } }
        s.versions[index].stages.append(stage)
    }

    public func describeSecret(id: String) async throws -> SecretDescription {
        try calls.record("DescribeSecret")
        return try secrets.withLock { all in
            guard let s = lookup(id, all) else { throw notFound("DescribeSecret", "Secrets Manager can't find the specified secret.") }
            var map: [String: [String]] = [:]
            for v in s.versions where !v.stages.isEmpty { map[v.id] = v.stages }
            return SecretDescription(arn: s.arn, name: s.name, versionIdsToStages: map)
        }
    }

    public func updateSecretVersionStage(id: String, stage: String, moveToVersionId: String?, removeFromVersionId: String?) async throws {
        try calls.record("UpdateSecretVersionStage")
        try secrets.withLock { all in
            guard var s = lookup(id, all) else {
                throw notFound("UpdateSecretVersionStage", "Secrets Manager can't find the specified secret.")
            }
            let holder = s.versions.firstIndex { $0.stages.contains(stage) }
            if let holder, s.versions[holder].id != moveToVersionId, s.versions[holder].id != removeFromVersionId {
                throw AWSServiceError(
                    service: "Secrets Manager", operation: "UpdateSecretVersionStage", status: 400, code: "InvalidParameterException",
                    message:
                        "The staging label \(stage) is currently attached to version \(s.versions[holder].id), so you must explicitly reference that version in RemoveFromVersionId."
                )
            }
            if let holder { s.versions[holder].stages.removeAll { $0 == stage } }
            if let target = moveToVersionId {
                guard let t = s.versions.firstIndex(where: { $0.id == target }) else {
                    throw notFound("UpdateSecretVersionStage", "Secrets Manager can't find the specified secret version.")
                }
                s.versions[t].stages.append(stage)
                if stage == "AWSCURRENT", let holder, holder != t { Self.move("AWSPREVIOUS", to: holder, in: &s) }
            }
            all[s.name] = s
        }
        try calls.answer("UpdateSecretVersionStage")
    }
}
