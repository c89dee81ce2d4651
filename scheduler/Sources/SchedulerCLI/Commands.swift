import ArgumentParser
import Cron
import FoundationEssentials
import KMeshSupport
import Logging
import Scheduler

#if canImport(Glibc)
    import Glibc
#endif

/// `kmesh-scheduler`: runs the reconcilers (or any command) on cron schedules, on hosts and in
/// containers without Lambda.
public struct KMeshScheduler: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kmesh-scheduler",
        abstract: "Run commands on cron schedules: no overlap, jitter, timeouts, health, metrics, DST without surprises.",
        discussion: """
            Every option can also come from the environment variable named in its help (flags win).
            Durations are Go durations (90s, 5m, 1h30m). EXIT CODES: 0 clean stop; 1 a job had to be killed at \
            shutdown; 64 usage error or a bad crontab at start; 78 configuration error (unreadable file, bad --listen).
            """,
        subcommands: [RunCommand.self, CheckCommand.self, NextCommand.self, HealthcheckCommand.self],
        defaultSubcommand: RunCommand.self)

    public init() {}

    /// The process entry: `arguments` without the program name (nil: the command line's).
    public static func runMain(arguments: [String]? = nil) async {
        SchedulerSignals.ignoreBrokenPipes()
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}

/// Exit codes, as the reconcilers use them.
enum Exit {
    static let usage: Int32 = 64
    static let configuration: Int32 = 78
}

/// A variable of the process's environment (unset and empty are alike).
func env(_ name: String) -> String? { Environment.processSnapshot[name] }

func fail(_ code: Int32, _ message: String) -> ExitCode {
    LogSink.standardError.write(line: "kmesh-scheduler: \(message)")
    return ExitCode(code)
}

/// The crontab's text: the file named, else KMESH_SCHEDULER_CRONTAB's text.
func crontabSource(_ path: String?) throws -> (path: String?, text: String) {
    if let path = path ?? env("KMESH_SCHEDULER_CRONTAB_FILE") {
        guard let data = FileReader.read(path) else { throw fail(Exit.configuration, "cannot read the crontab \(path)") }
        return (path, String(decoding: data, as: UTF8.self))
    }
    if let text = env("KMESH_SCHEDULER_CRONTAB") { return (nil, text) }
    throw fail(Exit.usage, "no crontab: name the file (kmesh-scheduler run CRONTAB), or put its text in KMESH_SCHEDULER_CRONTAB")
}

func defaultZone() -> Zone {
    Zone.local(Environment.processSnapshot.values)
}

func zoneDirectory() -> String { Zone.directory(Environment.processSnapshot.values) }

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the crontab until SIGTERM or SIGINT (SIGHUP reloads it).")

    @Argument(help: ArgumentHelp("The crontab file (or its text in KMESH_SCHEDULER_CRONTAB).", valueName: "crontab"))
    var crontab: String?

    @Option(
        help: ArgumentHelp(
            "JSON status rewritten atomically after every start and end (env KMESH_SCHEDULER_STATUS_FILE).", valueName: "path"))
    var statusFile: String?

    @Option(
        help: ArgumentHelp(
            "Serve GET /healthz and /metrics on HOST:PORT (env KMESH_SCHEDULER_LISTEN; e.g. 127.0.0.1:9090).", valueName: "host:port"))
    var listen: String?

    @Option(
        help: ArgumentHelp(
            "How long running jobs get after TERM at shutdown (env KMESH_SCHEDULER_SHUTDOWN_GRACE; default 30s).", valueName: "duration"))
    var shutdownGrace: String?

    @Option(
        help: ArgumentHelp(
            "A job with a regular interval is late after this many intervals without a success (env KMESH_SCHEDULER_UNHEALTHY_AFTER; default 2.0).",
            valueName: "factor"))
    var unhealthyAfter: String?

    @Flag(help: "Copy the jobs' output raw instead of as JSON log lines (env KMESH_SCHEDULER_PASSTHROUGH_LOGS=true).")
    var passthroughLogs = false

    @Option(help: ArgumentHelp("Logs on stderr: json or text (env KMESH_SCHEDULER_LOG_FORMAT; default json).", valueName: "format"))
    var logFormat: String?

    @Option(
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error or critical (env KMESH_SCHEDULER_LOG_LEVEL; default info).", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let g = shutdownGrace, GoDuration(g) == nil {
            throw ValidationError("--shutdown-grace is \"\(g)\": expected a Go duration such as 30s")
        }
        if let u = unhealthyAfter, (Double(u) ?? 0) <= 0 {
            throw ValidationError("--unhealthy-after is \"\(u)\": expected a number above 0")
        }
        if let f = logFormat, LogFormat(rawValue: f) == nil { throw ValidationError("--log-format is \"\(f)\": expected json or text") }
        if let l = logLevel, Logger.Level(rawValue: l) == nil {
            throw ValidationError("--log-level is \"\(l)\": expected trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        var options = SchedulerOptions()
        let source = try crontabSource(crontab)
        options.crontabPath = source.path
        options.crontabText = source.text
        options.statusFile = statusFile ?? env("KMESH_SCHEDULER_STATUS_FILE")
        guard let grace = GoDuration(shutdownGrace ?? env("KMESH_SCHEDULER_SHUTDOWN_GRACE") ?? "30s") else {
            throw fail(
                Exit.configuration,
                "KMESH_SCHEDULER_SHUTDOWN_GRACE is \"\(env("KMESH_SCHEDULER_SHUTDOWN_GRACE") ?? "")\": expected a Go duration such as 30s")
        }
        options.shutdownGrace = grace.seconds
        guard let factor = Double(unhealthyAfter ?? env("KMESH_SCHEDULER_UNHEALTHY_AFTER") ?? "2.0"), factor > 0 else {
            throw fail(Exit.configuration, "KMESH_SCHEDULER_UNHEALTHY_AFTER must be a number above 0")
        }
        options.unhealthyAfter = factor
        options.passthroughLogs = passthroughLogs || Environment.processSnapshot.bool("KMESH_SCHEDULER_PASSTHROUGH_LOGS") == true
        let formatText = logFormat ?? env("KMESH_SCHEDULER_LOG_FORMAT") ?? "json"
        let levelText = logLevel ?? env("KMESH_SCHEDULER_LOG_LEVEL") ?? "info"
        guard let format = LogFormat(rawValue: formatText), let level = Logger.Level(rawValue: levelText) else {
            throw fail(
                Exit.configuration,
                "KMESH_SCHEDULER_LOG_FORMAT / KMESH_SCHEDULER_LOG_LEVEL: \"\(formatText)\" / \"\(levelText)\" are not a log format and level"
            )
        }
        options.environment = Environment.processSnapshot.values
        options.defaultZone = defaultZone()
        options.zoneDirectory = zoneDirectory()
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        options.hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        let tab: Crontab
        switch Crontab.parse(source.text, defaultZone: options.defaultZone, zoneDirectory: options.zoneDirectory) {
        case .success(let t): tab = t
        case .failure(let errors):
            for e in errors.errors { LogSink.standardError.write(line: "\(e)") }
            LogSink.standardError.write(
                line:
                    "kmesh-scheduler: \(source.path ?? "KMESH_SCHEDULER_CRONTAB") has \(errors.errors.count) bad line\(errors.errors.count == 1 ? "" : "s"): nothing started"
            )
            throw ExitCode(Exit.usage)
        }
        if let address = listen ?? env("KMESH_SCHEDULER_LISTEN") {
            do { options.listener = try HealthServer.bind(address) } catch { throw fail(Exit.configuration, "--listen: \(error)") }
        }
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, level: level) }
        var logger = Logger(label: "kmesh-scheduler")
        logger.logLevel = level
        if let port = options.listener?.port { logger.info("serving /healthz and /metrics", metadata: ["port": "\(port)"]) }
        let scheduler = Scheduler(crontab: tab, options: options, logger: logger)
        let code = await scheduler.run()
        if code != 0 { throw ExitCode(code) }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a crontab: every bad line as LINE:COL: why (exit 64), else a summary of the jobs.")

    @Argument(help: ArgumentHelp("The crontab file (or its text in KMESH_SCHEDULER_CRONTAB).", valueName: "crontab"))
    var crontab: String?

    func run() throws {
        let source = try crontabSource(crontab)
        switch Crontab.parse(source.text, defaultZone: defaultZone(), zoneDirectory: zoneDirectory()) {
        case .failure(let errors):
            for e in errors.errors { LogSink.standardError.write(line: "\(e)") }
            LogSink.standardError.write(
                line: "\(source.path ?? "KMESH_SCHEDULER_CRONTAB"): \(errors.errors.count) bad line\(errors.errors.count == 1 ? "" : "s")")
            throw ExitCode(Exit.usage)
        case .success(let tab):
            let out = LogSink(fileDescriptor: 1)
            let now = Int64(Date().timeIntervalSince1970)
            for job in tab.jobs {
                let next =
                    job.schedule.next(after: now, zone: job.zone, anchor: now).map { RFC3339.format($0, zone: job.zone) }
                    ?? (job.schedule == .reboot ? "at start" : "never")
                out.write(
                    line:
                        "\(job.name)  line \(job.line)  \(job.scheduleText)  [\(job.zone.name)]  next \(next)  \(job.command.joined(separator: " "))"
                )
            }
            out.write(line: "ok: \(tab.jobs.count) job\(tab.jobs.count == 1 ? "" : "s")")
        }
    }
}

struct NextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next", abstract: "Print the next run times of a schedule (RFC 3339 with offset, one a line).")

    @Argument(
        help: ArgumentHelp(
            "A schedule: \"*/5 * * * *\", \"@every 90s\", \"rate(5 minutes)\", \"cron(0 12 ? * MON-FRI *)\" (quote it).",
            valueName: "schedule"))
    var schedule: [String]

    @Option(help: ArgumentHelp("Times strictly after this (RFC 3339; default now); @every and rate() count from it.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("How many (default 5).", valueName: "n"))
    var count = 5

    @Option(help: ArgumentHelp("Time zone (default TZ, else the host's, else UTC).", valueName: "zone"))
    var tz: String?

    func run() throws {
        let text = schedule.joined(separator: " ")
        let parsed: Schedule
        switch ScheduleParser.parse(text) {
        case .success(let s): parsed = s
        case .failure(let p): throw fail(Exit.usage, "\(p.column): \(p.message)")
        }
        guard count >= 1 else { throw fail(Exit.usage, "--count must be at least 1") }
        let zone: Zone
        if let tz {
            switch Zone.named(tz, directory: zoneDirectory()) {
            case .success(let z): zone = z
            case .failure(let e): throw fail(Exit.usage, "--tz: \(e)")
            }
        } else {
            zone = defaultZone()
        }
        var t: Int64
        if let from {
            guard let f = RFC3339.parse(from) else {
                throw fail(Exit.usage, "--from \"\(from)\" is not an RFC 3339 time (2026-03-08T01:30:00-05:00)")
            }
            t = f
        } else {
            t = Int64(Date().timeIntervalSince1970)
        }
        let anchor = t
        guard parsed != .reboot else { throw fail(Exit.usage, "@reboot has no planned times: it runs once when the scheduler starts") }
        let out = LogSink(fileDescriptor: 1)
        for _ in 0..<count {
            guard let n = parsed.next(after: t, zone: zone, anchor: anchor) else {
                LogSink.standardError.write(line: "kmesh-scheduler: the schedule does not match again (within 30 years)")
                break
            }
            out.write(line: RFC3339.format(n, zone: zone))
            t = n
        }
    }
}
