import AWS
import FoundationEssentials
import KMeshSupport
import Logging
import Reconcilers

/// A setting that is missing or malformed: exit 78 (EX_CONFIG) with one line.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum OutputFormat: String, Sendable, CaseIterable { case text, json }

/// Where the Kuma API token comes from.
public enum KumaTokenSetting: Sendable, Equatable {
    case value(Secret)
    /// A Secrets Manager secret holding the JWT, or JSON with a "token" key.
    case secret(id: String)
}

/// Everything `reconcile-tokens` needs, resolved once from flags, then environment, then defaults.
public struct TokensConfiguration: Sendable {
    public var apiServerURL: String
    public var token: KumaTokenSetting
    public var caPEM: Data?
    public var reconciler: TokenReconciler.Options
    /// Single-task mode.
    public var task: (cluster: String, arn: String)?
    public var output: OutputFormat
    public var logLevel: Logger.Level
    public var logFormat: LogFormat

    /// Flag values as parsed (nil or empty when not given).
    public struct Flags: Sendable {
        public var apiServerURL: String?
        public var apiTokenSecretId: String?
        public var caFile: String?
        public var secretNamePrefix: String?
        public var clusters: [String] = []
        public var task: String?
        public var defaultMesh: String?
        public var tokenValidFor: String?
        public var renewBefore: String?
        public var concurrency: Int?
        public var dryRun = false
        public var output: String?
        public var logLevel: String?
        public var logFormat: String?
        public init() {}
    }

    public static func resolve(_ flags: Flags, environment env: Environment) throws -> TokensConfiguration {
        guard let url = flags.apiServerURL ?? env["KUMA_API_SERVER_URL"] else {
            throw ConfigurationError(
                "the Kuma API URL is missing: pass --api-server-url or set KUMA_API_SERVER_URL (e.g. https://kuma-cp.internal:5682)")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ConfigurationError("the Kuma API URL \"\(url)\" must start with http:// or https://")
        }
        let token: KumaTokenSetting
        if let id = flags.apiTokenSecretId ?? env["KUMA_API_TOKEN_SECRET_ID"] {
            token = .secret(id: id)
        } else if let value = env["KUMA_API_TOKEN"] {
            token = .value(Secret(value.trimmingASCIIWhitespace()))
        } else {
            throw ConfigurationError(
                "no Kuma API token: set KUMA_API_TOKEN, or name the secret holding it with --api-token-secret-id / KUMA_API_TOKEN_SECRET_ID"
            )
        }

        var caPEM: Data?
        if let path = flags.caFile ?? env["KUMA_API_CA_FILE"] {
            guard let data = FileReader.read(path) else {
                throw ConfigurationError("cannot read the CA file \(path) (--ca-file / KUMA_API_CA_FILE)")
            }
            caPEM = data
        } else if let bytes = env["KUMA_API_CA_BYTES"] {
            caPEM = Data(bytes.utf8)
        }
        if let pem = caPEM, !String(decoding: pem, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") {
            throw ConfigurationError("the Kuma API CA (--ca-file / KUMA_API_CA_FILE / KUMA_API_CA_BYTES) is not a PEM certificate")
        }

        var options = TokenReconciler.Options()
        options.secretNamePrefix = flags.secretNamePrefix ?? env["KMESH_SECRET_NAME_PREFIX"] ?? options.secretNamePrefix
        options.clusters =
            !flags.clusters.isEmpty
            ? flags.clusters
            : (env["KMESH_CLUSTERS"]?.split(separator: ",").map { String($0).trimmingASCIIWhitespace() }.filter { !$0.isEmpty } ?? [])
        options.defaultMesh = flags.defaultMesh ?? env["KMESH_DEFAULT_MESH"] ?? options.defaultMesh
        options.tokenValidFor =
            try duration(flags.tokenValidFor, env, "KMESH_TOKEN_VALID_FOR", "--token-valid-for") ?? options.tokenValidFor
        options.renewBefore = try duration(flags.renewBefore, env, "KMESH_RENEW_BEFORE", "--renew-before") ?? options.renewBefore
        if options.tokenValidFor.seconds <= 0 { throw ConfigurationError("--token-valid-for must be more than zero") }
        if options.renewBefore >= options.tokenValidFor {
            throw ConfigurationError(
                "--renew-before (\(options.renewBefore)) must be shorter than --token-valid-for (\(options.tokenValidFor)), or every pass would replace every token"
            )
        }
        if let n = flags.concurrency {
            options.concurrency = n
        } else if let text = env["KMESH_CONCURRENCY"] {
            guard let n = Int(text) else { throw ConfigurationError("KMESH_CONCURRENCY is \"\(text)\": it must be a whole number") }
            options.concurrency = n
        }
        guard (1...256).contains(options.concurrency) else {
            throw ConfigurationError("the concurrency must be between 1 and 256 (got \(options.concurrency))")
        }
        options.dryRun = flags.dryRun || env.bool("KMESH_DRY_RUN") == true
        guard !options.secretNamePrefix.contains("..") else {
            throw ConfigurationError("the secret name prefix must not contain \"..\"")
        }

        var task: (String, String)?
        if let arn = flags.task {
            guard options.clusters.count == 1 else {
                throw ConfigurationError("--task needs exactly one --cluster (the task's cluster)")
            }
            task = (options.clusters[0], arn)
        }

        let outputText = flags.output ?? env["KMESH_OUTPUT"] ?? "text"
        guard let output = OutputFormat(rawValue: outputText) else {
            throw ConfigurationError("the output format \"\(outputText)\" is not text or json (--output / KMESH_OUTPUT)")
        }
        let levelText = (flags.logLevel ?? env["LOG_LEVEL"] ?? "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText == "warn" ? "warning" : levelText) else {
            throw ConfigurationError("the log level \"\(levelText)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        let formatText = flags.logFormat ?? env["KMESH_LOG_FORMAT"] ?? "json"
        guard let format = LogFormat(rawValue: formatText) else {
            throw ConfigurationError("the log format \"\(formatText)\" is not json or text (--log-format / KMESH_LOG_FORMAT)")
        }
        return TokensConfiguration(
            apiServerURL: url, token: token, caPEM: caPEM, reconciler: options, task: task,
            output: output, logLevel: level, logFormat: format)
    }

    static func duration(_ flag: String?, _ env: Environment, _ variable: String, _ flagName: String) throws -> GoDuration? {
        guard let text = flag ?? env[variable] else { return nil }
        guard let d = GoDuration(text) else {
            throw ConfigurationError(
                "\(flag != nil ? flagName : variable) is \"\(text)\": expected a Go duration such as 8760h, 720h or 90m (there is no d unit)"
            )
        }
        return d
    }
}
