import AWS
import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Kuma
import LambdaRuntime
import Logging
import ReconcileCore
import Reconcilers
import Synchronization

/// Wires configuration to live clients and runs one pass. Shared by the command line and, later,
/// the Lambda handler.
public enum TokensRunner {
    public static let exitConfiguration: Int32 = 78

    private static let loggingBootstrapped = Mutex(false)

    public static func bootstrapLogging(level: Logger.Level, format: LogFormat) {
        let first = loggingBootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = LineLogHandler(label: label, format: format, level: level)
                handler.metadataProvider = provider
                return handler
            }, metadataProvider: LambdaContext.metadataProvider)
    }

    /// The Runtime API is plain HTTP on a link-local address: no TLS, no proxy.
    public static func runtimeHTTP() -> CurlHTTPClient {
        var c = CurlHTTPClient.Configuration(tls: TLSConfiguration(caBundlePath: nil))
        c.connectTimeout = .seconds(2)
        return CurlHTTPClient(configuration: c)
    }

    /// Everything a pass needs, built once (and kept warm across Lambda invocations).
    public struct Wiring: Sendable {
        public let configuration: TokensConfiguration
        public let reconciler: TokenReconciler
        public let logger: Logger
    }

    public static func wire(_ configuration: TokensConfiguration, environment: Environment) async throws -> Wiring {
        var logger = Logger(label: "reconcile-tokens")
        logger.logLevel = configuration.logLevel
        let awsHTTP = CurlHTTPClient(configuration: .init(tls: TLSConfiguration.system(environment: environment)))
        let awsConfig: AWSConfiguration
        do {
            awsConfig = try AWSConfiguration.resolve(environment: environment)
        } catch let e as AWSConfigurationError {
            throw ConfigurationError(e.message)
        }
        // Web identity's AssumeRoleWithWebIdentity is unsigned: its client needs no credentials,
        // so it can exist before the chain that may use it.
        let sts = STSClient(
            client: AWSClient(
                configuration: awsConfig, http: awsHTTP,
                credentials: StaticCredentialProvider(
                    AWSCredentials(accessKeyId: "", secretAccessKey: Secret(""), source: "unsigned")), logger: logger))
        let credentials: any CredentialProvider
        do {
            credentials = try CredentialChain.resolve(environment: environment, http: awsHTTP, sts: { sts }, logger: logger)
        } catch let e as CredentialsError {
            throw ConfigurationError("\(e)")
        }
        let aws = AWSClient(configuration: awsConfig, http: awsHTTP, credentials: credentials, logger: logger)
        let secrets = LiveSecretsManager(client: aws)

        let tokens: any KumaTokenSource
        switch configuration.token {
        case .value(let token): tokens = StaticKumaToken(token)
        case .secret(let id):
            let source = SecretsManagerKumaToken(secrets: secrets, secretId: id)
            _ = try await source.token()  // at the start of the run: a missing token is configuration
            tokens = source
        }
        let kumaHTTP = CurlHTTPClient(
            configuration: .init(tls: TLSConfiguration.system(environment: environment, extraCAPEM: configuration.caPEM)))
        let kuma: LiveKuma
        do {
            kuma = try LiveKuma(configuration: .init(baseURL: configuration.apiServerURL), http: kumaHTTP, tokens: tokens, logger: logger)
        } catch {
            throw ConfigurationError("\(error)")
        }
        let reconciler = TokenReconciler(
            ecs: LiveECS(client: aws), secrets: secrets, kuma: kuma,
            options: configuration.reconciler, logger: logger)
        return Wiring(configuration: configuration, reconciler: reconciler, logger: logger)
    }

    /// Resolves, wires, runs one pass, prints the report; returns the exit code.
    public static func run(flags: TokensConfiguration.Flags, environment: Environment) async -> Int32 {
        let configuration: TokensConfiguration
        do {
            configuration = try TokensConfiguration.resolve(flags, environment: environment)
        } catch {
            LogSink.standardError.write(line: "reconcile-tokens: configuration error: \(error)")
            return exitConfiguration
        }
        bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
        let wiring: Wiring
        do {
            wiring = try await wire(configuration, environment: environment)
        } catch {
            LogSink.standardError.write(line: "reconcile-tokens: configuration error: \(error)")
            return exitConfiguration
        }
        let scope: TokenReconciler.Scope = configuration.task.map { .task(cluster: $0.cluster, taskArn: $0.arn) } ?? .all
        let report = await wiring.reconciler.run(scope)
        let stdout = LogSink(fileDescriptor: 1)
        switch configuration.output {
        case .json: stdout.write(line: report.json())
        case .text: stdout.write(line: String(report.text().dropLast()))
        }
        return report.failed ? 1 : 0
    }
}
