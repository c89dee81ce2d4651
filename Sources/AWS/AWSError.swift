import FoundationEssentials
import HTTPTransport
import KMeshSupport

/// An error answer from an AWS service, with everything needed to act on it or report it.
public struct AWSServiceError: Error, Sendable, CustomStringConvertible, Equatable {
    public var service: String
    public var operation: String
    public var status: Int
    public var code: String
    public var message: String
    public var requestId: String?

    public init(service: String, operation: String, status: Int, code: String, message: String, requestId: String? = nil) {
        self.service = service
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
        "PriorRequestNotComplete", "RequestThrottled", "RequestThrottledException", "SlowDown", "LimitExceededException",
        "BandwidthLimitExceeded", "ProvisionedThroughputExceededException", "EC2ThrottledException",
    ]
    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "InternalServerError", "InternalServiceError",
    ]
    public static let expiredCredentialCodes: Set<String> = [
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId", "UnrecognizedClientException",
    ]

    public var isThrottling: Bool { Self.throttlingCodes.contains(code) || status == 429 }
    public var isTransient: Bool { Self.transientCodes.contains(code) || [500, 502, 503, 504].contains(status) }
    public var isRetryable: Bool { isThrottling || isTransient }
    public var isAccessDenied: Bool {
        code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation"
    }

    /// What a person should do about it, for the codes people meet most.
    public var hint: String? {
        switch code {
        case "SignatureDoesNotMatch":
            "the signature does not match: check the secret access key (AWS_SECRET_ACCESS_KEY or the profile) and the system clock"
        case "InvalidClientTokenId", "UnrecognizedClientException":
            "the access key id is not known to AWS: check the credentials in use"
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
            "the credentials have expired: refresh them"
        case "AccessDenied", "AccessDeniedException":
            "the IAM policy of the caller does not allow \(iamAction)"
        default: nil
        }
    }

    var iamAction: String {
        let prefix =
            switch service {
            case "ECS": "ecs"
            case "Secrets Manager": "secretsmanager"
            case "Route 53": "route53"
            case "STS": "sts"
            default: service.lowercased()
            }
        return "\(prefix):\(operation)"
    }

    public var description: String {
        var s = "\(service) \(operation) failed: \(code) (HTTP \(status))"
        if !message.isEmpty { s += ": \(message.printableLine())" }
        if let hint { s += "; \(hint)" }
        if let requestId { s += " [request id \(requestId)]" }
        return s
    }

}

/// Failures of the AWS layer that are not a service's error answer.
public enum AWSClientError: Error, Sendable, CustomStringConvertible {
    /// No HTTP response (DNS, connect, TLS, timeout), after retries.
    case transport(service: String, operation: String, TransportError)
    /// A 2xx response that does not have the expected shape.
    case decoding(service: String, operation: String, detail: String)
    /// The retry quota is exhausted: too many failures recently to keep retrying.
    case retryQuotaExhausted(service: String, operation: String, last: AWSServiceError)

    public var description: String {
        switch self {
        case .transport(let service, let operation, let e): "\(service) \(operation) failed: \(e)"
        case .decoding(let service, let operation, let detail): "\(service) \(operation) returned an unexpected response: \(detail)"
        case .retryQuotaExhausted(_, _, let last): "\(last) (retry quota exhausted, not retried)"
        }
    }
}

/// The credential chain or a provider could not produce credentials.
public struct CredentialsError: Error, Sendable, CustomStringConvertible, Equatable {
    public var provider: String
    public var message: String
    public init(provider: String, message: String) {
        self.provider = provider
        self.message = message
    }
    public var description: String { "AWS credentials (\(provider)): \(message)" }
}

/// Configuration the AWS layer cannot work without (region, endpoint URLs).
public struct AWSConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
