import KMeshSupport

/// Region, endpoints, retry and rate settings, resolved once from the environment (and the shared
/// config file) the way the AWS SDKs resolve them.
public struct AWSConfiguration: Sendable {
    public var region: String
    /// Endpoint per service name, after overrides.
    public var endpoints: [String: String]
    public var retry: RetryConfiguration
    /// Client-side request rate per service name (requests per second); absent means unlimited.
    public var rateLimits: [String: Double]

    public init(
        region: String, endpoints: [String: String] = [:], retry: RetryConfiguration = RetryConfiguration(),
        rateLimits: [String: Double] = [AWSService.route53.name: 5]
    ) {
        self.region = region
        self.endpoints = endpoints
        self.retry = retry
        self.rateLimits = rateLimits
    }

    public func endpoint(for service: AWSService) -> String {
        endpoints[service.name] ?? service.defaultEndpoint(region: region)
    }

    /// Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    /// Endpoints: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the profile's
    /// `endpoint_url`; none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
    /// Attempts: `AWS_MAX_ATTEMPTS`, then the profile's `max_attempts` (default 3).
    public static func resolve(environment: Environment, files: SharedConfigFiles? = nil) throws -> AWSConfiguration {
        let files = files ?? SharedConfigFiles.load(environment: environment)
        guard let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? files.config[files.profile]?["region"] else {
            throw AWSConfigurationError("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the AWS profile)")
        }
        guard region.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }), !region.isEmpty else {
            throw AWSConfigurationError("AWS region \"\(region)\" is not a region name (expected something like eu-west-1)")
        }
        var endpoints: [String: String] = [:]
        if environment.bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != true {
            let global = environment["AWS_ENDPOINT_URL"] ?? files.config[files.profile]?["endpoint_url"]
            for service in AWSService.all {
                let variable = "AWS_ENDPOINT_URL_\(service.environmentSuffix)"
                guard let url = environment[variable] ?? global else { continue }
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw AWSConfigurationError(
                        "\(environment[variable] != nil ? variable : "AWS_ENDPOINT_URL") is \"\(url)\": it must start with http:// or https://"
                    )
                }
                endpoints[service.name] = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
        }
        var retry = RetryConfiguration()
        if let text = environment["AWS_MAX_ATTEMPTS"] ?? files.config[files.profile]?["max_attempts"] {
            guard let n = Int(text), n >= 1 else {
                throw AWSConfigurationError("AWS_MAX_ATTEMPTS is \"\(text)\": it must be a whole number of at least 1")
            }
            retry.maxAttempts = n
        }
        return AWSConfiguration(region: region, endpoints: endpoints, retry: retry)
    }
}
