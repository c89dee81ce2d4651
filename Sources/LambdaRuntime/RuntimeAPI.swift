import FoundationEssentials
import HTTPTransport
import KMeshSupport

/// One invocation, as `GET /runtime/invocation/next` delivers it.
public struct Invocation: Sendable, Equatable {
    public var requestId: String
    /// `Lambda-Runtime-Deadline-Ms`: epoch milliseconds by which the function must answer.
    public var deadlineMs: Int64?
    public var invokedFunctionArn: String?
    public var traceId: String?
    public var body: Data

    public init(requestId: String, deadlineMs: Int64? = nil, invokedFunctionArn: String? = nil, traceId: String? = nil, body: Data) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.body = body
    }
}

/// What a function reports when it fails: `{"errorType", "errorMessage"}`.
public struct FunctionError: Error, Sendable, Equatable, Encodable, CustomStringConvertible {
    public var errorType: String
    public var errorMessage: String
    public init(type: String, message: String) {
        errorType = type
        errorMessage = message
    }
    public var description: String { "\(errorType): \(errorMessage)" }
}

/// The Lambda Runtime API, as the loop uses it.
public protocol LambdaRuntimeAPI: Sendable {
    /// Long-polls for the next invocation (no client-side timeout: Lambda freezes the process
    /// while it waits).
    func next() async throws -> Invocation
    /// Posts the invocation's response body (202 expected).
    func respond(requestId: String, body: Data) async throws
    /// Posts the invocation's error, with `Lambda-Runtime-Function-Error-Type`.
    func fail(requestId: String, error: FunctionError) async throws
    /// Reports a start-up failure; the process exits afterwards.
    func initFailed(_ error: FunctionError) async throws
}

public struct RuntimeAPIError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// `LambdaRuntimeAPI` over HTTP at `http://$AWS_LAMBDA_RUNTIME_API/2018-06-01`.
public struct LiveLambdaRuntimeAPI: LambdaRuntimeAPI {
    let base: String
    let http: any HTTPClient

    public init(endpoint: String, http: any HTTPClient) {
        base = "http://\(endpoint)/2018-06-01"
        self.http = http
    }

    public func next() async throws -> Invocation {
        let response = try await http.send(HTTPRequest(method: "GET", url: base + "/runtime/invocation/next", timeout: .zero))
        guard response.status == 200, let id = response.headers["Lambda-Runtime-Aws-Request-Id"] else {
            throw RuntimeAPIError(
                message: "GET /runtime/invocation/next answered HTTP \(response.status): \(response.bodyText.printableLine(limit: 200))")
        }
        return Invocation(
            requestId: id, deadlineMs: response.headers["Lambda-Runtime-Deadline-Ms"].flatMap { Int64($0) },
            invokedFunctionArn: response.headers["Lambda-Runtime-Invoked-Function-Arn"],
            traceId: response.headers["Lambda-Runtime-Trace-Id"], body: response.body)
    }

    public func respond(requestId: String, body: Data) async throws {
        try await post("/runtime/invocation/\(requestId)/response", body: body, headers: ["Content-Type": "application/json"])
    }

    public func fail(requestId: String, error: FunctionError) async throws {
        try await post(
            "/runtime/invocation/\(requestId)/error", body: try JSON.encode(error),
            headers: ["Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error.errorType])
    }

    public func initFailed(_ error: FunctionError) async throws {
        try await post(
            "/runtime/init/error", body: try JSON.encode(error),
            headers: ["Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error.errorType])
    }

    func post(_ path: String, body: Data, headers: HTTPHeaders) async throws {
        let response = try await http.send(
            HTTPRequest(method: "POST", url: base + path, headers: headers, body: body, timeout: .seconds(10)))
        guard (200..<300).contains(response.status) else {
            throw RuntimeAPIError(message: "POST \(path) answered HTTP \(response.status): \(response.bodyText.printableLine(limit: 200))")
        }
    }
}
