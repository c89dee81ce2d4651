import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Logging

/// The AWS SDKs' default credential chain. Which source applies is decided from the environment
/// and files alone (no network), in SDK order; the first that applies is used, and its failures are
/// reported rather than silently skipped:
///  1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`)
///  2. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` -> STS AssumeRoleWithWebIdentity
///  3. the shared credentials/config files, profile `AWS_PROFILE` (default `default`)
///  4. the ECS container endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or `_FULL_URI` with
///     `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `AWS_CONTAINER_AUTHORIZATION_TOKEN`
///  5. EC2 IMDSv2, unless `AWS_EC2_METADATA_DISABLED=true`
public enum CredentialChain {
    public struct Options: Sendable {
        /// Base of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (fixed by ECS; tests point it at loopback).
        public var containerRelativeBase = "http://169.254.170.2"
        public var imdsTimeout: Duration = .seconds(1)
        public var refreshBefore: Duration = .seconds(600)
        public var clock: any WallClock = SystemWallClock()
        public init() {}
    }

    /// Chooses the provider. `sts` is only used for web identity.
    public static func resolve(
        environment env: Environment, files: SharedConfigFiles? = nil, http: any HTTPClient,
        sts: @escaping @Sendable () -> STSClient?, options: Options = Options(),
        logger: Logger
    ) throws -> any CredentialProvider {
        // 1. Environment.
        let keyId = env["AWS_ACCESS_KEY_ID"]
        let secret = env["AWS_SECRET_ACCESS_KEY"]
        if keyId != nil || secret != nil {
            guard let keyId, let secret else {
                throw CredentialsError(
                    provider: "environment",
                    message:
                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (only \(keyId == nil ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") is set)"
                )
            }
            logger.debug("using AWS credentials from the environment")
            return StaticCredentialProvider(
                AWSCredentials(
                    accessKeyId: keyId, secretAccessKey: Secret(secret),
                    sessionToken: env["AWS_SESSION_TOKEN"].map(Secret.init),
                    source: "environment"))
        }

        // 2. Web identity (EKS IRSA, GitHub OIDC, ...).
        if let tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"] {
            guard let roleArn = env["AWS_ROLE_ARN"] else {
                throw CredentialsError(provider: "web identity", message: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
            }
            let session = env["AWS_ROLE_SESSION_NAME"] ?? "kmesh-ecs-\(Int(options.clock.now().timeIntervalSince1970))"
            logger.debug("using AWS web identity credentials", metadata: ["role-arn": "\(roleArn)"])
            return RefreshingCredentialProvider(refreshBefore: options.refreshBefore, clock: options.clock) {
                guard let token = FileReader.read(tokenFile).map({ String(decoding: $0, as: UTF8.self).trimmingASCIIWhitespace() }),
                    !token.isEmpty
                else {
                    throw CredentialsError(
                        provider: "web identity", message: "cannot read the token file \(tokenFile) (AWS_WEB_IDENTITY_TOKEN_FILE)")
                }
                guard let client = sts() else {
                    throw CredentialsError(provider: "web identity", message: "no STS endpoint could be configured")
                }
                do {
                    return try await client.assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: session, token: Secret(token))
                } catch let e as AWSServiceError {
                    throw CredentialsError(provider: "web identity", message: "\(e)")
                }
            }
        }

        // 3. Shared files.
        let files = files ?? SharedConfigFiles.load(environment: env)
        if let keyId = files.value("aws_access_key_id") {
            guard let secret = files.value("aws_secret_access_key") else {
                throw CredentialsError(
                    provider: "profile \(files.profile)", message: "aws_access_key_id is set but aws_secret_access_key is not")
            }
            logger.debug("using AWS credentials from the shared files", metadata: ["profile": "\(files.profile)"])
            return StaticCredentialProvider(
                AWSCredentials(
                    accessKeyId: keyId, secretAccessKey: Secret(secret),
                    sessionToken: files.value("aws_session_token").map(Secret.init),
                    source: "profile \(files.profile)"))
        }
        if files.profileExists {
            for unsupported in ["role_arn", "credential_process", "sso_session", "sso_start_url"] where files.value(unsupported) != nil {
                throw CredentialsError(
                    provider: "profile \(files.profile)",
                    message:
                        "the profile uses \(unsupported), which kmesh-ecs does not support: give static keys, a web identity, or run with a task or instance role"
                )
            }
        } else if env["AWS_PROFILE"] != nil {
            throw CredentialsError(
                provider: "profile \(files.profile)",
                message: "AWS_PROFILE names a profile that is in neither the credentials nor the config file")
        }

        // 4. ECS container endpoint.
        if let url = try containerEndpoint(env, options) {
            logger.debug("using AWS credentials from the container endpoint")
            let tokenFile = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
            let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
            return RefreshingCredentialProvider(refreshBefore: options.refreshBefore, clock: options.clock) {
                var headers: HTTPHeaders = ["Accept": "application/json"]
                if let tokenFile {
                    guard let t = FileReader.read(tokenFile) else {
                        throw CredentialsError(
                            provider: "container endpoint", message: "cannot read \(tokenFile) (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)")
                    }
                    headers.set("Authorization", String(decoding: t, as: UTF8.self).trimmingASCIIWhitespace())
                } else if let token {
                    headers.set("Authorization", token)
                }
                let response = try await fetch(
                    http, HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5)),
                    provider: "container endpoint")
                return try decodeTemporary(response, provider: "container endpoint")
            }
        }

        // 5. EC2 instance metadata (IMDSv2).
        if env.bool("AWS_EC2_METADATA_DISABLED") == true {
            throw CredentialsError(
                provider: "chain",
                message:
                    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity, or run with a task role (instance metadata is disabled by AWS_EC2_METADATA_DISABLED)"
            )
        }
        var base = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        if base.hasSuffix("/") { base.removeLast() }
        let imdsBase = base
        logger.debug("using AWS credentials from EC2 instance metadata", metadata: ["endpoint": "\(imdsBase)"])
        return RefreshingCredentialProvider(refreshBefore: options.refreshBefore, clock: options.clock) {
            do {
                return try await imds(http, base: imdsBase, timeout: options.imdsTimeout)
            } catch let e as CredentialsError {
                throw CredentialsError(
                    provider: "chain",
                    message:
                        "no AWS credentials found: no environment keys, web identity, profile or container endpoint, and instance metadata failed (\(e.message))"
                )
            }
        }
    }

    static func containerEndpoint(_ env: Environment, _ options: Options) throws -> String? {
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            return options.containerRelativeBase + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] else { return nil }
        // The SDKs accept plain HTTP only to loopback and the ECS/EKS link-local agents.
        let parts = full.split(separator: "/", maxSplits: 3)
        guard parts.count >= 2, full.hasPrefix("http://") || full.hasPrefix("https://") else {
            throw CredentialsError(
                provider: "container endpoint", message: "AWS_CONTAINER_CREDENTIALS_FULL_URI \"\(full)\" is not an http(s) URL")
        }
        if full.hasPrefix("http://") {
            var host = String(parts[1])
            if host.hasPrefix("[") {
                host = String(host.prefix { $0 != "]" }.dropFirst())
            } else if let colon = host.lastIndex(of: ":") {
                host = String(host[..<colon])
            }
            let allowed =
                host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "169.254.170.2"
                || host == "169.254.170.23" || host == "fd00:ec2::23"
            guard allowed else {
                throw CredentialsError(
                    provider: "container endpoint",
                    message:
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to loopback or the ECS/EKS agent address (got host \(host))"
                )
            }
        }
        return full
    }

    static func fetch(_ http: any HTTPClient, _ request: HTTPRequest, provider: String) async throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let e as TransportError {
            throw CredentialsError(provider: provider, message: "\(e)")
        }
        guard response.isSuccess else {
            throw CredentialsError(
                provider: provider,
                message: "\(request.method) \(request.url.split(separator: "?").first ?? "") answered HTTP \(response.status)")
        }
        return response
    }

    struct TemporaryCredentials: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
        let Code: String?
        let Message: String?
    }

    static func decodeTemporary(_ response: HTTPResponse, provider: String) throws -> AWSCredentials {
        guard let c = try? JSON.decode(TemporaryCredentials.self, from: response.body) else {
            throw CredentialsError(provider: provider, message: "the answer is not the expected credentials JSON")
        }
        if let code = c.Code, code != "Success" {
            throw CredentialsError(provider: provider, message: "the endpoint answered \(code): \(c.Message ?? "")")
        }
        var expiration: Date?
        if let text = c.Expiration {
            guard let d = UTCTime.parseISO8601(text) else {
                throw CredentialsError(provider: provider, message: "Expiration \"\(text)\" is not an ISO-8601 time")
            }
            expiration = d
        }
        return AWSCredentials(
            accessKeyId: c.AccessKeyId, secretAccessKey: Secret(c.SecretAccessKey),
            sessionToken: c.Token.map(Secret.init), expiration: expiration, source: provider)
    }

    /// IMDSv2: a session token by PUT, then the role name, then that role's credentials.
    static func imds(_ http: any HTTPClient, base: String, timeout: Duration) async throws -> AWSCredentials {
        let provider = "instance metadata"
        let tokenResponse = try await fetch(
            http,
            HTTPRequest(
                method: "PUT", url: base + "/latest/api/token",
                headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"], timeout: timeout), provider: provider)
        let token = tokenResponse.bodyText
        let headers: HTTPHeaders = ["X-aws-ec2-metadata-token": token]
        let roles = try await fetch(
            http,
            HTTPRequest(
                method: "GET", url: base + "/latest/meta-data/iam/security-credentials/",
                headers: headers, timeout: timeout), provider: provider)
        guard let role = roles.bodyText.split(whereSeparator: { $0 == "\n" }).first.map(String.init), !role.isEmpty else {
            throw CredentialsError(provider: provider, message: "the instance has no IAM role attached")
        }
        let creds = try await fetch(
            http,
            HTTPRequest(
                method: "GET", url: base + "/latest/meta-data/iam/security-credentials/" + role,
                headers: headers, timeout: timeout), provider: provider)
        return try decodeTemporary(creds, provider: provider)
    }
}
