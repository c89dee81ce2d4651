import FoundationEssentials
import KMeshSupport

/// The outcome of one DNS pass: what happened to each name.
public struct DNSReport: PassReport, Codable, Equatable {
    public enum Action: String, Sendable, Codable, CaseIterable {
        case unchanged, created, updated, deleted
        case wouldCreate = "would-create"
        case wouldUpdate = "would-update"
        case wouldDelete = "would-delete"
        case conflict, failed, skipped
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var zone: String
        public var name: String
        public var value: String?
        public var action: Action
        public var reason: String
        public init(zone: String, name: String, value: String?, action: Action, reason: String) {
            self.zone = zone
            self.name = name
            self.value = value
            self.action = action
            self.reason = reason
        }
    }

    public var dryRun: Bool
    public var zones: [String]
    public var records: [Entry]
    public var totals: [String: Int]
    /// Route 53 and Kuma requests by operation (retries included).
    public var calls: [String: Int]
    /// Failures that are not one name's (a list that failed, a public zone, a guard), one line each.
    public var errors: [String]
    public var durationSeconds: Double

    public init(dryRun: Bool, zones: [String], records: [Entry], calls: [String: Int], errors: [String], durationSeconds: Double) {
        self.dryRun = dryRun
        self.zones = zones
        self.records = records.sorted { ($0.zone, $0.name) < ($1.zone, $1.name) }
        var totals: [String: Int] = [:]
        for a in Action.allCases { totals[a.rawValue] = 0 }
        for e in records { totals[e.action.rawValue, default: 0] += 1 }
        self.totals = totals
        self.calls = calls
        self.errors = errors
        self.durationSeconds = durationSeconds
    }

    /// A conflict is reported but is not a failure: the tool did the right thing by leaving it.
    public var failed: Bool { (totals[Action.failed.rawValue] ?? 0) > 0 || !errors.isEmpty }

    public var failures: [String] {
        errors + records.filter { $0.action == .failed }.map { "\($0.name): \($0.reason)" }
    }

    public func json() -> String {
        (try? JSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public var summary: String {
        let shown = Action.allCases.compactMap { a -> String? in
            let n = totals[a.rawValue] ?? 0
            return n == 0 && ![.unchanged, .created, .updated, .deleted].contains(a) ? nil : "\(n) \(a.rawValue)"
        }
        let requests = calls.values.reduce(0, +)
        let seconds = (durationSeconds * 100).rounded() / 100
        return
            "\(dryRun ? "dry run: " : "")\(records.count) name\(records.count == 1 ? "" : "s") in \(zones.count) zone\(zones.count == 1 ? "" : "s"): \(shown.joined(separator: ", ")); \(requests) request\(requests == 1 ? "" : "s") (\(seconds)s)"
    }

    public func text() -> String {
        var rows = [["ZONE", "NAME", "VALUE", "ACTION", "REASON"]]
        for e in records { rows.append([e.zone, e.name, e.value ?? "-", e.action.rawValue, e.reason]) }
        var out = ""
        if records.isEmpty {
            out += "no records to manage in \(zones.count) zone\(zones.count == 1 ? "" : "s")\n"
        } else {
            out += TextTable.render(rows)
        }
        for e in errors { out += "error: \(e)\n" }
        return out + summary + "\n"
    }
}
