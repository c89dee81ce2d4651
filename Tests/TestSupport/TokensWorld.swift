import AWS
import Foundation
import KMeshSupport
import Kuma

/// One isolated world for an end-to-end test of reconcile-tokens: its own moto region (moto keeps
/// state per region), its own fault proxy in front of moto (whose counts are this test's), and its
/// own Kuma stand-in. Give every test a region no other test uses: moto's ListTasks matches cluster
/// names by substring, so `prod` would also list another test's `ecs-test-prod`.
public struct TokensWorld: Sendable {
    public let moto: MotoPeer
    public let proxy: FaultProxy
    public let kuma: KumaPeer
    public let region: String
    public let prefix: String
    /// Seeds state straight into moto (not through the proxy, so counts are the reconciler's).
    public let seed: AWSSeeder
    public let direct: LiveSecretsManager

    public static func make(region: String, meshes: [String] = ["default"], prefix: String = "kong-mesh-ecs/") async throws -> TokensWorld {
        let moto = try await MotoPeer.get()
        async let proxy = FaultProxy.start(upstream: moto.baseURL)
        async let kuma = KumaPeer.start(meshes: meshes)
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin, region: region)
        return TokensWorld(
            moto: moto, proxy: try await proxy, kuma: try await kuma, region: region, prefix: prefix,
            seed: AWSSeeder(client: client), direct: LiveSecretsManager(client: client))
    }

    public func stop() {
        proxy.process.stop()
        kuma.process.stop()
    }

    /// The environment a deployment would give the binary, pointed at this world.
    public func environment(kumaURL: String? = nil, extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "AWS_ACCESS_KEY_ID": moto.admin.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.admin.secretAccessKey.value,
            "AWS_REGION": region, "AWS_ENDPOINT_URL": proxy.baseURL, "AWS_EC2_METADATA_DISABLED": "true",
            "KUMA_API_SERVER_URL": kumaURL ?? kuma.baseURL, "KUMA_API_TOKEN": kuma.adminToken.value,
            "KMESH_SECRET_NAME_PREFIX": prefix, "LOG_LEVEL": "info",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    public func reconcile(_ arguments: [String] = [], extra: [String: String] = [:], kumaURL: String? = nil) async throws -> BinaryRun {
        try await Binaries.run("reconcile-tokens", arguments, environment: environment(kumaURL: kumaURL, extra: extra))
    }

    /// Creates a cluster and runs tasks per (service, mesh, count); returns the cluster name.
    @discardableResult
    public func cluster(_ name: String, _ services: [(service: String, mesh: String?, count: Int)]) async throws -> String {
        _ = try await seed.createCluster(name)
        for s in services {
            var tags = ["kuma.io/service": s.service]
            if let mesh = s.mesh { tags["kuma.io/mesh"] = mesh }
            _ = try await seed.runTasks(cluster: name, family: "fam-\(abs(s.service.hashValue % 1000))", count: s.count, tags: tags)
        }
        return name
    }

    public func secret(_ service: String, _ value: String = "{}") async throws {
        _ = try await seed.createSecret(prefix + service, value: value)
    }

    /// The secret's current JSON object.
    public func stored(_ service: String) async throws -> [String: Any] {
        let v = try await direct.getSecretValue(id: prefix + service, versionStage: nil, versionId: nil)
        return (try JSONSerialization.jsonObject(with: Data((v.secretString?.value ?? "null").utf8)) as? [String: Any]) ?? [:]
    }

    public func versions(_ service: String) async throws -> Int {
        try await direct.describeSecret(id: prefix + service).versionIdsToStages.count
    }

    /// Claims of the stored token, after the stand-in verified its signature.
    public func verifiedClaims(_ service: String) async throws -> [String: Any]? {
        guard let token = try await stored(service)["token"] as? String else { return nil }
        let v = try await kuma.verify(Secret(token))
        guard v["valid"] as? Bool == true else { return nil }
        return v["claims"] as? [String: Any]
    }

    /// A JWT with the given claims and a junk signature: the reconciler reads claims without
    /// verifying, so this stands for tokens minted elsewhere (expired ones included).
    public static func unsignedToken(mesh: String, service: String, expiresIn: TimeInterval) -> String {
        let now = Date().timeIntervalSince1970
        let claims: [String: Any] = [
            "Name": "", "Mesh": mesh, "Tags": ["kuma.io/service": [service]], "Type": "",
            "exp": Int(now + expiresIn), "nbf": Int(now - 5), "iat": Int(now - 5), "jti": UUID().uuidString,
        ]
        func b64(_ d: Data) -> String { Base64URL.encode(d) }
        let header = b64(try! JSONSerialization.data(withJSONObject: ["alg": "RS256", "kid": "1", "typ": "JWT"]))
        return header + "." + b64(try! JSONSerialization.data(withJSONObject: claims)) + ".c2lnbmF0dXJl"
    }
}
