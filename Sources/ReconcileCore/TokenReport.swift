import FoundationEssentials
import KMeshSupport

/// The outcome of one pass: what happened to each service's secret.
public struct TokenReport: PassReport, Codable, Equatable {
    public enum Action: String, Sendable, Codable, CaseIterable {
        case unchanged, written
        case wouldWrite = "would-write"
        case failed, skipped
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var mesh: String?
        public var service: String
        public var secret: String?
        public var tasks: Int
        /// Tasks still PROVISIONING or PENDING: typically waiting for this secret.
        public var waiting: Int
        public var action: Action
        public var reason: String

        public init(mesh: String?, service: String, secret: String?, tasks: Int, waiting: Int = 0, action: Action, reason: String) {
            self.mesh = mesh
            self.service = service
            self.secret = secret
            self.tasks = tasks
            self.waiting = waiting
            self.action = action
            self.reason = reason
        }
    }

    public var dryRun: Bool
    public var clusters: Int
    public var tasksSeen: Int
    public var services: [Entry]
    public var totals: [String: Int]
    /// Failures that are not one service's (a cluster that could not be listed, the control plane
    /// unreachable), one line each.
    public var errors: [String]
    public var durationSeconds: Double

    public init(dryRun: Bool, clusters: Int, tasksSeen: Int, services: [Entry], errors: [String] = [], durationSeconds: Double) {
        self.dryRun = dryRun
        self.errors = errors
        self.clusters = clusters
        self.tasksSeen = tasksSeen
        self.services = services.sorted { ($0.service, $0.mesh ?? "") < ($1.service, $1.mesh ?? "") }
        var totals: [String: Int] = [:]
        for a in Action.allCases { totals[a.rawValue] = 0 }
        for e in services { totals[e.action.rawValue, default: 0] += 1 }
        self.totals = totals
        self.durationSeconds = durationSeconds
    }

    public var failed: Bool { (totals[Action.failed.rawValue] ?? 0) > 0 || !errors.isEmpty }

    public var failures: [String] {
        services.filter { $0.action == .failed }.map { "\($0.service): \($0.reason)" } + errors
    }

    public var summary: String {
        let counts = Action.allCases.map { "\(totals[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        let seconds = (durationSeconds * 100).rounded() / 100
        return
            "\(dryRun ? "dry run: " : "")\(services.count) service\(services.count == 1 ? "" : "s"), \(tasksSeen) task\(tasksSeen == 1 ? "" : "s") in \(clusters) cluster\(clusters == 1 ? "" : "s"): \(counts) (\(seconds)s)"
    }

    public func json() -> String {
        (try? JSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A table for people, then one totals line.
    public func text() -> String {
        var rows = [["SERVICE", "MESH", "SECRET", "TASKS", "ACTION", "REASON"]]
        for e in services {
            rows.append([
                e.service, e.mesh ?? "-", e.secret ?? "-", e.waiting > 0 ? "\(e.tasks) (\(e.waiting) waiting)" : String(e.tasks),
                e.action.rawValue, e.reason,
            ])
        }
        var out = ""
        if services.isEmpty {
            out += "no meshed tasks found (no task tagged kuma.io/service in \(clusters) cluster\(clusters == 1 ? "" : "s"))\n"
        } else {
            out += TextTable.render(rows)
        }
        for e in errors { out += "error: \(e)\n" }
        out += summary + "\n"
        return out
    }
}
