import AWS
import FoundationEssentials
import KMeshSupport
import Kuma

/// The Kuma API token could not be had from its secret.
public struct APITokenSecretError: Error, CustomStringConvertible, Equatable, Sendable {
    public let secretId: String
    public let problem: String
    public init(secretId: String, problem: String) {
        self.secretId = secretId
        self.problem = problem
    }
    public var description: String { "cannot read the Kuma API token from secret \(secretId): \(problem)" }
}

/// The Kuma API token kept in a Secrets Manager secret: a plain JWT string, or JSON with a
/// "token" key. Read once and cached; read again when the control plane rejects it (401), so a
/// rotation is picked up without a restart.
public actor SecretsManagerKumaToken: KumaTokenSource {
    let secrets: any SecretsManagerAPI
    let secretId: String
    private var cached: Secret?

    public init(secrets: any SecretsManagerAPI, secretId: String) {
        self.secrets = secrets
        self.secretId = secretId
    }

    public func token() async throws -> Secret? {
        if let cached { return cached }
        let fresh = try await load()
        cached = fresh
        return fresh
    }

    public func invalidate() async { cached = nil }

    /// Reads AWSCURRENT and extracts the token; throws `APITokenSecretError`.
    public func load() async throws -> Secret {
        let value: SecretValue
        do {
            // AWSCURRENT by name: a secret mid-rotation has other versions (and moto answers an unnamed
            // read with its newest version, not AWSCURRENT).
            value = try await secrets.getSecretValue(id: secretId, versionStage: "AWSCURRENT", versionId: nil)
        } catch {
            throw APITokenSecretError(secretId: secretId, problem: "\(error)")
        }
        return try Self.token(in: value.secretString, secretId: secretId)
    }

    /// The token in a secret's value: the whole value, or its JSON "token" key.
    public static func token(in value: Secret?, secretId: String) throws -> Secret {
        guard let text = value?.value.trimmingASCIIWhitespace(), !text.isEmpty else {
            throw APITokenSecretError(secretId: secretId, problem: "it holds no token (expected a JWT, or JSON with a \"token\" key)")
        }
        if text.hasPrefix("{") {
            guard let json = try? JSONValue.parse(text), let token = json["token"]?.stringValue,
                !token.isEmpty
            else {
                throw APITokenSecretError(secretId: secretId, problem: "it is JSON without a string \"token\" key")
            }
            return Secret(token)
        }
        return Secret(text)
    }
}
