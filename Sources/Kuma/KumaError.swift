import FoundationEssentials
import HTTPTransport
import KMeshSupport

/// An error answer from the Kuma API: its JSON error (`title (detail); field: reason`) or one of
/// its plain-text answers (405, 406, 415), or an empty 400 (malformed JSON).
public struct KumaAPIError: Error, Sendable, CustomStringConvertible, Equatable {
    public var method: String
    public var path: String
    public var status: Int
    public var title: String
    public var detail: String
    public var fields: [Field]

    public struct Field: Sendable, Equatable {
        public var field: String
        public var reason: String
    }

    public init(method: String, path: String, status: Int, title: String, detail: String = "", fields: [Field] = []) {
        self.method = method
        self.path = path
        self.status = status
        self.title = title
        self.detail = detail
        self.fields = fields
    }

    /// `title (detail); field: reason, field: reason`.
    public var message: String {
        var s = title
        if !detail.isEmpty, detail != title { s += " (\(detail))" }
        if !fields.isEmpty { s += "; " + fields.map { "\($0.field): \($0.reason)" }.joined(separator: ", ") }
        return s
    }

    public var isSigningKeyNotFound: Bool { status == 404 && title == "Signing Key not found" }

    /// What the operator should do, for the answers people meet.
    public var hint: String? {
        switch status {
        case 401:
            "the API token is invalid, expired or revoked: issue a new user token (kumactl generate user-token) and store it where this tool reads its API token"
        case 403:
            "the API token's user may not do this: it needs the mesh-system:admin group (or Kong Mesh's GENERATE_DATAPLANE_TOKEN access)"
        case 404 where isSigningKeyNotFound:
            "the mesh does not exist in the control plane (or has no dataplane token signing key): check the kuma.io/mesh tag or the default mesh"
        case 500...599: "the control plane failed: check its logs; the next pass retries"
        default: nil
        }
    }

    public var description: String {
        var s = "Kuma API \(method) \(path) failed (HTTP \(status)): \(message)"
        if let hint { s += "; \(hint)" }
        return s
    }

    struct Body: Decodable {
        struct Invalid: Decodable {
            var field: String?
            var reason: String?
        }
        struct Cause: Decodable {
            var field: String?
            var message: String?
        }
        var title: String?
        var detail: String?
        var details: String?
        var invalid_parameters: [Invalid]?
        var causes: [Cause]?
    }

    static func from(method: String, path: String, response: HTTPResponse) -> KumaAPIError {
        if response.body.isEmpty {
            let title =
                response.status == 400 ? "Bad Request (the request body is not valid JSON)" : "HTTP \(response.status) with an empty body"
            return KumaAPIError(method: method, path: path, status: response.status, title: title)
        }
        // Everything below is the peer's text: one printable line each, of bounded length.
        if let body = try? JSON.decode(Body.self, from: response.body), body.title != nil || body.detail != nil {
            func field(_ name: String?, _ reason: String?) -> Field {
                Field(field: (name ?? "").printableLine(limit: 100), reason: (reason ?? "").printableLine(limit: 200))
            }
            var fields = (body.invalid_parameters ?? []).prefix(20).map { field($0.field, $0.reason) }
            if fields.isEmpty { fields = (body.causes ?? []).prefix(20).map { field($0.field, $0.message) } }
            return KumaAPIError(
                method: method, path: path, status: response.status,
                title: (body.title ?? "HTTP \(response.status)").printableLine(limit: 200),
                detail: (body.detail ?? body.details ?? "").printableLine(), fields: fields)
        }
        // Plain-text answers: "415: Unsupported Media Type", "404 page not found", a proxy's HTML.
        return KumaAPIError(method: method, path: path, status: response.status, title: response.bodyText.printableLine(limit: 200))
    }
}

/// The control plane could not be reached or answered something unusable.
public enum KumaClientError: Error, Sendable, CustomStringConvertible {
    case unreachable(baseURL: String, TransportError)
    case unexpectedResponse(method: String, path: String, detail: String)
    case invalidBaseURL(String)

    public var description: String {
        switch self {
        case .unreachable(let base, let e):
            "the Kuma control plane at \(base) is unreachable: \(e); check the API server URL and that the control plane is up"
        case .unexpectedResponse(let method, let path, let detail): "Kuma API \(method) \(path) returned an unexpected response: \(detail)"
        case .invalidBaseURL(let url): "Kuma API URL \"\(url)\" is not an http:// or https:// URL"
        }
    }
}
