import AWS
import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Kuma
import Logging

/// What a reconciler's wiring is given: the environment snapshot, the tool's logger and the HTTP
/// timeouts every client uses.
public struct WiringContext: Sendable {
    public let environment: Environment
    public let logger: Logger
    public let timeouts: HTTPTimeouts
    public init(environment: Environment, logger: Logger, timeouts: HTTPTimeouts = .standard) {
        self.environment = environment
        self.logger = logger
        self.timeouts = timeouts
    }

    /// An HTTP client with these timeouts and `tls`.
    public func http(tls: TLSConfiguration) -> CurlHTTPClient {
        var c = CurlHTTPClient.Configuration(tls: tls)
        c.connectTimeout = .seconds(timeouts.connect.seconds)
        c.requestTimeout = .seconds(timeouts.request.seconds)
        return CurlHTTPClient(configuration: c)
    }
}

/// The AWS side, built once per process (kept warm across Lambda invocations): configuration the
/// SDK way, the credential chain, one signed client, and the service clients over it.
public struct AWSWiring: Sendable {
    public let configuration: AWSConfiguration
    public let client: AWSClient
    public var ecs: LiveECS { LiveECS(client: client) }
    public var secretsManager: LiveSecretsManager { LiveSecretsManager(client: client) }
    public var route53: LiveRoute53 { LiveRoute53(client: client) }

    /// Throws `ConfigurationError` naming what to set (region, credentials). `rateLimits`
    /// (requests per second by service name) replace the defaults (Route 53: 5).
    public static func make(_ context: WiringContext, rateLimits: [String: Double] = [:]) throws -> AWSWiring {
        let environment = context.environment
        let http = context.http(tls: TLSConfiguration.system(environment: environment))
        var configuration: AWSConfiguration
        do {
            configuration = try AWSConfiguration.resolve(environment: environment)
        } catch let e as AWSConfigurationError {
            throw ConfigurationError(e.message)
        }
        configuration.rateLimits.merge(rateLimits) { _, new in new }
        // Web identity's AssumeRoleWithWebIdentity is unsigned: its client needs no credentials,
        // so it can exist before the chain that may use it.
        let unsigned = StaticCredentialProvider(AWSCredentials(accessKeyId: "", secretAccessKey: Secret(""), source: "unsigned"))
        let sts = STSClient(client: AWSClient(configuration: configuration, http: http, credentials: unsigned, logger: context.logger))
        let credentials: any CredentialProvider
        do {
            credentials = try CredentialChain.resolve(environment: environment, http: http, sts: { sts }, logger: context.logger)
        } catch let e as CredentialsError {
            throw ConfigurationError("\(e)")
        }
        return AWSWiring(
            configuration: configuration,
            client: AWSClient(configuration: configuration, http: http, credentials: credentials, logger: context.logger))
    }
}

/// The Kuma side: the client with its token source.
public enum KumaWiring {
    /// The token source for a connection: the value from the environment, or the secret (read
    /// now, so that a missing token is a start-up error, and again after a 401).
    public static func tokenSource(_ setting: KumaTokenSetting?, secrets: @autoclosure () -> any SecretsManagerAPI) async throws
        -> any KumaTokenSource
    {
        switch setting {
        case .none: return StaticKumaToken(nil)
        case .value(let token): return StaticKumaToken(token)
        case .secret(let id):
            let source = SecretsManagerKumaToken(secrets: secrets(), secretId: id)
            _ = try await source.token()
            return source
        }
    }

    /// The client, verifying the server with the system bundle plus the connection's CA.
    public static func client(_ connection: KumaConnection, tokens: any KumaTokenSource, _ context: WiringContext) throws -> LiveKuma {
        try factory(connection, context)(tokens)
    }

    /// Clients that share one connection pool, each with its own token (a tool that holds several
    /// tokens: the current one, a new one under test, an admin one).
    public static func factory(_ connection: KumaConnection, _ context: WiringContext)
        -> @Sendable (any KumaTokenSource) throws -> LiveKuma
    {
        let http = context.http(tls: TLSConfiguration.system(environment: context.environment, extraCAPEM: connection.caPEM))
        let logger = context.logger
        return { tokens in
            do {
                return try LiveKuma(configuration: .init(baseURL: connection.url), http: http, tokens: tokens, logger: logger)
            } catch {
                throw ConfigurationError("\(error)")
            }
        }
    }
}
