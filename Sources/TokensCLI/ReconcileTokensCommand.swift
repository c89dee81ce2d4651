import AWS
import ArgumentParser
import FoundationEssentials
import HTTPTransport
import KMeshSupport
import Kuma
import Logging
import Reconcilers

#if canImport(Glibc)
    import Glibc
#endif

/// `reconcile-tokens`: one pass, report on stdout, logs on stderr.
public struct ReconcileTokensCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reconcile-tokens",
        abstract: "Make sure every meshed ECS task's secret holds a valid Kuma dataplane token.",
        discussion: """
            Finds ECS tasks tagged kuma.io/service (mesh from kuma.io/mesh, else --default-mesh) and makes \
            sure the Secrets Manager secret <prefix><service> holds, under its "token" key, a dataplane token \
            scoped to that mesh and service, valid for more than --renew-before. Other keys of the secret are \
            kept. Secrets are never created: the workload's stack creates each one with the value {}.

            Every option can also come from the environment variable named in its help (flags win). AWS \
            credentials, region and endpoints come from the usual AWS variables (AWS_REGION, \
            AWS_ENDPOINT_URL_ECS, ...), the shared config files, or the task or instance role.

            EXIT CODES: 0 converged (with or without changes); 1 at least one service failed (the others \
            were still done); 64 usage error; 78 configuration error (missing URL, token or region; unreadable CA).
            """)

    @Option(name: .customLong("api-server-url"), help: ArgumentHelp("Kuma API server URL (env KUMA_API_SERVER_URL).", valueName: "url"))
    var apiServerURL: String?

    @Option(
        help: ArgumentHelp(
            "Secrets Manager secret holding the Kuma API token, read at the start of each run; else the token itself in KUMA_API_TOKEN (env KUMA_API_TOKEN_SECRET_ID).",
            valueName: "id"))
    var apiTokenSecretId: String?

    @Option(
        help: ArgumentHelp(
            "PEM file of the control plane's CA (env KUMA_API_CA_FILE; or the PEM itself in KUMA_API_CA_BYTES).", valueName: "path"))
    var caFile: String?

    @Option(
        help: ArgumentHelp(
            "Secret name prefix; the secret is <prefix><service> (env KMESH_SECRET_NAME_PREFIX, default kong-mesh-ecs/).",
            valueName: "prefix"))
    var secretNamePrefix: String?

    @Option(
        name: .customLong("cluster"),
        help: ArgumentHelp(
            "ECS cluster name or ARN; repeat for several (env KMESH_CLUSTERS, comma-separated; default every cluster).",
            valueName: "name|arn"))
    var clusters: [String] = []

    @Option(help: ArgumentHelp("Single-task mode: only this task's service; needs exactly one --cluster.", valueName: "arn"))
    var task: String?

    @Option(help: ArgumentHelp("Mesh for tasks without a kuma.io/mesh tag (env KMESH_DEFAULT_MESH, default default).", valueName: "mesh"))
    var defaultMesh: String?

    @Option(help: ArgumentHelp("Lifetime of new tokens, a Go duration (env KMESH_TOKEN_VALID_FOR, default 8760h).", valueName: "duration"))
    var tokenValidFor: String?

    @Option(help: ArgumentHelp("Replace tokens expiring within this (env KMESH_RENEW_BEFORE, default 720h).", valueName: "duration"))
    var renewBefore: String?

    @Option(help: ArgumentHelp("Requests in flight at once (env KMESH_CONCURRENCY, default 16).", valueName: "n"))
    var concurrency: Int?

    @Flag(help: "Read everything, write nothing, report what would be written (env KMESH_DRY_RUN=true).")
    var dryRun = false

    @Option(help: ArgumentHelp("Report format on stdout: text or json (env KMESH_OUTPUT, default text).", valueName: "format"))
    var output: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (env LOG_LEVEL, default info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Logs on stderr: json or text (env KMESH_LOG_FORMAT, default json).", valueName: "format"))
    var logFormat: String?

    public init() {}

    public func validate() throws {
        if task != nil, clusters.count != 1 { throw ValidationError("--task needs exactly one --cluster (the task's cluster)") }
        if let c = concurrency, !(1...256).contains(c) { throw ValidationError("--concurrency must be between 1 and 256") }
    }

    var flags: TokensConfiguration.Flags {
        var f = TokensConfiguration.Flags()
        f.apiServerURL = apiServerURL
        f.apiTokenSecretId = apiTokenSecretId
        f.caFile = caFile
        f.secretNamePrefix = secretNamePrefix
        f.clusters = clusters
        f.task = task
        f.defaultMesh = defaultMesh
        f.tokenValidFor = tokenValidFor
        f.renewBefore = renewBefore
        f.concurrency = concurrency
        f.dryRun = dryRun
        f.output = output
        f.logLevel = logLevel
        f.logFormat = logFormat
        return f
    }

    public func run() async throws {
        let environment = Environment.processSnapshot
        let code = await TokensRunner.run(flags: flags, environment: environment)
        if code != 0 { throw ExitCode(code) }
    }
}

/// The process entry point: parse, run asynchronously, exit with the command's code. (Calling
/// `main()` on the command from top-level code binds to ParsableCommand's synchronous overload.)
public enum ReconcileTokensMain {
    public static func main() async {
        // The same binary is the Lambda function: the runtime sets AWS_LAMBDA_RUNTIME_API.
        let environment = Environment.processSnapshot
        if environment["AWS_LAMBDA_RUNTIME_API"] != nil {
            exit(await TokensLambdaMain.run(environment: environment))
        }
        do {
            var command = try ReconcileTokensCommand.parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            ReconcileTokensCommand.exit(withError: error)
        }
    }
}
