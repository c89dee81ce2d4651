import FoundationEssentials
import KMeshSupport

public struct KumaUser: Sendable, Decodable, Equatable {
    public var name: String
    public var groups: [String]
    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }
}

/// Any listed Kuma resource (Mesh, MeshService, MeshExternalService, MeshMultiZoneService,
/// Dataplane, HostnameGenerator). `spec` and `status` stay as JSON; typed views are below.
public struct KumaResource: Sendable, Equatable {
    public var type: String
    public var mesh: String?
    public var name: String
    public var labels: [String: String]
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(type: String, mesh: String?, name: String, labels: [String: String] = [:], spec: JSONValue? = nil, status: JSONValue? = nil)
    {
        self.type = type
        self.mesh = mesh
        self.name = name
        self.labels = labels
        self.spec = spec
        self.status = status
    }

    /// One item of a list page, read from the parsed document (no Codable: `spec` and `status` are
    /// kept whole, and the Codable route would guess the type of every value inside them). The same
    /// rules as the contract: `name` is required, `labels` map strings to strings.
    public init(json: JSONValue) throws(KumaDecodingError) {
        guard case .object(let o) = json else { throw KumaDecodingError("an item is not a JSON object") }
        func optionalString(_ key: String) throws(KumaDecodingError) -> String? {
            switch o[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw KumaDecodingError("an item's \(key) is not a string")
            }
        }
        guard let name = try optionalString("name") else { throw KumaDecodingError("an item has no name") }
        var labels: [String: String] = [:]
        switch o["labels"] {
        case nil, .null?: break
        case .object(let l)?:
            for (k, v) in l {
                guard case .string(let s) = v else {
                    throw KumaDecodingError("the label \(k.printableLine(limit: 80)) of \(name.printableLine(limit: 80)) is not a string")
                }
                labels[k] = s
            }
        default: throw KumaDecodingError("the labels of \(name.printableLine(limit: 80)) are not an object")
        }
        func kept(_ key: String) -> JSONValue? { if case .null? = o[key] { nil } else { o[key] } }
        self.init(
            type: try optionalString("type") ?? "", mesh: try optionalString("mesh"), name: name, labels: labels,
            spec: kept("spec"), status: kept("status"))
    }

    /// `status.addresses[].hostname`.
    public var hostnames: [String] {
        guard case .array(let a)? = status?["addresses"] else { return [] }
        return a.compactMap { $0["hostname"]?.stringValue }
    }

    /// `status.vips[].ip`.
    public var vips: [String] {
        guard case .array(let a)? = status?["vips"] else { return [] }
        return a.compactMap { $0["ip"]?.stringValue }
    }
}

/// The mesh-scoped collections the reconcilers list.
public enum MeshScopedCollection: String, Sendable, CaseIterable {
    case dataplanes, meshservices, meshexternalservices, meshmultizoneservices
}

public struct DataplaneTokenRequest: Sendable, Encodable, Equatable {
    public var mesh: String
    public var tags: [String: [String]]
    public var type: String
    public var validFor: String
    public var name: String?

    /// A token for every proxy of one service: mesh and `kuma.io/service` tag, no name.
    public static func forService(_ service: String, mesh: String, validFor: GoDuration) -> DataplaneTokenRequest {
        DataplaneTokenRequest(
            mesh: mesh, tags: ["kuma.io/service": [service]], type: "dataplane",
            validFor: validFor.description, name: nil)
    }
}

/// The Kuma control-plane operations this project uses. Every call sends the bearer token and
/// `Content-Type: application/json`; failures are `KumaAPIError` or `KumaClientError`.
public protocol KumaAPI: Sendable {
    /// POST /tokens/dataplane; the JWT comes back as a `Secret`.
    func generateDataplaneToken(_ request: DataplaneTokenRequest) async throws -> Secret
    /// POST /tokens/user.
    func generateUserToken(name: String, groups: [String], validFor: GoDuration) async throws -> Secret
    /// GET /who-am-i: verifies the token in use.
    func whoAmI() async throws -> KumaUser
    /// GET /meshes, every page.
    func meshes() async throws -> [KumaResource]
    /// GET /meshes/{mesh}/{collection}, every page.
    func list(mesh: String, _ collection: MeshScopedCollection) async throws -> [KumaResource]
    /// GET /hostnamegenerators, every page.
    func hostnameGenerators() async throws -> [KumaResource]
    /// PUT /global-secrets/{name} with `data` base64-encoded.
    func putGlobalSecret(name: String, data: Secret) async throws
    /// GET /global-secrets/{name}: its data, decoded; nil when there is no such secret (404).
    func globalSecret(name: String) async throws -> Secret?
}

/// Where the API token comes from: a fixed value, or a secret read again when the control plane
/// rejects the current one.
public protocol KumaTokenSource: Sendable {
    /// The bearer token for the next request (nil: send none). May read it from where it is
    /// kept; a failure to read is thrown and ends the call.
    func token() async throws -> Secret?
    /// The control plane answered 401 with the current token: the next `token()` reloads.
    func invalidate() async
}

public struct StaticKumaToken: KumaTokenSource {
    let value: Secret?
    public init(_ value: Secret?) { self.value = value }
    public func token() async throws -> Secret? { value }
    public func invalidate() async {}
}

/// Why a Kuma answer does not have the shape of its contract.
public struct KumaDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
