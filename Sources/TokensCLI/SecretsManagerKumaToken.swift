import AWS
import FoundationEssentials
import KMeshSupport
import Kuma

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

    public func load() async throws -> Secret {
        let value: SecretValue
        do {
            value = try await secrets.getSecretValue(id: secretId, versionStage: nil, versionId: nil)
        } catch {
            throw ConfigurationError("cannot read the Kuma API token from secret \(secretId): \(error)")
        }
        guard let text = value.secretString?.value.trimmingASCIIWhitespace(), !text.isEmpty else {
            throw ConfigurationError("the secret \(secretId) holds no Kuma API token (expected a JWT, or JSON with a \"token\" key)")
        }
        if text.hasPrefix("{") {
            guard let json = try? JSON.decode(JSONValue.self, from: Data(text.utf8)), let token = json["token"]?.stringValue, !token.isEmpty
            else {
                throw ConfigurationError("the secret \(secretId) is JSON without a string \"token\" key")
            }
            return Secret(token)
        }
        return Secret(text)
    }
}
