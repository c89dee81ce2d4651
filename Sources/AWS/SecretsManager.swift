import FoundationEssentials
import KMeshSupport

/// One version of a secret's value. The value is a `Secret`: it never prints.
public struct SecretValue: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var versionId: String
    public var secretString: Secret?
    public var versionStages: [String]
    /// When the version was created (GetSecretValue's CreatedDate).
    public var createdDate: Date?
    public init(arn: String, name: String, versionId: String, secretString: Secret?, versionStages: [String], createdDate: Date? = nil) {
        self.arn = arn
        self.name = name
        self.versionId = versionId
        self.secretString = secretString
        self.versionStages = versionStages
        self.createdDate = createdDate
    }
}

public struct SecretValueError: Sendable, Equatable {
    public var secretId: String
    public var errorCode: String
    public var message: String
    public init(secretId: String, errorCode: String, message: String) {
        self.secretId = secretId
        self.errorCode = errorCode
        self.message = message
    }
}

public struct BatchSecretValues: Sendable, Equatable {
    public var values: [SecretValue]
    public var errors: [SecretValueError]
    public init(values: [SecretValue], errors: [SecretValueError]) {
        self.values = values
        self.errors = errors
    }
}

public struct SecretDescription: Sendable, Equatable {
    public var arn: String
    public var name: String
    /// Version id -> staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS, ...).
    public var versionIdsToStages: [String: [String]]
    public init(arn: String, name: String, versionIdsToStages: [String: [String]]) {
        self.arn = arn
        self.name = name
        self.versionIdsToStages = versionIdsToStages
    }
    public var currentVersionId: String? { versionIdsToStages.first { $0.value.contains("AWSCURRENT") }?.key }
}

public struct PutSecretValueResult: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var versionId: String
    public var versionStages: [String]
    public init(arn: String, name: String, versionId: String, versionStages: [String]) {
        self.arn = arn
        self.name = name
        self.versionId = versionId
        self.versionStages = versionStages
    }
}

/// The Secrets Manager operations the reconcilers use. They never create or delete secrets.
public protocol SecretsManagerAPI: Sendable {
    /// One version of the secret: `versionId`, else `versionStage`, else AWSCURRENT. A missing
    /// secret and a secret without that version both throw `ResourceNotFoundException`.
    func getSecretValue(id: String, versionStage: String?, versionId: String?) async throws -> SecretValue
    /// The AWSCURRENT values of at most `batchGetSecretValueLimit` secrets; per-secret failures
    /// come back in `errors`, not as a throw. Needs `secretsmanager:BatchGetSecretValue` on `*`.
    func batchGetSecretValue(ids: [String]) async throws -> BatchSecretValues
    /// A new version. `clientRequestToken` (32 to 64 characters) becomes its id: repeating a token
    /// with the same value is a no-op, with another value `ResourceExistsException`. Without
    /// `versionStages` the version becomes AWSCURRENT (and the old one AWSPREVIOUS).
    func putSecretValue(id: String, clientRequestToken: String, secretString: Secret, versionStages: [String]?) async throws
        -> PutSecretValueResult
    /// The secret's ARN, name and which versions hold which stages; no value is read.
    func describeSecret(id: String) async throws -> SecretDescription
    /// Moves `stage` to `moveToVersionId` (removing it from `removeFromVersionId`, which must be
    /// the version holding it), or only removes it when `moveToVersionId` is nil.
    func updateSecretVersionStage(id: String, stage: String, moveToVersionId: String?, removeFromVersionId: String?) async throws
    /// The most ids one BatchGetSecretValue call takes.
    var batchGetSecretValueLimit: Int { get }
}

extension SecretsManagerAPI {
    /// Secrets Manager's limit: 20 ids per BatchGetSecretValue call.
    public var batchGetSecretValueLimit: Int { 20 }
}

public struct LiveSecretsManager: SecretsManagerAPI {
    let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    struct ValueOutput: Decodable {
        var ARN: String?
        var Name: String?
        var VersionId: String?
        var SecretString: String?
        var VersionStages: [String]?
        var CreatedDate: Double?
        var model: SecretValue {
            SecretValue(
                arn: ARN ?? "", name: Name ?? "", versionId: VersionId ?? "", secretString: SecretString.map(Secret.init),
                versionStages: VersionStages ?? [], createdDate: CreatedDate.map { Date(timeIntervalSince1970: $0) })
        }
    }

    struct GetInput: Encodable {
        var SecretId: String
        var VersionStage: String?
        var VersionId: String?
    }

    public func getSecretValue(id: String, versionStage: String? = nil, versionId: String? = nil) async throws -> SecretValue {
        try await client.json(
            .secretsManager, "GetSecretValue", GetInput(SecretId: id, VersionStage: versionStage, VersionId: versionId),
            as: ValueOutput.self
        ).model
    }

    struct BatchInput: Encodable {
        var SecretIdList: [String]
        var NextToken: String?
    }
    struct BatchOutput: Decodable {
        struct APIError: Decodable {
            var SecretId: String?
            var ErrorCode: String?
            var Message: String?
        }
        var SecretValues: [ValueOutput]?
        var Errors: [APIError]?
        var NextToken: String?
    }

    public func batchGetSecretValue(ids: [String]) async throws -> BatchSecretValues {
        precondition(ids.count <= batchGetSecretValueLimit, "BatchGetSecretValue takes at most 20 ids")
        var result = BatchSecretValues(values: [], errors: [])
        var token: String?
        repeat {
            let out = try await client.json(
                .secretsManager, "BatchGetSecretValue", BatchInput(SecretIdList: ids, NextToken: token),
                as: BatchOutput.self)
            result.values += (out.SecretValues ?? []).map(\.model)
            result.errors += (out.Errors ?? []).map {
                SecretValueError(secretId: $0.SecretId ?? "", errorCode: $0.ErrorCode ?? "", message: $0.Message ?? "")
            }
            token = out.NextToken
        } while token != nil
        return result
    }

    struct PutInput: Encodable {
        var SecretId: String
        var ClientRequestToken: String
        var SecretString: String
        var VersionStages: [String]?
    }
    struct PutOutput: Decodable {
        var ARN: String?
        var Name: String?
        var VersionId: String?
        var VersionStages: [String]?
    }

    public func putSecretValue(
        id: String, clientRequestToken: String, secretString: Secret,
        versionStages: [String]? = nil
    ) async throws -> PutSecretValueResult {
        let out = try await client.json(
            .secretsManager, "PutSecretValue",
            PutInput(
                SecretId: id, ClientRequestToken: clientRequestToken,
                SecretString: secretString.value, VersionStages: versionStages),
            as: PutOutput.self)
        return PutSecretValueResult(
            arn: out.ARN ?? "", name: out.Name ?? "", versionId: out.VersionId ?? clientRequestToken,
            versionStages: out.VersionStages ?? [])
    }

    struct IdInput: Encodable { var SecretId: String }
    struct DescribeOutput: Decodable {
        var ARN: String?
        var Name: String?
        var VersionIdsToStages: [String: [String]]?
    }

    public func describeSecret(id: String) async throws -> SecretDescription {
        let out = try await client.json(.secretsManager, "DescribeSecret", IdInput(SecretId: id), as: DescribeOutput.self)
        return SecretDescription(arn: out.ARN ?? "", name: out.Name ?? "", versionIdsToStages: out.VersionIdsToStages ?? [:])
    }

    struct StageInput: Encodable {
        var SecretId: String
        var VersionStage: String
        var MoveToVersionId: String?
        var RemoveFromVersionId: String?
    }
    struct Empty: Decodable {}

    public func updateSecretVersionStage(
        id: String, stage: String, moveToVersionId: String? = nil,
        removeFromVersionId: String? = nil
    ) async throws {
        _ = try await client.json(
            .secretsManager, "UpdateSecretVersionStage",
            StageInput(
                SecretId: id, VersionStage: stage, MoveToVersionId: moveToVersionId,
                RemoveFromVersionId: removeFromVersionId), as: Empty.self)
    }
}
