import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Logging

/// `KumaAPI` over HTTP(S).
public struct LiveKuma: KumaAPI {
    public struct Configuration: Sendable {
        /// `http(s)://host:port`, with or without a trailing slash.
        public var baseURL: String
        /// Items per list request: the API's maximum, so that a mesh of thousands of services is a few requests.
        public var pageSize = 1000
        /// Attempts for transport failures, 429 (a gateway's throttling) and 502/503/504 (the first
        /// included). A 500 is the control plane's own failure: not retried here; the next pass retries.
        public var maxAttempts = 3
        public var retryBaseDelay: Duration = .milliseconds(200)
        public init(baseURL: String) { self.baseURL = baseURL }
    }

    let configuration: Configuration
    let base: String
    let http: any HTTPClient
    let tokens: any KumaTokenSource
    let logger: Logger

    public init(configuration: Configuration, http: any HTTPClient, tokens: any KumaTokenSource, logger: Logger) throws {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), base.count > 8 else {
            throw KumaClientError.invalidBaseURL(configuration.baseURL)
        }
        self.configuration = configuration
        self.base = base
        self.http = http
        self.tokens = tokens
        self.logger = logger
    }

    // MARK: operations

    public func generateDataplaneToken(_ request: DataplaneTokenRequest) async throws -> Secret {
        let response = try await send("POST", "/tokens/dataplane", body: try JSON.encode(request))
        return try jwt(response, "POST", "/tokens/dataplane")
    }

    struct UserTokenRequest: Encodable {
        var name: String
        var groups: [String]
        var validFor: String
    }

    public func generateUserToken(name: String, groups: [String], validFor: GoDuration) async throws -> Secret {
        let body = try JSON.encode(UserTokenRequest(name: name, groups: groups, validFor: validFor.description))
        return try jwt(try await send("POST", "/tokens/user", body: body), "POST", "/tokens/user")
    }

    public func whoAmI() async throws -> KumaUser {
        try decode(KumaUser.self, try await send("GET", "/who-am-i"), "GET", "/who-am-i")
    }

    public func meshes() async throws -> [KumaResource] { try await listAll("/meshes") }

    public func list(mesh: String, _ collection: MeshScopedCollection) async throws -> [KumaResource] {
        try await listAll("/meshes/\(Self.pathSegment(mesh))/\(collection.rawValue)")
    }

    public func hostnameGenerators() async throws -> [KumaResource] { try await listAll("/hostnamegenerators") }

    struct GlobalSecretBody: Encodable {
        var type = "GlobalSecret"
        var name: String
        var data: String
    }

    public func putGlobalSecret(name: String, data: Secret) async throws {
        let body = try JSON.encode(GlobalSecretBody(name: name, data: Data(data.value.utf8).base64EncodedString()))
        _ = try await send("PUT", "/global-secrets/\(Self.pathSegment(name))", body: body)
    }

    struct GlobalSecretAnswer: Decodable { var data: String? }

    public func globalSecret(name: String) async throws -> Secret? {
        let path = "/global-secrets/\(Self.pathSegment(name))"
        do {
            let answer = try decode(GlobalSecretAnswer.self, try await send("GET", path), "GET", path)
            guard let data = answer.data.flatMap({ Data(base64Encoded: $0) }) else {
                throw KumaClientError.unexpectedResponse(method: "GET", path: path, detail: "the global secret's data is not base64")
            }
            return Secret(String(decoding: data, as: UTF8.self))
        } catch let e as KumaAPIError where e.status == 404 {
            return nil
        }
    }

    // MARK: plumbing

    /// A list page, `{"total": N, "items": [...], "next": "..."|null}`, read by `JSONValue.parse`.
    struct Page {
        var items: [KumaResource]
        var next: String?

        init(_ body: Data) throws(KumaDecodingError) {
            let document: JSONValue
            do { document = try JSONValue.parse(body) } catch { throw KumaDecodingError("\(error)") }
            guard case .object(let o) = document else { throw KumaDecodingError("a list page is not a JSON object") }
            guard case .array(let items)? = o["items"] else { throw KumaDecodingError("a list page has no items array") }
            self.items = []
            self.items.reserveCapacity(items.count)
            for item in items { self.items.append(try KumaResource(json: item)) }
            switch o["next"] {
            case nil, .null?: next = nil
            case .string(let s)?: next = s
            default: throw KumaDecodingError("a list page's next is not a string")
            }
        }
    }

    func listAll(_ path: String) async throws -> [KumaResource] {
        var items: [KumaResource] = []
        var target = "\(path)?size=\(configuration.pageSize)"
        var pages = 0
        while true {
            let response = try await send("GET", target)
            let page: Page
            do { page = try Page(response.body) } catch {
                throw KumaClientError.unexpectedResponse(method: "GET", path: path, detail: "\(error)")
            }
            items += page.items
            pages += 1
            guard let next = page.next, !next.isEmpty else { return items }
            guard pages < 10_000 else {
                throw KumaClientError.unexpectedResponse(method: "GET", path: path, detail: "more than 10000 pages: the next links loop")
            }
            target = relative(next)
        }
    }

    /// `next` is absolute and carries the Host the control plane saw, which behind a load
    /// balancer may not be ours: keep only its path and query, and send it to our base URL.
    func relative(_ next: String) -> String {
        guard let scheme = next.firstRange(of: "://") else { return next.hasPrefix("/") ? next : "/" + next }
        let rest = next[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    static func pathSegment(_ s: String) -> String { URIEncoding.encode(s) }

    func send(_ method: String, _ pathAndQuery: String, body: Data = Data()) async throws -> HTTPResponse {
        let path = String(pathAndQuery.split(separator: "?", maxSplits: 1).first ?? "")
        var attempt = 1
        var reloadedToken = false
        while true {
            var headers: HTTPHeaders = ["Content-Type": "application/json"]
            if let token = try await tokens.token() { headers.set("Authorization", "Bearer \(token.value)") }
            let request = HTTPRequest(method: method, url: base + pathAndQuery, headers: headers, body: body)
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch let error as TransportError {
                guard error.isTransient, attempt < configuration.maxAttempts else {
                    throw KumaClientError.unreachable(baseURL: base, error)
                }
                try await backoff(&attempt, method, path, "\(error.kind.rawValue)")
                continue
            }
            if response.isSuccess { return response }
            if response.status == 401, !reloadedToken {
                // The token may have been rotated since it was read: reload it once.
                reloadedToken = true
                await tokens.invalidate()
                continue
            }
            if [429, 502, 503, 504].contains(response.status), attempt < configuration.maxAttempts {
                try await backoff(&attempt, method, path, "HTTP \(response.status)")
                continue
            }
            throw KumaAPIError.from(method: method, path: path, response: response)
        }
    }

    func backoff(_ attempt: inout Int, _ method: String, _ path: String, _ reason: String) async throws {
        let delay = configuration.retryBaseDelay * (1 << (attempt - 1)) * Double.random(in: 0.5..<1)
        logger.debug(
            "retrying Kuma API call",
            metadata: [
                "kuma-request": "\(method) \(path)", "attempt": "\(attempt)", "error": "\(reason)",
                "retry-in-ms": "\(delay.wholeMilliseconds)",
            ])
        try await http.sleep(for: delay)
        attempt += 1
    }

    func jwt(_ response: HTTPResponse, _ method: String, _ path: String) throws -> Secret {
        let text = response.bodyText.trimmingASCIIWhitespace()
        guard text.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            throw KumaClientError.unexpectedResponse(method: method, path: path, detail: "the body is not a JWT")
        }
        return Secret(text)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse, _ method: String, _ path: String) throws -> T {
        do {
            return try JSON.decode(type, from: response.body)
        } catch {
            throw KumaClientError.unexpectedResponse(method: method, path: path, detail: "\(error)")
        }
    }
}
