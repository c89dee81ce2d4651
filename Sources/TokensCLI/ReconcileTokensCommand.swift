import ArgumentParser
import FoundationEssentials
import KMeshSupport
import ReconcilerShell
import Reconcilers

/// `reconcile-tokens`: its flags, how they resolve, and its wiring. The shell does the rest.
public struct ReconcileTokensCommand: ReconcilerCommand {
    public static let toolName = "reconcile-tokens"
    public static let configuration = CommandConfiguration(
        commandName: toolName,
        abstract: "Make sure every meshed ECS task's secret holds a valid Kuma dataplane token.",
        discussion: """
            Finds ECS tasks tagged kuma.io/service (mesh from kuma.io/mesh, else --default-mesh) and makes \
            sure the Secrets Manager secret <prefix><service> holds, under its "token" key, a dataplane token \
            scoped to that mesh and service, valid for more than --renew-before. Other keys of the secret are \
            kept. Secrets are never created: the workload's stack creates each one with the value {}.

            Every option can also come from the environment variable named in its help (flags win). AWS \
            credentials, region and endpoints come from the usual AWS variables (AWS_REGION, \
            AWS_ENDPOINT_URL_ECS, ...), the shared config files, or the task or instance role. With \
            AWS_LAMBDA_RUNTIME_API set (the Lambda custom runtime) the same binary serves ECS Task State \
            Change and scheduled events, configured from the environment alone.

            EXIT CODES: 0 converged (with or without changes); 1 at least one service failed (the others \
            were still done); 64 usage error (unknown flag, bad flag value); 78 configuration error (missing \
            URL, token or region; unreadable CA or token secret; bad value in an environment variable).
            """)

    static let prefix = Setting(flag: "--secret-name-prefix", variable: "KMESH_SECRET_NAME_PREFIX")
    static let clusterSetting = Setting(flag: "--cluster", variable: "KMESH_CLUSTERS")
    static let mesh = Setting(flag: "--default-mesh", variable: "KMESH_DEFAULT_MESH")
    static let validFor = Setting(flag: "--token-valid-for", variable: "KMESH_TOKEN_VALID_FOR")
    static let renew = Setting(flag: "--renew-before", variable: "KMESH_RENEW_BEFORE")

    @OptionGroup(title: "Kuma control plane") var kuma: KumaConnectionOptions

    @Option(
        help: Self.prefix.help("Secret name prefix; the secret is <prefix><service>.", default: "kong-mesh-ecs/", valueName: "prefix"))
    var secretNamePrefix: String?

    @Option(
        name: .customLong("cluster"),
        help: Self.clusterSetting.help(
            "ECS cluster name or ARN; repeat for several.", variableNote: ", comma-separated", default: "every cluster",
            valueName: "name|arn"))
    var clusters: [String] = []

    @Option(help: ArgumentHelp("Single-task mode: only this task's service; needs exactly one --cluster.", valueName: "arn"))
    var task: String?

    @Option(
        help: Self.mesh.help("Mesh for tasks without a kuma.io/mesh tag.", default: "default", valueName: "mesh"))
    var defaultMesh: String?

    @Option(
        help: Self.validFor.help("Lifetime of new tokens, a Go duration.", default: "8760h", valueName: "duration"))
    var tokenValidFor: String?

    @Option(
        help: Self.renew.help("Replace tokens expiring within this.", default: "720h", valueName: "duration"))
    var renewBefore: String?

    @OptionGroup(title: "Pass") var concurrency: ConcurrencyOptions
    @OptionGroup(title: "Pass") var pass: PassOptions

    public init() {}

    public func validate() throws {
        if task != nil, clusters.count != 1 { throw ValidationError("--task needs exactly one --cluster (the task's cluster)") }
        try Self.validFor.checkDuration(tokenValidFor)
        try Self.renew.checkDuration(renewBefore)
    }

    public struct Configuration: ShellConfiguration {
        public var kuma: KumaConnection
        public var pass: PassSettings
        public var reconciler: TokenReconciler.Options
        /// Single-task mode.
        public var task: (cluster: String, arn: String)?
    }

    public func configuration(environment env: Environment) throws -> Configuration {
        let kuma = try self.kuma.resolve(env)
        let pass = try self.pass.resolve(env)
        var options = TokenReconciler.Options()
        options.secretNamePrefix = Self.prefix.text(secretNamePrefix, env)?.text ?? options.secretNamePrefix
        guard !options.secretNamePrefix.contains("..") else {
            throw ConfigurationError("the secret name prefix must not contain \"..\" (\(Self.prefix.names))")
        }
        options.clusters = Self.clusterSetting.list(clusters, env)
        options.defaultMesh = Self.mesh.text(defaultMesh, env)?.text ?? options.defaultMesh
        options.tokenValidFor = try Self.validFor.duration(tokenValidFor, env) ?? options.tokenValidFor
        options.renewBefore = try Self.renew.duration(renewBefore, env) ?? options.renewBefore
        if options.tokenValidFor.seconds <= 0 {
            throw ConfigurationError("the token lifetime (\(Self.validFor.names)) must be more than zero")
        }
        if options.renewBefore >= options.tokenValidFor {
            throw ConfigurationError(
                "--renew-before (\(options.renewBefore)) must be shorter than --token-valid-for (\(options.tokenValidFor)), or every pass would replace every token"
            )
        }
        options.concurrency = try concurrency.resolve(env)
        options.dryRun = pass.dryRun
        var single: (String, String)?
        if let arn = task {
            guard options.clusters.count == 1 else { throw UsageError("--task needs exactly one --cluster (the task's cluster)") }
            single = (options.clusters[0], arn)
        }
        return Configuration(kuma: kuma, pass: pass, reconciler: options, task: single)
    }

    public static func wire(_ configuration: Configuration, _ context: WiringContext) async throws -> TokenReconciler {
        let aws = try AWSWiring.make(context)
        let secrets = aws.secretsManager
        let tokens = try await KumaWiring.tokenSource(configuration.kuma.token, secrets: secrets)
        let kuma = try KumaWiring.client(configuration.kuma, tokens: tokens, context)
        return TokenReconciler(ecs: aws.ecs, secrets: secrets, kuma: kuma, options: configuration.reconciler, logger: context.logger)
    }

    public func scope(_ configuration: Configuration) -> TokenReconciler.Scope {
        configuration.task.map { .task(cluster: $0.cluster, taskArn: $0.arn) } ?? .all
    }
}
