import ArgumentParser
import FoundationEssentials
import KMeshSupport
import Logging

public enum OutputFormat: String, Sendable, CaseIterable { case text, json }

/// Where the Kuma API token comes from.
public enum KumaTokenSetting: Sendable, Equatable {
    case value(Secret)
    /// A Secrets Manager secret holding the JWT, or JSON with a "token" key.
    case secret(id: String)
}

/// Where the Kuma control plane is and how to trust it.
public struct KumaEndpointOptions: ParsableArguments {
    public static let url = Setting(flag: "--api-server-url", variable: "KUMA_API_SERVER_URL")
    public static let caFile = Setting(flag: "--ca-file", variable: "KUMA_API_CA_FILE")

    @Option(
        name: .customLong("api-server-url"),
        help: Self.url.help("Kuma API server URL, e.g. https://kuma-cp.internal:5682.", valueName: "url"))
    public var apiServerURL: String?

    @Option(
        help: Self.caFile.help(
            "PEM file of the control plane's CA, or the PEM itself in KUMA_API_CA_BYTES.", default: "the system's CA bundle",
            valueName: "path"))
    public var caFile: String?

    public init() {}

    static let urlExpected = "the Kuma API URL must start with http:// or https://"

    public func validate() throws {
        try Self.url.check(apiServerURL, expected: Self.urlExpected) { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : nil }
    }

    /// The URL and CA; the token is left to the caller.
    public func resolve(_ env: Environment) throws -> KumaConnection {
        guard let (url, fromFlag) = Self.url.text(apiServerURL, env) else {
            throw ConfigurationError(
                "the Kuma API URL is missing: pass --api-server-url or set KUMA_API_SERVER_URL (e.g. https://kuma-cp.internal:5682)")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw Self.url.invalid(url, fromFlag: fromFlag, expected: Self.urlExpected)
        }
        var caPEM: Data?
        if let (path, _) = Self.caFile.text(caFile, env) {
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
        return KumaConnection(url: url, token: nil, caPEM: caPEM)
    }
}

/// The Kuma control plane: where it is, how to trust it, and the API token.
public struct KumaConnectionOptions: ParsableArguments {
    public static let tokenSecret = Setting(flag: "--api-token-secret-id", variable: "KUMA_API_TOKEN_SECRET_ID")

    @OptionGroup public var endpoint: KumaEndpointOptions

    @Option(
        help: Self.tokenSecret.help(
            "Secrets Manager secret holding the Kuma API token (a JWT, or JSON with a \"token\" key), read at start and again after a 401; else the token itself in KUMA_API_TOKEN.",
            valueName: "id"))
    public var apiTokenSecretId: String?

    public init() {}

    /// Resolves the connection: the endpoint, then the token (a secret id wins over the value).
    public func resolve(_ env: Environment) throws -> KumaConnection {
        var connection = try endpoint.resolve(env)
        if let id = apiTokenSecretId ?? env["KUMA_API_TOKEN_SECRET_ID"] {
            connection.token = .secret(id: id)
        } else if let value = env["KUMA_API_TOKEN"] {
            connection.token = .value(Secret(value.trimmingASCIIWhitespace()))
        } else {
            throw ConfigurationError(
                "no Kuma API token: set KUMA_API_TOKEN, or name the secret holding it with --api-token-secret-id / KUMA_API_TOKEN_SECRET_ID"
            )
        }
        return connection
    }
}

/// The Kuma connection as resolved.
public struct KumaConnection: Sendable, Equatable {
    public var url: String
    /// Nil only for a tool that resolves its token itself.
    public var token: KumaTokenSetting?
    public var caPEM: Data?
    public init(url: String, token: KumaTokenSetting?, caPEM: Data? = nil) {
        self.url = url
        self.token = token
        self.caPEM = caPEM
    }
}

/// How a pass runs and reports: dry run, report format, logs.
public struct PassOptions: ParsableArguments {
    public static let dryRunSetting = Setting(flag: "--dry-run", variable: "KMESH_DRY_RUN")
    public static let outputSetting = Setting(flag: "--output", variable: "KMESH_OUTPUT")
    public static let levelSetting = Setting(flag: "--log-level", variable: "LOG_LEVEL")
    public static let formatSetting = Setting(flag: "--log-format", variable: "KMESH_LOG_FORMAT")
    public static let connectTimeoutSetting = Setting(flag: "--connect-timeout", variable: "KMESH_CONNECT_TIMEOUT")
    public static let requestTimeoutSetting = Setting(flag: "--request-timeout", variable: "KMESH_REQUEST_TIMEOUT")
    public static let maxDurationSetting = Setting(flag: "--max-duration", variable: "KMESH_MAX_DURATION")

    @Flag(
        help: Self.dryRunSetting.help(
            "Read everything and plan, write nothing; the report says what would change.", variableNote: "=true", default: "off"))
    public var dryRun = false

    @Option(
        help: Self.outputSetting.help("Report format on stdout: text or json.", default: "text", valueName: "format"))
    public var output: String?

    @Option(
        help: Self.levelSetting.help("trace, debug, info, notice, warning, error or critical.", default: "info", valueName: "level"))
    public var logLevel: String?

    @Option(
        help: Self.formatSetting.help("Logs on stderr: json (one object a line) or text.", default: "json", valueName: "format"))
    public var logFormat: String?

    @Option(
        help: Self.connectTimeoutSetting.help(
            "Time to open a connection to AWS or the control plane, 1s to 1h.", default: "\(HTTPTimeouts.standard.connect)",
            valueName: "duration"))
    public var connectTimeout: String?

    @Option(
        help: Self.requestTimeoutSetting.help(
            "Time for one HTTP request, connection included (each retry has its own), 1s to 1h.",
            default: "\(HTTPTimeouts.standard.request)", valueName: "duration"))
    public var requestTimeout: String?

    @Option(
        help: Self.maxDurationSetting.help(
            "Longest the pass may run, at least 5s: no new work starts 3s before the end, what is still in flight is cancelled 1s before, and the report says what was not reached (exit 1). A Lambda function has its invocation's deadline instead.",
            default: "no limit", valueName: "duration"))
    public var maxDuration: String?

    public init() {}

    static let outputExpected = "the report format is not text or json"
    static func parseOutput(_ text: String) -> OutputFormat? { OutputFormat(rawValue: text.lowercased()) }
    static let levelExpected = "the log level is not one of trace, debug, info, notice, warning, error, critical"
    static func parseLevel(_ text: String) -> Logger.Level? {
        let l = text.lowercased()
        return Logger.Level(rawValue: l == "warn" ? "warning" : l)
    }
    static let formatExpected = "the log format is not json or text"
    static func parseFormat(_ text: String) -> LogFormat? { LogFormat(rawValue: text.lowercased()) }
    static let timeoutExpected = "expected a Go duration from 1s to 1h, such as 3s or 1m30s"
    static func parseTimeout(_ text: String) -> GoDuration? {
        GoDuration(text).flatMap { (1...3600).contains($0.seconds) ? $0 : nil }
    }

    static let maxDurationExpected = "expected a Go duration of at least 5s, such as 5m or 90s"
    static func parseMaxDuration(_ text: String) -> GoDuration? { GoDuration(text).flatMap { $0.seconds >= 5 ? $0 : nil } }

    public func validate() throws {
        try Self.maxDurationSetting.check(maxDuration, expected: Self.maxDurationExpected, Self.parseMaxDuration)
        try Self.outputSetting.check(output, expected: Self.outputExpected, Self.parseOutput)
        try Self.levelSetting.check(logLevel, expected: Self.levelExpected, Self.parseLevel)
        try Self.formatSetting.check(logFormat, expected: Self.formatExpected, Self.parseFormat)
        try Self.connectTimeoutSetting.check(connectTimeout, expected: Self.timeoutExpected, Self.parseTimeout)
        try Self.requestTimeoutSetting.check(requestTimeout, expected: Self.timeoutExpected, Self.parseTimeout)
    }

    public func resolve(_ env: Environment) throws -> PassSettings {
        let dryRun = try Self.dryRunSetting.bool(dryRun, env)
        let output = try Self.outputSetting.value(output, env, expected: Self.outputExpected, Self.parseOutput) ?? .text
        let level = try Self.levelSetting.value(logLevel, env, expected: Self.levelExpected, Self.parseLevel) ?? .info
        let format = try Self.formatSetting.value(logFormat, env, expected: Self.formatExpected, Self.parseFormat) ?? .json
        let standard = HTTPTimeouts.standard
        let connect =
            try Self.connectTimeoutSetting.value(connectTimeout, env, expected: Self.timeoutExpected, Self.parseTimeout)
            ?? standard.connect
        let request =
            try Self.requestTimeoutSetting.value(requestTimeout, env, expected: Self.timeoutExpected, Self.parseTimeout)
            ?? standard.request
        let maxDuration = try Self.maxDurationSetting.value(
            maxDuration, env, expected: Self.maxDurationExpected, Self.parseMaxDuration)
        return PassSettings(
            dryRun: dryRun, output: output, logLevel: level, logFormat: format,
            timeouts: HTTPTimeouts(connect: connect, request: request), maxDuration: maxDuration)
    }
}

/// How long one HTTP call may take. The defaults suit Lambda: a dead endpoint costs seconds, not
/// the invocation, and a slow call is retried (with its own timeout) well inside a deadline.
public struct HTTPTimeouts: Sendable, Equatable {
    public var connect: GoDuration
    public var request: GoDuration
    public init(connect: GoDuration, request: GoDuration) {
        self.connect = connect
        self.request = request
    }
    public static let standard = HTTPTimeouts(connect: GoDuration(seconds: 3), request: GoDuration(seconds: 10))
}

/// How a pass runs and reports, as resolved.
public struct PassSettings: Sendable, Equatable {
    public var dryRun: Bool
    public var output: OutputFormat
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var timeouts: HTTPTimeouts
    /// The command line's limit on the pass (nil: none).
    public var maxDuration: GoDuration?
    public init(
        dryRun: Bool = false, output: OutputFormat = .text, logLevel: Logger.Level = .info, logFormat: LogFormat = .json,
        timeouts: HTTPTimeouts = .standard, maxDuration: GoDuration? = nil
    ) {
        self.maxDuration = maxDuration
        self.dryRun = dryRun
        self.output = output
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.timeouts = timeouts
    }
}

/// Requests in flight at once, for reconcilers that fan out.
public struct ConcurrencyOptions: ParsableArguments {
    public static let setting = Setting(flag: "--concurrency", variable: "KMESH_CONCURRENCY")
    public static let range = 1...256

    @Option(
        help: Self.setting.help("Requests in flight at once, 1 to 256.", default: "16", valueName: "n"))
    public var concurrency: String?

    public init() {}

    static let expected = "the concurrency must be a whole number between 1 and 256"
    static func parse(_ text: String) -> Int? { Int(text).flatMap { range.contains($0) ? $0 : nil } }

    public func validate() throws { try Self.setting.check(concurrency, expected: Self.expected, Self.parse) }

    public func resolve(_ env: Environment, default value: Int = 16) throws -> Int {
        try Self.setting.value(concurrency, env, expected: Self.expected, Self.parse) ?? value
    }
}
