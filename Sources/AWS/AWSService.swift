/// The AWS services this project speaks, with what signing and endpoint resolution need.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    public enum WireProtocol: Sendable, Hashable {
        /// awsJson 1.1: `POST /`, `X-Amz-Target: <prefix>.<Operation>`.
        case json(targetPrefix: String)
        case restXML
        /// awsQuery: form-encoded `Action=...&Version=...`, XML answers.
        case query(version: String)
    }

    /// Human name used in messages ("Secrets Manager").
    public let name: String
    public let signingName: String
    public let endpointPrefix: String
    /// Suffix of the per-service endpoint override variable: `AWS_ENDPOINT_URL_<suffix>`.
    public let environmentSuffix: String
    public let wire: WireProtocol
    /// Global services have one endpoint and sign in the partition's home region.
    public let isGlobal: Bool

    public var description: String { name }

    public static let ecs = AWSService(
        name: "ECS", signingName: "ecs", endpointPrefix: "ecs", environmentSuffix: "ECS",
        wire: .json(targetPrefix: "AmazonEC2ContainerServiceV20141113"), isGlobal: false)
    public static let secretsManager = AWSService(
        name: "Secrets Manager", signingName: "secretsmanager",
        endpointPrefix: "secretsmanager", environmentSuffix: "SECRETS_MANAGER",
        wire: .json(targetPrefix: "secretsmanager"), isGlobal: false)
    public static let route53 = AWSService(
        name: "Route 53", signingName: "route53", endpointPrefix: "route53",
        environmentSuffix: "ROUTE_53", wire: .restXML, isGlobal: true)
    public static let sts = AWSService(
        name: "STS", signingName: "sts", endpointPrefix: "sts", environmentSuffix: "STS",
        wire: .query(version: "2011-06-15"), isGlobal: false)

    public static let all: [AWSService] = [.ecs, .secretsManager, .route53, .sts]

    /// The region a request is signed for.
    public func signingRegion(for region: String) -> String {
        guard isGlobal else { return region }
        if region.hasPrefix("cn-") { return "cn-northwest-1" }
        if region.hasPrefix("us-gov-") { return "us-gov-west-1" }
        return "us-east-1"
    }

    /// The public endpoint when no override is configured.
    public func defaultEndpoint(region: String) -> String {
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        if isGlobal {
            if region.hasPrefix("us-gov-") { return "https://\(endpointPrefix).us-gov.amazonaws.com" }
            return "https://\(endpointPrefix).\(domain)"
        }
        return "https://\(endpointPrefix).\(region).\(domain)"
    }
}
