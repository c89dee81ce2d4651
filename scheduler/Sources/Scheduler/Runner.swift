import Cron
import FoundationEssentials
import KMeshSupport
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How the scheduler runs.
public struct SchedulerOptions: Sendable {
    /// Where the crontab is read from at start and on SIGHUP (nil: `crontabText` only).
    public var crontabPath: String?
    /// The crontab itself (KMESH_SCHEDULER_CRONTAB), when there is no file.
    public var crontabText: String?
    public var statusFile: String?
    /// Already bound (see HealthServer.bind), so that a bad address is a start-up error.
    public var listener: HealthServer?
    public var shutdownGrace: Int64 = 30
    public var unhealthyAfter: Double = 2.0
    public var passthroughLogs = false
    /// The scheduler's own environment, which every job gets (plus its crontab lines).
    public var environment: [String: String] = [:]
    public var defaultZone: Zone = .utc
    public var zoneDirectory = "/usr/share/zoneinfo"
    public var hostName = "localhost"
    public init() {}
}

/// The run loop: plans every job's next run, starts runs as child processes in their own process
/// groups, applies overlap, jitter and timeouts, reaps every child (PID 1 too), reloads on SIGHUP,
/// stops on SIGTERM/SIGINT, and publishes health, metrics and the status file.
public actor Scheduler {
    enum Event: Sendable {
        case wake
        case signal(Int32)
        case exited(pid_t, Int32)
    }

    struct Run {
        let id: String
        let pid: pid_t
        let planned: Int64
        let startedMs: Int64
        var timedOut = false
    }

    struct JobState {
        var job: Job
        var next: Int64?
        var runs: [Run] = []
        var pending = false
        var counts: [String: Int] = [:]
        var lastStartMs: Int64?
        var lastEndMs: Int64?
        var lastExit: Int32?
        var lastSignal: Int32?
        var lastDuration: Double?
        var lastSuccessMs: Int64?
        var buckets = [Int](repeating: 0, count: HealthSnapshot.bucketBounds.count)
        var durationSum = 0.0
        var durationCount = 0
        var sequence = 0
        var random: SplitMix64
        var interval: Int64?
    }

    enum TimerAction {
        case start(job: String, planned: Int64)
        case timeout(run: String)
        case kill(pgid: pid_t)
        case shutdownDeadline
    }

    let options: SchedulerOptions
    let logger: Logger
    let startedMs: Int64
    var jobs: [JobState] = []
    /// Runs of jobs a reload removed: still reaped and logged.
    var retired: [Run] = []
    var timers: [(at: Int64, action: TimerAction)] = []
    var stopping = false
    var forced = false
    var sleeper: Task<Void, Never>?
    /// A start or an end happened since the last publish: health and the status file are refreshed
    /// once per turn of the loop, not once per run (20 runs due in the same second stay cheap).
    var dirty = false
    /// Runs to start at the end of this turn of the loop: (job index, planned second, reason).
    var startQueue: [(Int, Int64, String)] = []
    let stream: AsyncStream<Event>
    let continuation: AsyncStream<Event>.Continuation
    public let snapshot = SharedSnapshot()

    public init(crontab: Crontab, options: SchedulerOptions, logger: Logger) {
        self.options = options
        self.logger = logger
        let now = Self.nowMs()
        startedMs = now
        (stream, continuation) = AsyncStream<Event>.makeStream()
        snapshot.value.withLock { $0 = HealthSnapshot(startedAt: Double(now) / 1000, jobs: []) }
        jobs = crontab.jobs.map { Self.state(for: $0, host: options.hostName, now: now) }
    }

    static func state(for job: Job, host: String, now: Int64) -> JobState {
        let seconds = now / 1000
        var s = JobState(job: job, random: SplitMix64(seed: fnv1a("\(host)/\(job.name)")))
        s.next = job.schedule.next(after: seconds, zone: job.zone, anchor: seconds)
        s.interval = job.schedule.regularInterval(zone: job.zone, from: seconds)
        return s
    }

    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Runs until SIGTERM or SIGINT; 0 when every job ended within the shutdown grace, else 1.
    public func run() async -> Int32 {
        let continuation = self.continuation
        SchedulerSignals.watch { sig in
            if sig == SIGCHLD {
                // Reap every child: our jobs, and as PID 1 any orphan re-parented to us.
                while true {
                    var status: Int32 = 0
                    let pid = waitpid(-1, &status, WNOHANG)
                    if pid <= 0 { break }
                    continuation.yield(.exited(pid, status))
                }
            } else {
                continuation.yield(.signal(sig))
            }
        }
        if let server = options.listener {
            let snapshot = self.snapshot
            let factor = options.unhealthyAfter
            server.serve { path in Self.respond(path, snapshot: snapshot, factor: factor) }
        }
        logger.info("scheduler started", metadata: ["jobs": "\(jobs.count)", "pid": "\(getpid())"])
        for i in jobs.indices {
            logger.info(
                "job planned",
                metadata: [
                    "job": "\(jobs[i].job.name)", "schedule": "\(jobs[i].job.scheduleText)",
                    "next": "\(jobs[i].next.map { RFC3339.format($0, zone: jobs[i].job.zone) } ?? "-")",
                ])
            if jobs[i].job.schedule == .reboot || jobs[i].job.runOnStart {
                start(i, planned: startedMs / 1000, reason: jobs[i].job.schedule == .reboot ? "@reboot" : "run-on-start")
            }
        }
        flushStarts()
        publish()
        writeStatus()
        rearm()
        for await event in stream {
            switch event {
            case .wake: break
            case .signal(let sig): handle(signal: sig)
            case .exited(let pid, let status): exited(pid, status)
            }
            tick()
            flushStarts()
            if dirty {
                dirty = false
                publish()
                writeStatus()
            }
            if stopping, jobs.allSatisfy({ $0.runs.isEmpty }), retired.isEmpty {
                await Spawner.drainReaders(seconds: 2)
                logger.info("scheduler stopped", metadata: ["clean": "\(!forced)"])
                return forced ? 1 : 0
            }
            rearm()
        }
        return 1
    }

    // MARK: time

    /// Starts what is due; plans each job's next run after now (missed runs are not made up).
    func tick() {
        let now = Self.nowMs()
        var i = 0
        while i < timers.count {
            if timers[i].at <= now {
                let action = timers.remove(at: i).action
                fire(action, now: now)
            } else {
                i += 1
            }
        }
        guard !stopping else { return }
        let seconds = now / 1000
        for j in jobs.indices {
            guard let next = jobs[j].next, next <= seconds else { continue }
            let job = jobs[j].job
            jobs[j].next = job.schedule.next(after: seconds, zone: job.zone, anchor: startedMs / 1000)
            if job.jitter > 0 {
                let delay = Int64(jobs[j].random.next() % UInt64(job.jitter * 1000))
                timers.append((now + delay, .start(job: job.name, planned: next)))
                logger.debug("run delayed by jitter", metadata: ["job": "\(job.name)", "delay-ms": "\(delay)"])
            } else {
                due(j, planned: next)
            }
        }
    }

    func rearm() {
        sleeper?.cancel()
        let now = Self.nowMs()
        var wake = now + 30_000  // at least twice a minute, so that a wall-clock change is noticed
        for j in jobs { if let n = j.next { wake = min(wake, n * 1000) } }
        for t in timers { wake = min(wake, t.at) }
        let delay = max(0, wake - now)
        let continuation = self.continuation
        sleeper = Task {
            try? await Task.sleep(for: .milliseconds(delay))
            if !Task.isCancelled { continuation.yield(.wake) }
        }
    }

    func fire(_ action: TimerAction, now: Int64) {
        switch action {
        case .start(let name, let planned):
            if !stopping, let j = jobs.firstIndex(where: { $0.job.name == name }) { due(j, planned: planned) }
        case .timeout(let id):
            for j in jobs.indices {
                guard let r = jobs[j].runs.firstIndex(where: { $0.id == id }) else { continue }
                let run = jobs[j].runs[r]
                jobs[j].runs[r].timedOut = true
                logger.warning(
                    "job timed out: TERM to its process group",
                    metadata: [
                        "job": "\(jobs[j].job.name)", "run": "\(id)",
                        "timeout": "\(jobs[j].job.timeout ?? 0)s",
                    ])
                kill(-run.pid, SIGTERM)
                timers.append((now + jobs[j].job.grace * 1000, .kill(pgid: run.pid)))
            }
        case .kill(let pgid):
            if kill(-pgid, SIGKILL) == 0 { logger.warning("process group killed after the grace period", metadata: ["pgid": "\(pgid)"]) }
        case .shutdownDeadline:
            for j in jobs where !j.runs.isEmpty {
                for run in j.runs {
                    logger.warning(
                        "job still running at the end of the shutdown grace: KILL", metadata: ["job": "\(j.job.name)", "run": "\(run.id)"])
                    kill(-run.pid, SIGKILL)
                }
                forced = true
            }
            for run in retired { kill(-run.pid, SIGKILL) }
        }
    }

    // MARK: runs

    /// A planned run is due: start it, or skip or queue it when the job still runs.
    func due(_ j: Int, planned: Int64) {
        let job = jobs[j].job
        if !jobs[j].runs.isEmpty {
            switch job.overlap {
            case .skip:
                jobs[j].counts["skipped", default: 0] += 1
                logger.warning(
                    "run skipped: the previous run is still going (overlap=skip)",
                    metadata: ["job": "\(job.name)", "planned": "\(RFC3339.format(planned, zone: job.zone))"])
                return
            case .queue:
                if jobs[j].pending {
                    jobs[j].counts["skipped", default: 0] += 1
                    logger.warning("run skipped: one run is already queued (overlap=queue)", metadata: ["job": "\(job.name)"])
                } else {
                    jobs[j].pending = true
                    logger.info("run queued until the previous run ends (overlap=queue)", metadata: ["job": "\(job.name)"])
                }
                return
            case .allow: break
            }
        }
        start(j, planned: planned, reason: "schedule")
    }

    /// Queues a start; `flushStarts` spawns everything queued in one turn of the loop at once.
    func start(_ j: Int, planned: Int64, reason: String) {
        startQueue.append((j, planned, reason))
    }

    /// Spawns the queued runs side by side (a spawn waits for its child's exec: twenty one after
    /// another would make the last one late), then records and logs each.
    func flushStarts() {
        guard !startQueue.isEmpty else { return }
        let queued = startQueue
        startQueue.removeAll()
        var requests: [(argv: [String], environment: [String: String])] = []
        var ids: [String] = []
        for (j, _, _) in queued {
            let job = jobs[j].job
            jobs[j].sequence += 1
            ids.append("\(job.name)-\(jobs[j].sequence)")
            var environment = options.environment
            for (k, v) in job.environment { environment[k] = v }
            requests.append((job.command, environment))
        }
        let results = Spawner.spawnAll(requests)
        let now = Self.nowMs()
        for (n, (j, planned, reason)) in queued.enumerated() {
            let job = jobs[j].job
            let id = ids[n]
            switch results[n] {
            case .failure(let error):
                logger.error("job did not start", metadata: ["job": "\(job.name)", "run": "\(id)", "error": "\(error)"])
                jobs[j].counts["failure", default: 0] += 1
                jobs[j].lastEndMs = now
                jobs[j].lastExit = 127
            case .success(let process):
                jobs[j].runs.append(Run(id: id, pid: process.pid, planned: planned, startedMs: process.startedMs))
                jobs[j].lastStartMs = process.startedMs
                logger.info(
                    "job started",
                    metadata: [
                        "job": "\(job.name)", "run": "\(id)", "pid": "\(process.pid)", "reason": "\(reason)",
                        "late-ms": "\(max(0, process.startedMs - planned * 1000))",
                    ])
                if let timeout = job.timeout { timers.append((process.startedMs + timeout * 1000, .timeout(run: id))) }
                forward(process, job: job.name, run: id)
            }
        }
        dirty = true
    }

    /// A run's output: JSON log lines tagged with job, run and stream, or copied raw.
    nonisolated func forward(_ process: SpawnedProcess, job: String, run: String) {
        let logger = self.logger
        let raw = options.passthroughLogs ? [LogSink(fileDescriptor: 1), LogSink(fileDescriptor: 2)] : nil
        Spawner.readLines(stdout: process.stdout, stderr: process.stderr) { isStderr, bytes in
            let line = String(decoding: bytes, as: UTF8.self)
            if let raw {
                raw[isStderr ? 1 : 0].write(line: line)
            } else {
                logger.info("\(line)", metadata: ["job": "\(job)", "run": "\(run)", "stream": "\(isStderr ? "stderr" : "stdout")"])
            }
        }
    }

    func exited(_ pid: pid_t, _ status: Int32) {
        let now = Self.nowMs()
        if let r = retired.firstIndex(where: { $0.pid == pid }) {
            logger.info("run of a removed job ended", metadata: ["run": "\(retired[r].id)"])
            retired.remove(at: r)
            return
        }
        guard let j = jobs.firstIndex(where: { $0.runs.contains { $0.pid == pid } }),
            let r = jobs[j].runs.firstIndex(where: { $0.pid == pid })
        else {
            logger.debug("reaped a process that was not a job's", metadata: ["pid": "\(pid)"])
            return
        }
        let run = jobs[j].runs.remove(at: r)
        timers.removeAll { if case .timeout(let id) = $0.action { id == run.id } else { false } }
        let duration = Double(now - run.startedMs) / 1000
        let exitCode: Int32? = (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
        let signal: Int32? = exitCode == nil ? status & 0x7f : nil
        let result = run.timedOut ? "timeout" : exitCode == 0 ? "success" : exitCode != nil ? "failure" : "killed"
        jobs[j].counts[result, default: 0] += 1
        jobs[j].lastEndMs = now
        jobs[j].lastExit = exitCode
        jobs[j].lastSignal = signal
        jobs[j].lastDuration = duration
        if result == "success" { jobs[j].lastSuccessMs = now }
        let bucket = HealthSnapshot.bucketBounds.firstIndex { duration <= $0 }
        if let bucket { jobs[j].buckets[bucket] += 1 }
        jobs[j].durationSum += duration
        jobs[j].durationCount += 1
        var metadata: Logger.Metadata = [
            "job": "\(jobs[j].job.name)", "run": "\(run.id)", "result": "\(result)",
            "duration-ms": "\(now - run.startedMs)",
        ]
        if let exitCode { metadata["exit-code"] = "\(exitCode)" }
        if let signal { metadata["signal"] = "\(signal)" }
        if result == "success" {
            logger.info("job finished", metadata: metadata)
        } else {
            logger.warning("job finished", metadata: metadata)
        }
        if jobs[j].pending, !stopping {
            jobs[j].pending = false
            start(j, planned: now / 1000, reason: "queued")
        }
        dirty = true
    }

    // MARK: signals

    func handle(signal sig: Int32) {
        switch sig {
        case SIGTERM, SIGINT:
            guard !stopping else { return }
            stopping = true
            let running = jobs.flatMap(\.runs)
            logger.info(
                "stopping: no new runs; TERM to every running job",
                metadata: [
                    "signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")", "running": "\(running.count)",
                    "grace": "\(options.shutdownGrace)s",
                ])
            for j in jobs.indices { jobs[j].pending = false }
            timers.removeAll { if case .start = $0.action { true } else { false } }
            for run in running + retired { kill(-run.pid, SIGTERM) }
            timers.append((Self.nowMs() + options.shutdownGrace * 1000, .shutdownDeadline))
        case SIGHUP:
            reload()
        default: break
        }
    }

    func reload() {
        let text: String
        if let path = options.crontabPath {
            guard let data = FileReader.read(path) else {
                logger.error("crontab reload failed: cannot read the file; the old schedule stays", metadata: ["file": "\(path)"])
                return
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = options.crontabText ?? ""
        }
        switch Crontab.parse(text, defaultZone: options.defaultZone, zoneDirectory: options.zoneDirectory) {
        case .failure(let errors):
            for e in errors.errors { logger.error("crontab reload failed; the old schedule stays", metadata: ["error": "\(e)"]) }
        case .success(let tab):
            let now = Self.nowMs()
            var next: [JobState] = []
            for job in tab.jobs {
                var state = Self.state(for: job, host: options.hostName, now: now)
                if let old = jobs.first(where: { $0.job.name == job.name }) {
                    state.runs = old.runs
                    state.pending = old.pending
                    state.counts = old.counts
                    state.lastStartMs = old.lastStartMs
                    state.lastEndMs = old.lastEndMs
                    state.lastExit = old.lastExit
                    state.lastSignal = old.lastSignal
                    state.lastDuration = old.lastDuration
                    state.lastSuccessMs = old.lastSuccessMs
                    state.buckets = old.buckets
                    state.durationSum = old.durationSum
                    state.durationCount = old.durationCount
                    state.sequence = old.sequence
                    state.random = old.random
                }
                next.append(state)
            }
            for old in jobs where !tab.jobs.contains(where: { $0.name == old.job.name }) { retired += old.runs }
            jobs = next
            logger.info("crontab reloaded", metadata: ["jobs": "\(jobs.count)"])
            dirty = true
        }
    }

    // MARK: health

    func publish() {
        let started = Double(startedMs) / 1000
        let statuses = jobs.map { s -> HealthSnapshot.JobStatus in
            func iso(_ ms: Int64?) -> String? {
                ms.map { UTCTime.iso8601(Date(timeIntervalSince1970: Double($0) / 1000), milliseconds: true) }
            }
            return HealthSnapshot.JobStatus(
                name: s.job.name, schedule: s.job.scheduleText, lastStart: iso(s.lastStartMs), lastEnd: iso(s.lastEndMs),
                lastExitCode: s.lastExit,
                lastSignal: s.lastSignal, lastDurationSeconds: s.lastDuration, lastSuccess: iso(s.lastSuccessMs),
                nextRun: s.next.map { RFC3339.format($0, zone: s.job.zone) }, running: s.runs.count, counts: s.counts,
                lastSuccessEpoch: s.lastSuccessMs.map { Double($0) / 1000 }, nextRunEpoch: s.next.map(Double.init),
                intervalSeconds: s.interval,
                durationBuckets: s.buckets, durationSum: s.durationSum, durationCount: s.durationCount)
        }
        snapshot.value.withLock { $0 = HealthSnapshot(startedAt: started, jobs: statuses) }
    }

    /// The status file, rewritten atomically (a temporary file, then rename).
    func writeStatus() {
        guard let path = options.statusFile else { return }
        let json = snapshot.value.withLock { $0.statusJSON() } + "\n"
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            logger.error("cannot write the status file", metadata: ["file": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            return
        }
        let bytes = Array(json.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            offset += n
        }
        close(fd)
        if rename(tmp, path) != 0 {
            logger.error("cannot replace the status file", metadata: ["file": "\(path)", "error": "\(String(cString: strerror(errno)))"])
        }
    }

    static func respond(_ path: String, snapshot: SharedSnapshot, factor: Double) -> (Int, String, String) {
        let snap = snapshot.value.withLock { $0 }
        switch path {
        case "/healthz":
            let late = snap.lateJobs(now: Double(nowMs()) / 1000, factor: factor)
            if late.isEmpty { return (200, "text/plain; charset=utf-8", "ok: \(snap.jobs.count) jobs, none late\n") }
            let lines = late.map {
                "\($0.name): no success for \(Int(Double(nowMs()) / 1000 - $0.since))s (interval \($0.interval)s, unhealthy after \(factor)x)"
            }
            return (503, "text/plain; charset=utf-8", "late: " + lines.joined(separator: "; ") + "\n")
        case "/metrics":
            return (200, "text/plain; version=0.0.4; charset=utf-8", snap.metrics())
        default:
            return (404, "text/plain; charset=utf-8", "not found: GET /healthz or /metrics\n")
        }
    }
}

/// The latest snapshot, shared with the health server's thread.
public final class SharedSnapshot: Sendable {
    public let value = Locked(HealthSnapshot(startedAt: 0, jobs: []))
}

/// SplitMix64: a small, fast generator; seeded per job and host, so that hosts spread out and one
/// host is repeatable.
struct SplitMix64: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}
