import Cron
import FoundationEssentials
import KMeshSupport

/// What the health endpoint, the metrics and the status file show: a copy the run loop publishes
/// after every change.
public struct HealthSnapshot: Sendable {
    public struct JobStatus: Sendable, Encodable {
        public var name: String
        public var schedule: String
        public var lastStart: String?
        public var lastEnd: String?
        public var lastExitCode: Int32?
        public var lastSignal: Int32?
        public var lastDurationSeconds: Double?
        public var lastSuccess: String?
        public var nextRun: String?
        public var running: Int
        public var counts: [String: Int]
        // For health and metrics (not in the status file's JSON).
        var lastSuccessEpoch: Double?
        var nextRunEpoch: Double?
        var intervalSeconds: Int64?
        var durationBuckets: [Int]
        var durationSum: Double
        var durationCount: Int

        enum CodingKeys: String, CodingKey {
            case name, schedule, lastStart, lastEnd, lastExitCode, lastSignal, lastDurationSeconds, lastSuccess, nextRun, running, counts
            case intervalSeconds
        }
    }

    public var startedAt: Double
    public var jobs: [JobStatus]

    public static let bucketBounds: [Double] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600]

    /// The jobs that are late: a job with a regular interval is late when `factor` times its
    /// interval has passed since its last success (or since the scheduler started).
    public func lateJobs(now: Double, factor: Double) -> [(name: String, since: Double, interval: Int64)] {
        jobs.compactMap { j in
            guard let interval = j.intervalSeconds else { return nil }
            let since = j.lastSuccessEpoch ?? startedAt
            return now - since > factor * Double(interval) ? (j.name, since, interval) : nil
        }
    }

    /// The status file's document.
    public func statusJSON() -> String {
        struct Doc: Encodable {
            var startedAt: String
            var jobs: [JobStatus]
        }
        let doc = Doc(startedAt: UTCTime.iso8601(Date(timeIntervalSince1970: startedAt)), jobs: jobs)
        return (try? JSON.encode(doc)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Prometheus text format (version 0.0.4).
    public func metrics() -> String {
        func label(_ s: String) -> String {
            s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        }
        func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
        var out = ""
        out += "# HELP kmesh_scheduler_runs_total Runs that ended, by result.\n# TYPE kmesh_scheduler_runs_total counter\n"
        for j in jobs {
            for result in ["success", "failure", "timeout", "killed"] {
                out += "kmesh_scheduler_runs_total{job=\"\(label(j.name))\",result=\"\(result)\"} \(j.counts[result] ?? 0)\n"
            }
        }
        out +=
            "# HELP kmesh_scheduler_skipped_total Ticks skipped because the job was still running.\n# TYPE kmesh_scheduler_skipped_total counter\n"
        for j in jobs { out += "kmesh_scheduler_skipped_total{job=\"\(label(j.name))\"} \(j.counts["skipped"] ?? 0)\n" }
        out += "# HELP kmesh_scheduler_timeouts_total Runs stopped by their timeout.\n# TYPE kmesh_scheduler_timeouts_total counter\n"
        for j in jobs { out += "kmesh_scheduler_timeouts_total{job=\"\(label(j.name))\"} \(j.counts["timeout"] ?? 0)\n" }
        out += "# HELP kmesh_scheduler_running Runs of the job in progress.\n# TYPE kmesh_scheduler_running gauge\n"
        for j in jobs { out += "kmesh_scheduler_running{job=\"\(label(j.name))\"} \(j.running)\n" }
        out += "# HELP kmesh_scheduler_last_success_timestamp_seconds When the job last succeeded (0: never).\n"
        out += "# TYPE kmesh_scheduler_last_success_timestamp_seconds gauge\n"
        for j in jobs {
            out += "kmesh_scheduler_last_success_timestamp_seconds{job=\"\(label(j.name))\"} \(number(j.lastSuccessEpoch ?? 0))\n"
        }
        out += "# HELP kmesh_scheduler_next_run_timestamp_seconds When the job runs next (0: not planned).\n"
        out += "# TYPE kmesh_scheduler_next_run_timestamp_seconds gauge\n"
        for j in jobs { out += "kmesh_scheduler_next_run_timestamp_seconds{job=\"\(label(j.name))\"} \(number(j.nextRunEpoch ?? 0))\n" }
        out += "# HELP kmesh_scheduler_run_duration_seconds How long runs took.\n# TYPE kmesh_scheduler_run_duration_seconds histogram\n"
        for j in jobs {
            var cumulative = 0
            for (i, bound) in Self.bucketBounds.enumerated() {
                cumulative += j.durationBuckets[i]
                out += "kmesh_scheduler_run_duration_seconds_bucket{job=\"\(label(j.name))\",le=\"\(number(bound))\"} \(cumulative)\n"
            }
            out += "kmesh_scheduler_run_duration_seconds_bucket{job=\"\(label(j.name))\",le=\"+Inf\"} \(j.durationCount)\n"
            out += "kmesh_scheduler_run_duration_seconds_sum{job=\"\(label(j.name))\"} \(j.durationSum)\n"
            out += "kmesh_scheduler_run_duration_seconds_count{job=\"\(label(j.name))\"} \(j.durationCount)\n"
        }
        return out
    }
}
