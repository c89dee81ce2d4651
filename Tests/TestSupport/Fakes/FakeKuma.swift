import Foundation
import KMeshSupport
import Kuma

/// The Kuma control plane in memory: meshes, mesh-scoped resources, hostname generators, global
/// secrets, and tokens that carry Kuma's real claims (unsigned: the fake is the only judge here).
/// Unknown meshes answer 404 "Signing Key not found" as Kuma does for dataplane tokens.
public final class FakeKuma: KumaAPI, Sendable {
    struct State {
        var meshes: [String] = ["default"]
        var resources: [String: [MeshScopedCollection: [KumaResource]]] = [:]
        var generators: [KumaResource] = []
        var globalSecrets: [String: String] = [:]
        var user = KumaUser(name: "ecs-controller", groups: ["mesh-system:admin", "mesh-system:authenticated"])
    }

    public let calls = FakeCalls()
    private let state = Locked(State())
    private let clock: any WallClock

    public init(meshes: [String] = ["default"], clock: any WallClock = SystemWallClock()) {
        self.clock = clock
        state.withLock { $0.meshes = meshes }
    }

    public func add(_ resource: KumaResource, to collection: MeshScopedCollection) {
        state.withLock { $0.resources[resource.mesh ?? "default", default: [:]][collection, default: []].append(resource) }
    }

    public func addGenerator(_ generator: KumaResource) { state.withLock { $0.generators.append(generator) } }

    public func globalSecret(_ name: String) -> String? { state.withLock { $0.globalSecrets[name] } }

    /// A JWT with Kuma's claim names, signed by nobody.
    public static func token(claims: [String: Any]) -> Secret {
        let header = Base64URL.encode(Data(#"{"alg":"RS256","kid":"1","typ":"JWT"}"#.utf8))
        let body = Base64URL.encode(try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        return Secret("\(header).\(body).c2lnbmF0dXJl")
    }

    func claims(validFor: GoDuration) -> [String: Any] {
        let now = clock.now().timeIntervalSince1970
        return ["iat": Int(now) - 5, "nbf": Int(now) - 5, "exp": Int(now) + Int(validFor.seconds), "jti": UUID().uuidString]
    }

    public func generateDataplaneToken(_ request: DataplaneTokenRequest) async throws -> Secret {
        try calls.record("POST /tokens/dataplane")
        guard state.withLock({ $0.meshes.contains(request.mesh) }) else {
            throw KumaAPIError(
                method: "POST", path: "/tokens/dataplane", status: 404, title: "Signing Key not found",
                detail: "there is no signing key with KID dataplane-token-signing-key-\(request.mesh)-1")
        }
        var c = claims(validFor: GoDuration(request.validFor) ?? GoDuration(seconds: 315_360_000))
        c["Name"] = request.name ?? ""
        c["Mesh"] = request.mesh
        c["Tags"] = request.tags
        c["Type"] = request.type
        return Self.token(claims: c)
    }

    public func generateUserToken(name: String, groups: [String], validFor: GoDuration) async throws -> Secret {
        try calls.record("POST /tokens/user")
        var c = claims(validFor: validFor)
        c["Name"] = name
        c["Groups"] = groups
        return Self.token(claims: c)
    }

    public func whoAmI() async throws -> KumaUser {
        try calls.record("GET /who-am-i")
        return state.withLock { $0.user }
    }

    public func meshes() async throws -> [KumaResource] {
        try calls.record("GET /meshes")
        return state.withLock { $0.meshes.map { KumaResource(type: "Mesh", mesh: nil, name: $0) } }
    }

    public func list(mesh: String, _ collection: MeshScopedCollection) async throws -> [KumaResource] {
        try calls.record("GET /meshes/\(mesh)/\(collection.rawValue)")
        return try state.withLock { s in
            guard s.meshes.contains(mesh) else {
                throw KumaAPIError(
                    method: "GET", path: "/meshes/\(mesh)/\(collection.rawValue)", status: 404, title: "Failed to retrieve Mesh",
                    detail: "mesh \(mesh) not found")
            }
            return s.resources[mesh]?[collection] ?? []
        }
    }

    public func hostnameGenerators() async throws -> [KumaResource] {
        try calls.record("GET /hostnamegenerators")
        return state.withLock { $0.generators }
    }

    public func globalSecret(name: String) async throws -> Secret? {
        try calls.record("GET /global-secrets/\(name)")
        return state.withLock { $0.globalSecrets[name] }.map(Secret.init)
    }

    public func putGlobalSecret(name: String, data: Secret) async throws {
        try calls.record("PUT /global-secrets/\(name)")
        state.withLock { $0.globalSecrets[name] = data.value }
    }
}
