import FoundationEssentials
import Hashing
import KMeshSupport

public struct SigV4Credentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?

    public init(accessKeyId: String, secretAccessKey: Secret, sessionToken: Secret? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// What the signer needs from a request. `path` is the path exactly as it goes on the wire (already
/// percent-encoded where needed); `query` is the raw query string without `?`.
public struct SigV4Request: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// The outcome of signing: the headers to add to the request, and the intermediate strings that
/// tests compare with published vectors.
public struct SigV4Signature: Sendable {
    public var headersToAdd: [(name: String, value: String)]
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    public var signedHeaders: String
}

/// AWS Signature Version 4 for the `Authorization` header. A pure value: the date is a parameter,
/// there is no I/O, and equal inputs give equal outputs.
public struct SigV4Signer: Sendable {
    public struct Options: Sendable {
        /// Remove `.`/`..` segments and empty segments from the path before encoding (every
        /// service but S3).
        public var normalizePath = true
        /// Also send and sign `x-amz-content-sha256` (S3-style).
        public var addContentSHA256Header = false
        /// Add `X-Amz-Security-Token` after signing instead of signing it (a few legacy services).
        public var omitSessionTokenFromSignature = false
        public init() {}
    }

    /// Headers that proxies and clients rewrite; signing them breaks the signature in transit.
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "transfer-encoding",
        "x-amzn-trace-id", "connection",
    ]

    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    public var options: Options

    public init(credentials: SigV4Credentials, region: String, service: String, options: Options = Options()) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    public func sign(_ request: SigV4Request, date: Date, signingKey: [UInt8]? = nil) -> SigV4Signature {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        let payloadHash = Digest.hex(Digest.sha256(request.body))

        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if options.addContentSHA256Header { added.append(("x-amz-content-sha256", payloadHash)) }
        var toSign = request.headers.filter { $0.name.lowercased() != "x-amz-date" } + added
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature {
            toSign.append(("X-Amz-Security-Token", token.value))
            added.append(("X-Amz-Security-Token", token.value))
        }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(toSign)
        let canonicalRequest = [
            request.method.uppercased(),
            canonicalURI(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Digest.hex(Digest.sha256(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        let key = signingKey ?? Self.signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = Digest.hex(Digest.hmacSHA256(key: key, stringToSign.utf8))

        added.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        if let token = credentials.sessionToken, options.omitSessionTokenFromSignature {
            added.append(("X-Amz-Security-Token", token.value))
        }
        return SigV4Signature(
            headersToAdd: added, canonicalRequest: canonicalRequest, stringToSign: stringToSign,
            signature: signature, signedHeaders: signedHeaders)
    }

    /// HMAC chain "AWS4"+secret -> day -> region -> service -> "aws4_request". Valid for one UTC day.
    public static func signingKey(secret: Secret, day: String, region: String, service: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array(("AWS4" + secret.value).utf8), day.utf8)
        key = Digest.hmacSHA256(key: key, region.utf8)
        key = Digest.hmacSHA256(key: key, service.utf8)
        return Digest.hmacSHA256(key: key, "aws4_request".utf8)
    }

    /// `20150830T123600Z`.
    public static func amzDate(_ date: Date) -> String {
        let f = UTCTime.fields(date)
        guard (0...9999).contains(f.year) else { return String(UTCTime.iso8601(date).filter { $0 != "-" && $0 != ":" }) }
        return String(unsafeUninitializedCapacity: 16) { out in
            var i = 0
            func put(_ value: Int, _ width: Int) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) {
                    out[i + k] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                i += width
            }
            put(f.year, 4)
            put(f.month, 2)
            put(f.day, 2)
            out[i] = UInt8(ascii: "T")
            i += 1
            put(f.hour, 2)
            put(f.minute, 2)
            put(f.second, 2)
            out[i] = UInt8(ascii: "Z")
            return i + 1
        }
    }

    func canonicalURI(_ path: String) -> String {
        var p = path.isEmpty ? "/" : path
        if options.normalizePath { p = Self.normalize(p) }
        return URIEncoding.encode(p, keepSlash: true)
    }

    /// Removes empty, `.` and `..` segments, keeping a leading and a trailing slash.
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !out.isEmpty { out.removeLast() }
                continue
            }
            out.append(segment)
        }
        var result = "/" + out.joined(separator: "/")
        if path.hasSuffix("/"), result != "/" { result += "/" }
        return result
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let eq = item.firstIndex(of: "=") {
                name = item[..<eq]
                value = item[item.index(after: eq)...]
            } else {
                name = item
                value = ""
            }
            pairs.append((URIEncoding.encode(URIEncoding.decode(name)), URIEncoding.encode(URIEncoding.decode(value))))
        }
        pairs.sort { a, b in
            a.0 == b.0
                ? a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
                : a.0.utf8.lexicographicallyPrecedes(b.0.utf8)
        }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Lower-case names, values trimmed with inner whitespace runs collapsed, repeated names joined
    /// by `,` in the order given, sorted by name.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if unsignedHeaders.contains(key) { continue }
            merged[key, default: []].append(collapse(value))
        }
        let names = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let lines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    static func collapse(_ value: String) -> String {
        var out = [UInt8]()
        var pendingSpace = false
        for b in value.utf8 {
            if b == 32 || b == 9 || b == 10 || b == 13 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace {
                    out.append(32)
                    pendingSpace = false
                }
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
