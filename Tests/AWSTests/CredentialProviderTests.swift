import AWS
import Foundation
import HTTPTransport
import KMeshSupport
import Logging
import TestSupport
import Testing

/// Each provider of the chain against a local stand-in for its endpoint (moto's STS for web
/// identity, scripts/peers/aws_metadata_standin.py for the container endpoint and IMDSv2).
struct CredentialProviderTests {
    static let metadata = PeerHandle {
        try await PeerProcess.start(
            "aws_metadata_standin.py",
            [
                "--access-key-id", "ASIAMETADATA", "--secret-access-key", "metadata-secret",
                "--auth-token", "Bearer container-auth", "--expires-in", "3600",
            ])
    }
    static let nullLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let http = TestAWS.sharedHTTP
    let noFiles = SharedConfigFiles(credentials: [:], config: [:], profile: "default")

    func resolve(
        _ env: [String: String], files: SharedConfigFiles? = nil, options: CredentialChain.Options = .init(),
        sts: STSClient? = nil
    ) throws -> any CredentialProvider {
        try CredentialChain.resolve(
            environment: Environment(env), files: files ?? noFiles, http: Self.http,
            sts: { sts }, options: options, logger: Self.nullLogger)
    }

    @Test func environmentKeysWithSessionToken() async throws {
        let c = try await resolve([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/ignored",
        ]).credentials()
        #expect(c.accessKeyId == "AKIDENV" && c.secretAccessKey.value == "env-secret" && c.sessionToken?.value == "env-token")
        #expect(c.source == "environment")
        #expect(!"\(c)".contains("env-secret") && !"\(c)".contains("env-token"))
        let half = #expect(throws: CredentialsError.self) { try resolve(["AWS_ACCESS_KEY_ID": "AKIDENV"]) }
        #expect(half?.description.contains("must be set together") == true)
    }

    @Test func webIdentityThroughMotoSTSThenASignedCall() async throws {
        let moto = try await MotoPeer.get()
        let tokenFile = PeerProcess.scratch.appendingPathComponent("web-identity-\(UUID().uuidString)")
        try "eyJhbGciOiJSUzI1NiJ9.oidc.token".write(to: tokenFile, atomically: true, encoding: .utf8)
        let sts = STSClient(client: TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin))
        let provider = try resolve(
            [
                "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path, "AWS_ROLE_ARN": moto.roleArn,
                "AWS_ROLE_SESSION_NAME": "kmesh-test",
            ], sts: sts)
        let c = try await provider.credentials()
        #expect(c.accessKeyId.hasPrefix("ASIA"))
        #expect(c.sessionToken != nil && c.expiration != nil && c.source == "web identity")
        // The temporary credentials really work, signed with their session token.
        let client = TestAWS.client(endpoint: moto.baseURL, provider: provider)
        _ = try await LiveECS(client: client).listClusters()

        let missing = try resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token", "AWS_ROLE_ARN": moto.roleArn], sts: sts)
        let error = await #expect(throws: CredentialsError.self) { try await missing.credentials() }
        #expect(error?.description.contains("cannot read the token file /nonexistent/token") == true)
        #expect(throws: CredentialsError.self) { try resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path]) }
    }

    @Test func sharedFilesWithAWSProfile() async throws {
        let dir = PeerProcess.scratch.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n[ops]\naws_access_key_id=AKIDOPS\naws_secret_access_key=ops-secret\naws_session_token=ops-token\n"
            .write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try "[profile ops]\nregion = eu-north-1\n[profile assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
            .write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        var env = [
            "AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("credentials").path,
            "AWS_CONFIG_FILE": dir.appendingPathComponent("config").path,
        ]
        let files = { SharedConfigFiles.load(environment: Environment(env)) }

        #expect(try await resolve(env, files: files()).credentials().accessKeyId == "AKIDDEFAULT")
        env["AWS_PROFILE"] = "ops"
        let ops = try await resolve(env, files: files()).credentials()
        #expect(ops.accessKeyId == "AKIDOPS" && ops.sessionToken?.value == "ops-token" && ops.source == "profile ops")
        #expect(try AWSConfiguration.resolve(environment: Environment(env), files: files()).region == "eu-north-1")

        env["AWS_PROFILE"] = "assume"
        let unsupported = #expect(throws: CredentialsError.self) { try resolve(env, files: files()) }
        #expect(unsupported?.description.contains("role_arn") == true)
        env["AWS_PROFILE"] = "nope"
        let missing = #expect(throws: CredentialsError.self) { try resolve(env, files: files()) }
        #expect(missing?.description.contains("AWS_PROFILE names a profile") == true)
    }

    @Test func containerEndpointRelativeAndFullURIWithTokenAndTokenFile() async throws {
        let peer = try await Self.metadata.get()
        var options = CredentialChain.Options()
        options.containerRelativeBase = peer.baseURL
        let relative = try await resolve(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-role"], options: options)
            .credentials()
        #expect(relative.accessKeyId == "ASIAMETADATA" && relative.secretAccessKey.value == "metadata-secret")
        #expect(relative.sessionToken?.value.hasPrefix("session-") == true && relative.expiration != nil)

        let full = try await resolve([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": peer.baseURL + "/full/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer container-auth",
        ]).credentials()
        #expect(full.source == "container endpoint")

        let tokenFile = PeerProcess.scratch.appendingPathComponent("container-token-\(UUID().uuidString)")
        try "Bearer container-auth\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let viaFile = try await resolve([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": peer.baseURL + "/full/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong",
        ]).credentials()
        #expect(viaFile.accessKeyId == "ASIAMETADATA")

        let wrong = try resolve([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": peer.baseURL + "/full/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong",
        ])
        let error = await #expect(throws: CredentialsError.self) { try await wrong.credentials() }
        #expect(error?.description.contains("HTTP 401") == true)
        let remote = #expect(throws: CredentialsError.self) {
            try resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/creds"])
        }
        #expect(remote?.description.contains("must use https") == true)
    }

    @Test func imdsV2TokenThenRoleThenCredentials() async throws {
        let peer = try await Self.metadata.get()
        let before = try await stats(peer)
        let c = try await resolve(["AWS_EC2_METADATA_SERVICE_ENDPOINT": peer.baseURL + "/"]).credentials()
        #expect(c.accessKeyId == "ASIAMETADATA" && c.source == "instance metadata")
        let after = try await stats(peer)
        #expect(after["imds-token", default: 0] - before["imds-token", default: 0] == 1)
        #expect(after["imds-credentials", default: 0] - before["imds-credentials", default: 0] == 1)
        #expect(after["imds-unauthorized", default: 0] == before["imds-unauthorized", default: 0])

        let disabled = #expect(throws: CredentialsError.self) { try resolve(["AWS_EC2_METADATA_DISABLED": "true"]) }
        #expect(disabled?.description.contains("no AWS credentials found") == true)
        let down = try resolve(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(closedLoopbackPort())"])
        let error = await #expect(throws: CredentialsError.self) { try await down.credentials() }
        #expect(error?.description.contains("instance metadata failed") == true)
    }

    @Test func temporaryCredentialsAreCachedAndRefreshedBeforeExpiry() async throws {
        let peer = try await Self.metadata.get()
        let url = peer.baseURL + "/v2/credentials/refresh"
        var options = CredentialChain.Options()
        options.containerRelativeBase = peer.baseURL
        // Credentials valid for an hour, refreshed 10 minutes before: cached across calls.
        let cached = try resolve(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/refresh"], options: options)
        let first = try await cached.credentials()
        let second = try await cached.credentials()
        #expect(first.sessionToken == second.sessionToken)
        // Seen from 55 minutes later, the same credentials are inside the refresh window.
        let clock = ShiftedClock(offset: 55 * 60)
        options.clock = clock
        let refreshing = try resolve(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/refresh"], options: options)
        let a = try await refreshing.credentials()
        let b = try await refreshing.credentials()
        #expect(a.sessionToken != b.sessionToken, "credentials expiring within the window must be fetched again")
        // An invalidation (the service said "expired") forces a fetch too.
        let c = try await cached.credentials()
        await cached.invalidate()
        #expect(try await cached.credentials().sessionToken != c.sessionToken)
        _ = url
    }

    func stats(_ peer: PeerProcess) async throws -> [String: Int] {
        let r = try await Self.http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/__stats"))
        return (try JSONSerialization.jsonObject(with: r.body) as? [String: Int]) ?? [:]
    }
}

struct ShiftedClock: WallClock {
    let offset: TimeInterval
    func now() -> Date { Date().addingTimeInterval(offset) }
}
