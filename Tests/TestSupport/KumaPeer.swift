import Foundation
import HTTPTransport
import KMeshSupport
import Kuma
import Logging

/// The Kuma API stand-in (scripts/peers/kuma_standin.py) and its test controls.
public struct KumaPeer: Sendable {
    public let process: PeerProcess
    public var baseURL: String { "\(process.string("scheme") ?? "http")://127.0.0.1:\(process.port)" }
    public var adminToken: Secret { Secret(process.string("admin_token")!) }
    public var memberToken: Secret { Secret(process.string("member_token")!) }
    public var expiredToken: Secret { Secret(process.string("expired_token")!) }
    public var revokedToken: Secret { Secret(process.string("revoked_token")!) }
    public var forgedToken: Secret { Secret(process.string("forged_token")!) }
    public var caFile: String? { process.string("ca_file") }

    /// The client of the stand-in's controls: trusting its CA when it serves TLS.
    let controlHTTP: CurlHTTPClient

    public init(process: PeerProcess) {
        self.process = process
        controlHTTP =
            process.string("ca_file").map { CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: $0))) } ?? Self.http
    }

    public static func start(meshes: [String] = ["default"], tls: Bool = false) async throws -> KumaPeer {
        var args = ["--meshes", meshes.joined(separator: ",")]
        if tls { args += ["--tls", PeerProcess.scratch.appendingPathComponent("kuma-tls-\(UUID().uuidString)").path] }
        return KumaPeer(process: try await PeerProcess.start("kuma_standin.py", args))
    }

    static let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))

    /// The stand-in's controls, over TLS too when it serves TLS.
    @discardableResult
    public func control(_ method: String, _ path: String, _ body: [String: Any] = [:]) async throws -> Any {
        let r = try await controlHTTP.send(
            HTTPRequest(
                method: method, url: "\(baseURL)/__standin/\(path)",
                headers: ["Content-Type": "application/json"],
                body: try JSONSerialization.data(withJSONObject: body)))
        return try JSONSerialization.jsonObject(with: r.body)
    }

    public func addMesh(_ name: String) async throws { try await control("POST", "meshes", ["name": name]) }
    public func addResources(_ items: [[String: Any]]) async throws { try await control("POST", "resources", ["items": items]) }
    /// Clears every resource and hostname generator, then adds `items`.
    public func replaceResources(_ items: [[String: Any]]) async throws {
        _ = try await control("DELETE", "resources")
        if !items.isEmpty { try await addResources(items) }
    }
    public func fault(_ fault: String, path: String = "/tokens/dataplane", mesh: String? = nil, count: Int = 1, delayMs: Int? = nil)
        async throws
    {
        var f: [String: Any] = ["fault": fault, "path": path, "count": count]
        if let mesh { f["mesh"] = mesh }
        if let delayMs { f["delay_ms"] = delayMs }
        try await control("POST", "faults", f)
    }
    public func clearFaults() async throws { try await control("DELETE", "faults") }
    /// A user token signed by the stand-in, valid for `seconds` (negative: already expired).
    public func userToken(name: String = "ecs-controller", groups: [String] = ["mesh-system:admin"], seconds: Int) async throws -> Secret {
        let answer =
            try await control("POST", "user-token", ["name": name, "groups": groups, "valid_for_seconds": seconds]) as? [String: Any]
        return Secret(answer?["token"] as? String ?? "")
    }
    /// GET /who-am-i with `token`: the user's name, or nil when the token is rejected.
    public func whoAmI(_ token: Secret) async throws -> String? {
        try? await client(token: token).whoAmI().name
    }
    public func calls() async throws -> [String: Int] { try await control("GET", "calls") as? [String: Int] ?? [:] }
    /// Verifies a token with the stand-in's signing keys: (valid, kind, claims).
    public func verify(_ token: Secret) async throws -> [String: Any] {
        try await control("POST", "verify", ["token": token.value]) as? [String: Any] ?? [:]
    }

    public func client(
        token: Secret?, caPEM: Data? = nil, maxAttempts: Int = 3, pageSize: Int = 100,
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> LiveKuma {
        var config = LiveKuma.Configuration(baseURL: baseURL)
        config.maxAttempts = maxAttempts
        config.pageSize = pageSize
        config.retryBaseDelay = .milliseconds(10)
        let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration.system(environment: Environment(), extraCAPEM: caPEM)))
        return try LiveKuma(configuration: config, http: http, tokens: StaticKumaToken(token), logger: logger)
    }

    /// A MeshService as the control plane lists it.
    public static func meshService(
        _ name: String, mesh: String, vip: String?, hostnames: [String],
        labels: [String: String] = ["kuma.io/origin": "zone"]
    ) -> [String: Any] {
        var status: [String: Any] = ["addresses": hostnames.map { ["hostname": $0, "origin": "HostnameGenerator"] }]
        status["vips"] = vip.map { [["ip": $0]] } ?? []
        return [
            "type": "MeshService", "mesh": mesh, "name": name, "labels": labels.merging(["kuma.io/display-name": name]) { a, _ in a },
            "spec": [
                "ports": [["port": 8080, "targetPort": 8080, "appProtocol": "http"]],
                "selector": ["dataplaneTags": ["kuma.io/service": name]], "state": "Available",
            ],
            "status": status,
        ]
    }
}
