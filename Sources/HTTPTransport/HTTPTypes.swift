import FoundationEssentials

/// Header fields in order, with case-insensitive lookup.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) { fields = elements.map { ($0.0, $0.1) } }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every field called `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name, value))
    }

    public mutating func remove(_ name: String) { fields.removeAll { $0.name.caseInsensitiveEquals(name) } }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 97 && (x | 0x20) <= 122)
        }
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    /// Absolute URL: `scheme://host[:port]/path[?query]`.
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data
    /// Total time allowed for this request; nil uses the client's default; `.zero` means no limit
    /// (the Lambda runtime's long poll).
    public var timeout: Duration?

    public init(method: String, url: String, headers: HTTPHeaders = [:], body: Data = Data(), timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Sends one HTTP request and returns whatever status came back (non-2xx is not an error here).
public protocol HTTPClient: Sendable {
    /// Throws `TransportError` when no HTTP response was received (DNS, connect, TLS, timeout,
    /// connection lost). Safe to call from many tasks at once.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse

    /// Waits `duration` between calls (a retry's backoff, a rate limit), and throws
    /// `CancellationError` at once when the calling task is cancelled. A client may wait where its
    /// answers arrive: `CurlHTTPClient` waits on its transfer thread. By default, `Task.sleep`.
    func sleep(for duration: Duration) async throws
}

extension HTTPClient {
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// A failure below HTTP: nothing usable came back.
public struct TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case resolve, connect, tls, timeout, connectionLost, responseTooLarge, invalidRequest, other
        /// The calling task was cancelled (a Lambda invocation's deadline): the transfer was stopped.
        case cancelled
    }

    public var kind: Kind
    public var method: String
    /// The URL without its query string (queries can be long and are never needed to act).
    public var url: String
    public var detail: String

    public init(kind: Kind, method: String, url: String, detail: String) {
        self.kind = kind
        self.method = method
        self.url = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        self.detail = detail
    }

    /// Whether sending the same request again may work (everything but a malformed request).
    public var isTransient: Bool { kind != .invalidRequest && kind != .responseTooLarge && kind != .cancelled }

    public var description: String {
        let what: String
        switch kind {
        case .resolve: what = "could not resolve the host name"
        case .connect: what = "could not connect"
        case .tls: what = "TLS handshake or certificate verification failed"
        case .timeout: what = "timed out"
        case .connectionLost: what = "the connection was closed before a complete response arrived"
        case .responseTooLarge: what = "the response was larger than allowed"
        case .invalidRequest: what = "invalid request"
        case .other: what = "transfer failed"
        case .cancelled: what = "cancelled before it completed"
        }
        let tail = detail.isEmpty ? "" : " (\(detail))"
        return "\(method) \(url): \(what)\(tail)"
    }
}
