import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Logging
import SigV4

/// Signs, sends, retries and decodes calls to AWS services. One per process; safe to share
/// between any number of concurrent tasks.
public final class AWSClient: Sendable {
    public let configuration: AWSConfiguration
    let http: any HTTPClient
    let credentialProvider: any CredentialProvider
    let logger: Logger
    let clock: any WallClock
    let keyCache = SigningKeyCache()
    let quota: RetryQuota
    let limiters: [String: RateLimiter]

    public init(
        configuration: AWSConfiguration, http: any HTTPClient, credentials: any CredentialProvider,
        logger: Logger, clock: any WallClock = SystemWallClock()
    ) {
        self.configuration = configuration
        self.http = http
        self.credentialProvider = credentials
        self.logger = logger
        self.clock = clock
        quota = RetryQuota(capacity: configuration.retry.quotaCapacity)
        limiters = configuration.rateLimits.mapValues { RateLimiter(perSecond: $0) }
    }

    /// One logical call. `path` is the wire path (percent-encoded where needed).
    public struct Call: Sendable {
        public var service: AWSService
        public var operation: String
        public var method = "POST"
        public var path = "/"
        public var query: [(String, String)] = []
        public var headers: HTTPHeaders = [:]
        public var body = Data()
        /// STS AssumeRoleWithWebIdentity is the one call made without credentials.
        public var unsigned = false

        public init(service: AWSService, operation: String) {
            self.service = service
            self.operation = operation
        }
    }

    /// Sends `call` with retries; returns the 2xx response or throws `AWSServiceError` /
    /// `AWSClientError` / `CredentialsError`.
    public func send(_ call: Call) async throws -> HTTPResponse {
        let retry = configuration.retry
        var attempt = 1
        var retryCost: Int?
        var refreshedCredentials = false
        while true {
            let request = try await prepare(call)
            // The slot is taken once the request is signed, right before it goes: the window counts
            // sends, and the closer the slot is to the send, the closer it is to what AWS counts.
            if let limiter = limiters[call.service.name] { await limiter.acquire(waitingWith: http) }
            let failure: any Error
            let isTimeout: Bool
            do {
                let response = try await http.send(request)
                if response.isSuccess {
                    quota.release(retryCost ?? RetryQuota.successRefund)
                    logger.trace("aws call done", metadata: meta(call, attempt, ["status": "\(response.status)"]))
                    return response
                }
                let error = Self.decodeError(call, response)
                if !refreshedCredentials, !call.unsigned, AWSServiceError.expiredCredentialCodes.contains(error.code) {
                    // Temporary credentials can lapse between our refresh and the request: refetch once.
                    refreshedCredentials = true
                    await credentialProvider.invalidate()
                    logger.debug(
                        "credentials rejected as expired; fetching new ones",
                        metadata: meta(call, attempt, ["aws-error-code": "\(error.code)"]))
                    continue
                }
                guard error.isRetryable else { throw error }
                failure = error
                isTimeout = error.code == "RequestTimeout" || error.code == "RequestTimeoutException"
            } catch let error as TransportError {
                guard error.isTransient else {
                    throw AWSClientError.transport(service: call.service.name, operation: call.operation, error)
                }
                failure = error
                isTimeout = error.kind == .timeout
            }

            guard attempt < retry.maxAttempts else {
                if let transport = failure as? TransportError {
                    throw AWSClientError.transport(service: call.service.name, operation: call.operation, transport)
                }
                throw failure
            }
            guard let cost = quota.acquire(timeout: isTimeout) else {
                if let e = failure as? AWSServiceError {
                    throw AWSClientError.retryQuotaExhausted(service: call.service.name, operation: call.operation, last: e)
                }
                throw AWSClientError.transport(service: call.service.name, operation: call.operation, failure as! TransportError)
            }
            retryCost = cost
            let delay = retry.delay(forRetry: attempt, random: Double.random(in: 0..<1))
            logger.debug(
                "retrying AWS call",
                metadata: meta(
                    call, attempt,
                    [
                        "retry-in-ms": "\(delay.wholeMilliseconds)",
                        "error": "\(Self.shortReason(failure))",
                    ]))
            try await http.sleep(for: delay)
            attempt += 1
        }
    }

    func meta(_ call: Call, _ attempt: Int, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var m: Logger.Metadata = ["aws-service": "\(call.service.name)", "aws-operation": "\(call.operation)", "attempt": "\(attempt)"]
        m.merge(extra) { _, b in b }
        return m
    }

    static func shortReason(_ error: any Error) -> String {
        if let e = error as? AWSServiceError { return "\(e.code) (HTTP \(e.status))" }
        if let e = error as? TransportError { return e.kind.rawValue }
        return "\(error)"
    }

    /// Builds and signs the HTTP request for one attempt (a new signature, date and credentials
    /// each time).
    func prepare(_ call: Call) async throws -> HTTPRequest {
        let endpoint = configuration.endpoint(for: call.service)
        let parts = EndpointURL(endpoint)
        var path = parts.basePath + call.path
        if path.isEmpty { path = "/" }
        let query = call.query.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        var headers = call.headers
        headers.set("Host", parts.hostHeader)
        let url = "\(parts.scheme)://\(parts.hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)"
        if !call.unsigned {
            let credentials = try await credentialProvider.credentials()
            let region = call.service.signingRegion(for: configuration.region)
            let signer = SigV4Signer(credentials: credentials.signing, region: region, service: call.service.signingName)
            let now = clock.now()
            let key = keyCache.key(
                for: credentials.signing, day: String(SigV4Signer.amzDate(now).prefix(8)),
                region: region, service: call.service.signingName)
            let signature = signer.sign(
                SigV4Request(
                    method: call.method, path: path, query: query,
                    headers: headers.fields, body: Array(call.body)),
                date: now, signingKey: key)
            for (name, value) in signature.headersToAdd { headers.set(name, value) }
        }
        return HTTPRequest(method: call.method, url: url, headers: headers, body: call.body)
    }

    /// Reads an error answer in any of the shapes AWS (and moto) use: awsJson `__type`/`message`,
    /// REST-XML `<ErrorResponse><Error>`, EC2/S3-style `<Error>` or `<Response><Errors>`.
    static func decodeError(_ call: Call, _ response: HTTPResponse) -> AWSServiceError {
        var code: String?
        var message: String?
        var requestId = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
        let trimmed = response.body.drop { $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }
        if trimmed.first == UInt8(ascii: "{"), let json = try? JSONValue.parse(trimmed) {
            code = json["__type"]?.stringValue ?? json["code"]?.stringValue ?? json["Code"]?.stringValue
            message = json["message"]?.stringValue ?? json["Message"]?.stringValue ?? json["errorMessage"]?.stringValue
        } else if trimmed.first == UInt8(ascii: "<"), let xml = try? XMLParser.parse(Data(trimmed)) {
            let error = xml.name == "Error" ? xml : xml.find("Error")
            code = error?.value("Code") ?? xml.find("Code")?.text
            message = error?.value("Message") ?? xml.find("Message")?.text
            requestId = requestId ?? xml.find("RequestId")?.text ?? xml.find("RequestID")?.text
        }
        if code == nil, let header = response.headers["x-amzn-ErrorType"] { code = header }
        var clean = code ?? "HTTP\(response.status)"
        if let hash = clean.lastIndex(of: "#") { clean = String(clean[clean.index(after: hash)...]) }
        if let colon = clean.firstIndex(of: ":") { clean = String(clean[..<colon]) }
        if message == nil, code == nil, !response.body.isEmpty {
            message = String(decoding: response.body.prefix(200), as: UTF8.self)
        }
        // The code, message and request id are the peer's text: one printable line each.
        return AWSServiceError(
            service: call.service.name, operation: call.operation, status: response.status,
            code: clean.printableLine(limit: 100), message: (message ?? "").printableLine(),
            requestId: requestId?.printableLine(limit: 100))
    }

    // MARK: awsJson 1.1

    /// Calls an awsJson 1.1 operation: encodes `input`, decodes the answer as `Output`.
    public func json<Output: Decodable>(
        _ service: AWSService, _ operation: String, _ input: some Encodable,
        as: Output.Type = Output.self
    ) async throws -> Output {
        guard case .json(let prefix) = service.wire else { preconditionFailure("\(service) is not an awsJson service") }
        var call = Call(service: service, operation: operation)
        call.headers = ["Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "\(prefix).\(operation)"]
        call.body = try JSON.encode(input)
        let response = try await send(call)
        do {
            return try JSON.decode(Output.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
        } catch {
            throw AWSClientError.decoding(service: service.name, operation: operation, detail: "\(error)")
        }
    }

    // MARK: REST-XML and query

    /// Sends a REST-XML or query call and parses the answer, which must be the operation's own
    /// document, `<OperationResponse>`: anything else that parses as XML (a proxy's HTML page, an
    /// empty 200) is an unexpected response, never read as an answer with nothing in it.
    public func xml(_ call: Call) async throws -> XMLElement {
        let response = try await send(call)
        let expected = call.operation + "Response"
        let root: XMLElement
        do {
            root = try XMLParser.parse(response.body)
        } catch {
            let what = response.body.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) ? "an empty answer" : "\(error)"
            throw AWSClientError.decoding(
                service: call.service.name, operation: call.operation, detail: "expected a \(expected) document, got \(what)")
        }
        guard root.name == expected else {
            let type = response.headers["Content-Type"].map { " (\($0.printableLine(limit: 60)))" } ?? ""
            throw AWSClientError.decoding(
                service: call.service.name, operation: call.operation,
                detail: "expected a \(expected) document, got <\(root.name.printableLine(limit: 60))>\(type)")
        }
        return root
    }

    /// Calls an awsQuery operation (STS) with form parameters.
    public func query(
        _ service: AWSService, _ operation: String, _ parameters: [(String, String)],
        unsigned: Bool = false
    ) async throws -> XMLElement {
        guard case .query(let version) = service.wire else { preconditionFailure("\(service) is not an awsQuery service") }
        var call = Call(service: service, operation: operation)
        call.headers = ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"]
        call.body = Data(URIEncoding.formEncode([("Action", operation), ("Version", version)] + parameters).utf8)
        call.unsigned = unsigned
        return try await xml(call)
    }
}

/// Splits an endpoint URL into what requests need.
struct EndpointURL {
    var scheme: String
    /// `host[:port]` exactly as the `Host` header (and the signature) carry it.
    var hostHeader: String
    var basePath: String

    init(_ url: String) {
        // The configuration checked the endpoint is scheme://host[:port][/path].
        let colon = url.firstIndex(of: ":")!
        precondition(url[colon...].hasPrefix("://"), "an endpoint without a scheme")
        scheme = String(url[..<colon])
        let rest = url[url.index(colon, offsetBy: 3)...]
        if let slash = rest.firstIndex(of: "/") {
            hostHeader = String(rest[..<slash])
            let path = String(rest[slash...])
            basePath = path == "/" ? "" : (path.hasSuffix("/") ? String(path.dropLast()) : path)
        } else {
            hostHeader = String(rest)
            basePath = ""
        }
        // The default port is never part of the signed host.
        if scheme == "https", hostHeader.hasSuffix(":443") { hostHeader.removeLast(4) }
        if scheme == "http", hostHeader.hasSuffix(":80") { hostHeader.removeLast(3) }
    }
}
