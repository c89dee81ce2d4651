import ArgumentParser
import FoundationEssentials
import HTTPTransport
import KMeshSupport
import LambdaRuntime
import Logging
import ReconcileCore

#if canImport(Glibc)
    import Glibc
#endif

/// A resolved configuration: whatever the tool needs, plus how the pass runs and reports.
public protocol ShellConfiguration: Sendable {
    var pass: PassSettings { get }
}

/// What an executable brings to the shell: its flags (an `AsyncParsableCommand` with the shared
/// option groups), how they resolve with the environment, how to wire its reconciler, and the scope
/// of a command-line pass. Everything else (exit codes, logging, printing the report, the Lambda
/// entry) is the shell's. The same resolution serves the command line and Lambda, where no flags
/// are given and the environment alone configures the function.
public protocol ReconcilerCommand: AsyncParsableCommand {
    associatedtype Configuration: ShellConfiguration
    associatedtype Wired: EventDrivenReconciler

    /// The executable's name, for log labels and error lines.
    static var toolName: String { get }
    /// Flags, then environment variables, then defaults. Throws `UsageError` for a bad flag value,
    /// `ConfigurationError` for a bad or missing variable.
    func configuration(environment: Environment) throws -> Configuration
    /// The live reconciler. Throws `ConfigurationError` or `APITokenSecretError` (exit 78).
    static func wire(_ configuration: Configuration, _ context: WiringContext) async throws -> Wired
    /// What a command-line pass covers.
    func scope(_ configuration: Configuration) -> Wired.Scope
}

extension ReconcilerCommand {
    public func run() async throws {
        let code = await ReconcilerRunner.run(self, environment: Environment.processSnapshot)
        if code != ShellExit.converged { throw ExitCode(code) }
    }
}

/// Resolve, wire, run one pass, print the report, map the outcome to an exit code.
public enum ReconcilerRunner {
    private static let loggingBootstrapped = Locked(false)

    /// JSON or text lines on stderr at `level`; every line logged while a Lambda invocation is
    /// handled carries its request id. Only the first call takes effect (swift-log's rule).
    public static func bootstrapLogging(_ pass: PassSettings) {
        let first = loggingBootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = LineLogHandler(label: label, format: pass.logFormat, level: pass.logLevel)
                handler.metadataProvider = provider
                return handler
            }, metadataProvider: LambdaContext.metadataProvider)
    }

    /// The tool's logger at the configured level.
    public static func logger<C: ReconcilerCommand>(_: C.Type, _ pass: PassSettings) -> Logger {
        var logger = Logger(label: C.toolName)
        logger.logLevel = pass.logLevel
        return logger
    }

    /// One line on stderr: `tool: kind: message`.
    static func say(_ tool: String, _ kind: String, _ error: any Error) {
        LogSink.standardError.write(line: "\(tool): \(kind): \("\(error)".printableLine(limit: 2000))")
    }

    /// The exit code for an error raised before the pass: 64 or 78.
    static func exitCode(for error: any Error) -> (Int32, String) {
        switch error {
        case is UsageError: (ShellExit.usage, "usage error")
        default: (ShellExit.configuration, "configuration error")
        }
    }

    public static func run<C: ReconcilerCommand>(_ command: C, environment: Environment) async -> Int32 {
        let configuration: C.Configuration
        do {
            configuration = try command.configuration(environment: environment)
        } catch {
            let (code, kind) = exitCode(for: error)
            say(C.toolName, kind, error)
            if code == ShellExit.usage {
                LogSink.standardError.write(line: "Run '\(C.toolName) --help' for the flags and their variables.")
            }
            return code
        }
        bootstrapLogging(configuration.pass)
        let reconciler: C.Wired
        do {
            reconciler = try await C.wire(
                configuration,
                WiringContext(
                    environment: environment, logger: logger(C.self, configuration.pass), timeouts: configuration.pass.timeouts))
        } catch {
            say(C.toolName, "configuration error", error)
            return ShellExit.configuration
        }
        let end = configuration.pass.maxDuration.map { Date().addingTimeInterval(Double($0.seconds)) }
        let report = await DeadlinePass.run(
            reconciler, command.scope(configuration), end: end, logger: logger(C.self, configuration.pass),
            what: "the end of --max-duration")
        print(report, as: configuration.pass.output)
        return report.failed ? ShellExit.failed : ShellExit.converged
    }

    /// The report on stdout.
    public static func print(_ report: some PassReport, as format: OutputFormat) {
        let stdout = LogSink(fileDescriptor: 1)
        switch format {
        case .json: stdout.write(line: report.json())
        case .text: stdout.write(line: String(report.text().dropLast()))
        }
    }
}

/// The process entry every executable's `main.swift` calls: the Lambda loop when the custom runtime
/// set `AWS_LAMBDA_RUNTIME_API`, else the command line. Never returns.
public enum ShellMain {
    /// `arguments`: without the program name (nil: the command line's).
    ///
    /// Everything runs on the HTTP transfer thread (`CurlHTTPClient.taskExecutor`): a pass is a
    /// chain of requests with a little work between them, and running that work where the answers
    /// arrive saves two thread wake-ups a request (see docs/reliability.md, "Warm processes").
    public static func main<C: ReconcilerCommand>(_: C.Type, arguments: [String]? = nil) async -> Never {
        let environment = Environment.processSnapshot
        if environment["AWS_LAMBDA_RUNTIME_API"] != nil {
            exit(await withTaskExecutorPreference(CurlHTTPClient.taskExecutor) { await LambdaEntry.run(C.self, environment: environment) })
        }
        let command: C
        do {
            command = try C.parse(arguments)
        } catch {
            C.exit(withError: error)
        }
        exit(
            await withTaskExecutorPreference(CurlHTTPClient.taskExecutor) { await ReconcilerRunner.run(command, environment: environment) })
    }
}
