import Foundation
import HTTPTransport
import TestSupport
import Testing

/// kmesh-scheduler, the built binary, with real child processes on fast schedules.
struct SchedulerProcessTests {
    /// A scratch folder for one test's crontab, status file and markers.
    static func folder() throws -> URL {
        let url = PeerProcess.scratch.appendingPathComponent("sched-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, to url: URL) throws { try text.write(to: url, atomically: true, encoding: .utf8) }

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func waitFor(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func status(_ url: URL) -> [String: [String: Any]] {
        guard let data = try? Data(contentsOf: url), let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let jobs = doc["jobs"] as? [[String: Any]]
        else { return [:] }
        return Dictionary(uniqueKeysWithValues: jobs.compactMap { j in (j["name"] as? String).map { ($0, j) } })
    }

    static func counts(_ url: URL, _ job: String) -> [String: Int] { status(url)[job]?["counts"] as? [String: Int] ?? [:] }

    static func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie still answers kill(0): read its state.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
    }

    @Test func checkListsEveryBadLineAndSummarisesAGoodFile() async throws {
        let dir = try Self.folder()
        try Self.write(
            "# jobs\n[name=a] @every 1m echo a\n[colour=red] * * * * * b\n61 * * * * c\n* * * * *\n", to: dir.appendingPathComponent("bad"))
        let bad = try await Binaries.run("kmesh-scheduler", ["check", dir.appendingPathComponent("bad").path], environment: [:])
        #expect(bad.exitCode == 64)
        let lines = bad.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines.prefix(3) == [
                "3:2: unknown option \"colour\" (expected name, timeout, grace, jitter, overlap, run-on-start, tz)",
                "4:1: 61 is out of range for the minute field (0-59)", "5:10: empty command",
            ], "\(lines)")
        try Self.write("CRON_TZ=Asia/Tokyo\n[name=tokens jitter=20s] * * * * * reconcile-tokens\n", to: dir.appendingPathComponent("good"))
        let good = try await Binaries.run("kmesh-scheduler", ["check", dir.appendingPathComponent("good").path], environment: [:])
        #expect(
            good.exitCode == 0 && good.stdout.contains("tokens  line 2  * * * * *  [Asia/Tokyo]") && good.stdout.hasSuffix("ok: 1 job\n"))
        let start = try await Binaries.run("kmesh-scheduler", ["run", dir.appendingPathComponent("bad").path], environment: [:])
        #expect(start.exitCode == 64 && start.stderr.contains("4:1: 61 is out of range"))
        let missing = try await Binaries.run("kmesh-scheduler", ["run", "/nonexistent/crontab"], environment: [:])
        #expect(missing.exitCode == 78 && missing.stderr.contains("cannot read the crontab /nonexistent/crontab"))
        let badListen = try await Binaries.run(
            "kmesh-scheduler", ["run", dir.appendingPathComponent("good").path, "--listen", "localhost"], environment: [:])
        #expect(badListen.exitCode == 78 && badListen.stderr.contains("--listen"))
    }

    @Test func nextPrintsPlannedTimes() async throws {
        let run = try await Binaries.run(
            "kmesh-scheduler", ["next", "30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00-05:00", "--count", "2"],
            environment: [:])
        #expect(run.exitCode == 0 && run.stdout == "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n", "\(run.output)")
        let eb = try await Binaries.run(
            "kmesh-scheduler", ["next", "rate(5 minutes)", "--from", "2026-12-01T10:00:00Z", "--count", "2", "--tz", "UTC"],
            environment: [:])
        #expect(eb.stdout == "2026-12-01T10:05:00Z\n2026-12-01T10:10:00Z\n")
    }

    @Test func noOverlapUnderSkipAndATimeoutKillsTheWholeGroup() async throws {
        let dir = try Self.folder()
        let pidFile = dir.appendingPathComponent("grandchild").path
        let status = dir.appendingPathComponent("status.json")
        try Self.write(
            "[name=slow timeout=2s grace=1s] @every 1s sh -c 'sleep 60 & echo $! > \(pidFile); exec sleep 60'\n",
            to: dir.appendingPathComponent("crontab"))
        let s = try BackgroundBinary(
            "kmesh-scheduler", ["run", dir.appendingPathComponent("crontab").path, "--status-file", status.path],
            environment: [:])
        defer { s.stop() }
        #expect(await Self.waitFor(10) { Self.counts(status, "slow")["timeout"] ?? 0 >= 1 }, "\(s.stderrSoFar)")
        let grandchild = try #require(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await Self.waitFor(3) { !Self.alive(grandchild) }, "the grandchild outlived the KILL to its group")
        let c = Self.counts(status, "slow")
        #expect(c["skipped"] ?? 0 >= 1, "ticks during the run were skipped: \(c)")
        let starts = s.stderrSoFar.split(separator: "\n").filter { $0.contains("\"job started\"") }.count
        let ends = s.stderrSoFar.split(separator: "\n").filter { $0.contains("\"job finished\"") }.count
        #expect(starts - ends <= 1, "never two runs at once under overlap=skip")
    }

    @Test func sigtermIsForwardedAndTheExitCodeSaysWhetherJobsEndedInTime() async throws {
        let dir = try Self.folder()
        try Self.write(
            "[name=polite run-on-start=true] @every 1h sh -c 'trap \"echo got-term; exit 0\" TERM; echo trap-set; sleep 60 & wait'\n",
            to: dir.appendingPathComponent("polite"))
        let polite = try BackgroundBinary("kmesh-scheduler", ["run", dir.appendingPathComponent("polite").path], environment: [:])
        #expect(await Self.waitFor(5) { polite.stderrSoFar.contains("trap-set") }, "the job's shell must have set its trap")
        polite.send(SIGTERM)
        #expect(await polite.waitForExit(seconds: 10) == 0)
        let out = polite.stop()
        #expect(out.stderr.contains("got-term") && out.stderr.contains("scheduler stopped"))

        try Self.write(
            "[name=stubborn run-on-start=true] @every 1h sh -c 'trap \"\" TERM; echo trap-set; sleep 60'\n",
            to: dir.appendingPathComponent("stubborn"))
        let stubborn = try BackgroundBinary(
            "kmesh-scheduler", ["run", dir.appendingPathComponent("stubborn").path, "--shutdown-grace", "1s"],
            environment: [:])
        #expect(await Self.waitFor(5) { stubborn.stderrSoFar.contains("trap-set") })
        stubborn.send(SIGTERM)
        #expect(await stubborn.waitForExit(seconds: 10) == 1, "a job killed at the end of the grace makes exit 1")
        #expect(stubborn.stop().stderr.contains("still running at the end of the shutdown grace: KILL"))
    }

    @Test func sighupReloadsAGoodFileAndKeepsTheOldScheduleOnABadOne() async throws {
        let dir = try Self.folder()
        let crontab = dir.appendingPathComponent("crontab")
        let status = dir.appendingPathComponent("status.json")
        try Self.write("[name=one] @every 1s true\n", to: crontab)
        let s = try BackgroundBinary("kmesh-scheduler", ["run", crontab.path, "--status-file", status.path], environment: [:])
        defer { s.stop() }
        #expect(await Self.waitFor(5) { Self.counts(status, "one")["success"] ?? 0 >= 1 })
        try Self.write("[name=one] @every 1s true\n[name=two] @every 1s true\n", to: crontab)
        s.send(SIGHUP)
        #expect(await Self.waitFor(5) { Self.counts(status, "two")["success"] ?? 0 >= 1 }, "\(s.stderrSoFar)")
        #expect(Self.counts(status, "one")["success"] ?? 0 >= 1, "the kept job keeps its counts")
        try Self.write("[name=three] @every 1s true\n61 * * * * broken\n", to: crontab)
        s.send(SIGHUP)
        #expect(await Self.waitFor(5) { s.stderrSoFar.contains("2:1: 61 is out of range") })
        let before = Self.counts(status, "two")["success"] ?? 0
        #expect(await Self.waitFor(5) { Self.counts(status, "two")["success"] ?? 0 > before }, "the old schedule stays")
        #expect(Self.status(status)["three"] == nil)
    }

    @Test func metricsHealthAndAJobThatKeepsFailing() async throws {
        let dir = try Self.folder()
        try Self.write(
            "[name=ok] @every 1s true\n[name=bad] @every 1s false\n[name=daily] 0 3 * * * true\n", to: dir.appendingPathComponent("crontab")
        )
        let status = dir.appendingPathComponent("status.json")
        let s = try BackgroundBinary(
            "kmesh-scheduler",
            [
                "run", dir.appendingPathComponent("crontab").path, "--listen", "127.0.0.1:0",
                "--unhealthy-after", "2", "--status-file", status.path,
            ], environment: [:])
        defer { s.stop() }
        #expect(await Self.waitFor(5) { s.stderrSoFar.contains("serving /healthz and /metrics") })
        let port = try #require(
            s.stderrSoFar.split(separator: "\n").first { $0.contains("serving /healthz") }
                .flatMap { line in (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["port"] as? String })
        let base = "http://127.0.0.1:\(port)"
        #expect(await Self.waitFor(5) { Self.counts(status, "bad")["failure"] ?? 0 >= 1 })
        #expect(await Self.waitFor(6) { (try? await Self.get(base + "/healthz"))?.0 == 503 }, "the failing job makes /healthz 503")
        let (code, body) = try await Self.get(base + "/healthz")
        #expect(code == 503 && body.contains("bad:") && !body.contains("ok:") && !body.contains("daily"), "\(body)")
        let (mcode, metrics) = try await Self.get(base + "/metrics")
        #expect(mcode == 200)
        let samples = try PrometheusText.parse(metrics)
        #expect(samples["kmesh_scheduler_runs_total{job=\"ok\",result=\"success\"}"] ?? 0 >= 2)
        #expect(samples["kmesh_scheduler_runs_total{job=\"bad\",result=\"failure\"}"] ?? 0 >= 2)
        #expect(samples["kmesh_scheduler_last_success_timestamp_seconds{job=\"bad\"}"] == 0)
        #expect(samples["kmesh_scheduler_next_run_timestamp_seconds{job=\"daily\"}"] ?? 0 > Date().timeIntervalSince1970)
        #expect(
            samples["kmesh_scheduler_run_duration_seconds_count{job=\"ok\"}"]
                == samples["kmesh_scheduler_run_duration_seconds_bucket{job=\"ok\",le=\"+Inf\"}"])
        #expect(
            samples.keys.contains("kmesh_scheduler_skipped_total{job=\"ok\"}")
                && samples.keys.contains("kmesh_scheduler_running{job=\"bad\"}"))
        #expect(try await Self.get(base + "/other").0 == 404)
        // The container health check: from /healthz and from the status file.
        let viaPort = try await Binaries.run("kmesh-scheduler", ["healthcheck", "--listen", "127.0.0.1:\(port)"], environment: [:])
        #expect(viaPort.exitCode == 1 && viaPort.stdout.contains("bad"))
        let viaFile = try await Binaries.run("kmesh-scheduler", ["healthcheck", "--status-file", status.path], environment: [:])
        #expect(viaFile.exitCode == 1 && viaFile.stdout.contains("late: bad"))
        let doc = Self.status(status)
        #expect(
            doc["ok"]?["lastExitCode"] as? Int == 0 && doc["bad"]?["lastExitCode"] as? Int == 1
                && doc["daily"]?["nextRun"] as? String != nil)
    }

    @Test func environmentAndCronTZLinesReachTheJobs() async throws {
        let dir = try Self.folder()
        try Self.write(
            "GREETING=hello from the crontab\nCRON_TZ=Asia/Tokyo\n[name=env run-on-start=true] @every 1h sh -c 'echo \"$GREETING/$FROM_PARENT\"'\n",
            to: dir.appendingPathComponent("crontab"))
        let s = try BackgroundBinary(
            "kmesh-scheduler", ["run", dir.appendingPathComponent("crontab").path], environment: ["FROM_PARENT": "inherited"])
        #expect(await Self.waitFor(5) { s.stderrSoFar.contains("hello from the crontab/inherited") }, "\(s.stderrSoFar)")
        let planned = s.stop().stderr.split(separator: "\n").first { $0.contains("job planned") } ?? ""
        #expect(planned.contains("+09:00"), "CRON_TZ sets the job's zone: \(planned)")
    }

    @Test func theCrontabMayComeFromTheEnvironment() async throws {
        let text = "[name=from-env run-on-start=true] @every 1h echo crontab-from-the-task-definition\n"
        let s = try BackgroundBinary("kmesh-scheduler", ["run"], environment: ["KMESH_SCHEDULER_CRONTAB": text])
        #expect(await Self.waitFor(5) { s.stderrSoFar.contains("crontab-from-the-task-definition") }, "\(s.stderrSoFar)")
        s.send(SIGTERM)
        #expect(await s.waitForExit(seconds: 10) == 0)
        let check = try await Binaries.run("kmesh-scheduler", ["check"], environment: ["KMESH_SCHEDULER_CRONTAB": "* * * * *\n"])
        #expect(check.exitCode == 64 && check.stderr.contains("1:") && check.stderr.contains("KMESH_SCHEDULER_CRONTAB"))
    }

    @Test func asPID1EveryOrphanIsReaped() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let dir = try Self.folder()
        // Each run leaves an orphan behind; in its own PID namespace the scheduler is PID 1 and inherits them.
        try Self.write("[name=orphans] @every 1s sh -c '(sleep 0.3 &) ; exit 0'\n", to: dir.appendingPathComponent("crontab"))
        let binary = try Binaries.path("kmesh-scheduler")
        let s = try BackgroundBinary.command(
            "/usr/bin/unshare",
            ["--fork", "--pid", "--mount-proc", "--kill-child=SIGTERM", binary, "run", dir.appendingPathComponent("crontab").path])
        defer { s.stop() }
        #expect(await Self.waitFor(10) { s.stderrSoFar.components(separatedBy: "\"job finished\"").count > 4 }, "\(s.stderrSoFar)")
        // The scheduler: unshare's child. No zombie may hang off it.
        let children = (try? String(contentsOfFile: "/proc/\(s.pid)/task/\(s.pid)/children", encoding: .utf8)) ?? ""
        let scheduler = try #require(Int32(children.split(separator: " ").first ?? ""))
        #expect(await Self.waitFor(3) { Self.zombies(of: scheduler).isEmpty }, "zombies: \(Self.zombies(of: scheduler))")
        #expect(s.stderrSoFar.contains("\"pid\":\"1\""), "the scheduler is PID 1 in its namespace")
    }

    static func zombies(of parent: Int32) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> String? in
            guard Int32(name) != nil, let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && fields[0] == "Z" && Int32(fields[1]) == parent ? name : nil
        }
    }

    static let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))

    /// The limit is the test run's, not the server's (which answers in microseconds): it covers a
    /// loaded machine, where the test process's one transfer thread serves every test at once.
    static func get(_ url: String) async throws -> (Int, String) {
        let r = try await http.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(15)))
        return (r.status, r.bodyText)
    }
}

/// A strict reader of Prometheus text format 0.0.4: every line a comment or `name{labels} value`.
enum PrometheusText {
    struct Malformed: Error { let line: String }

    static func parse(_ text: String) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw Malformed(line: String(line))
            }
            let series = String(line[..<space])
            let name = series.prefix { $0 != "{" }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else {
                throw Malformed(line: String(line))
            }
            if series.count > name.count {
                guard series.hasSuffix("}"),
                    series.dropFirst(name.count + 1).dropLast().split(separator: ",").allSatisfy({
                        $0.contains("=\"") && $0.hasSuffix("\"")
                    })
                else {
                    throw Malformed(line: String(line))
                }
            }
            out[series] = value
        }
        return out
    }
}
