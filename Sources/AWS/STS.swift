import FoundationEssentials
import KMeshSupport

/// The one STS operation the project needs: web identity federation for the credential chain.
public struct STSClient: Sendable {
    let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof).
    public func assumeRoleWithWebIdentity(
        roleArn: String, sessionName: String, token: Secret,
        durationSeconds: Int? = nil
    ) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", token.value)]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let xml = try await client.query(.sts, "AssumeRoleWithWebIdentity", parameters, unsigned: true)
        guard let c = xml.find("Credentials"), let keyId = c.value("AccessKeyId"), let secret = c.value("SecretAccessKey") else {
            throw AWSClientError.decoding(service: "STS", operation: "AssumeRoleWithWebIdentity", detail: "no Credentials element")
        }
        return AWSCredentials(
            accessKeyId: keyId, secretAccessKey: Secret(secret),
            sessionToken: c.value("SessionToken").map(Secret.init),
            expiration: c.value("Expiration").flatMap(UTCTime.parseISO8601), source: "web identity")
    }
}
