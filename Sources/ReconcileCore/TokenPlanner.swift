import FoundationEssentials

/// A service's secret as the planner sees it: what it holds, or why it could not be read.
public enum SecretRead: Sendable, Equatable {
    case read(StoredSecret)
    case unreadable(String)
}

/// The token pass's plan: the entries decided without writing anything, and the secrets to write.
public struct TokenPlan: Sendable, Equatable {
    public struct Write: Sendable, Equatable {
        public var key: ServiceKey
        public var reason: String
        public init(key: ServiceKey, reason: String) {
            self.key = key
            self.reason = reason
        }
    }

    public struct Options: Sendable, Equatable {
        public var secretNamePrefix: String
        public var renewBefore: Int64
        public var dryRun: Bool
        public init(secretNamePrefix: String, renewBefore: Int64, dryRun: Bool) {
            self.secretNamePrefix = secretNamePrefix
            self.renewBefore = renewBefore
            self.dryRun = dryRun
        }
    }

    /// unchanged, failed, skipped and would-write entries, in service order.
    public var entries: [TokenReport.Entry]
    /// Secrets to write (never in a dry run), in service order.
    public var writes: [Write]

    /// The plan from the grouped tasks and what each service's secret holds, at `now`. Pure: the
    /// same input gives the same plan; a service whose secret holds a valid token is `unchanged`.
    public static func make(
        grouping: TaskGrouping, waiting: [ServiceKey: Int], secrets: [ServiceKey: SecretRead],
        options: Options, now: Date
    ) -> TokenPlan {
        var entries: [TokenReport.Entry] = []
        var writes: [Write] = []
        for bad in grouping.invalid {
            entries.append(
                .init(
                    mesh: nil, service: bad.value, secret: nil, tasks: 1, action: .skipped,
                    reason: "\(bad.problem); task \(shortArn(bad.taskArn)) skipped, no secret touched"))
        }
        for conflict in grouping.conflicts {
            entries.append(
                .init(
                    mesh: conflict.meshes.joined(separator: ","), service: conflict.service,
                    secret: options.secretNamePrefix + conflict.service, tasks: conflict.taskArns.count,
                    action: .failed,
                    reason:
                        "tasks name this service in meshes \(conflict.meshes.joined(separator: ", ")): one secret cannot serve both; fix the kuma.io/mesh tags (nothing written)"
                ))
        }
        for key in grouping.services.keys.sorted() {
            let entry = { (action: TokenReport.Action, reason: String) in
                TokenReport.Entry(
                    mesh: key.mesh, service: key.service, secret: options.secretNamePrefix + key.service,
                    tasks: grouping.services[key]!.count, waiting: waiting[key] ?? 0, action: action, reason: reason)
            }
            switch secrets[key] ?? .unreadable("the secret was not read") {
            case .unreadable(let reason):
                entries.append(entry(.failed, reason))
            case .read(let stored):
                switch TokenPolicy.decide(stored, for: key, now: now, renewBefore: options.renewBefore) {
                case .keep(let reason): entries.append(entry(.unchanged, reason))
                case .fail(let reason): entries.append(entry(.failed, reason))
                case .replace(let reason):
                    if options.dryRun { entries.append(entry(.wouldWrite, reason)) } else { writes.append(Write(key: key, reason: reason)) }
                }
            }
        }
        return TokenPlan(entries: entries, writes: writes)
    }

    /// The last segment of an ARN (`.../task/prod/abc` -> `abc`), for people.
    public static func shortArn(_ arn: String) -> String { arn.split(separator: "/").last.map(String.init) ?? arn }
}
