import AWS
import FoundationEssentials
import KMeshSupport
import Kuma
import Logging
import ReconcileCore

/// Keeps `<prefix><service>` holding a dataplane token for every meshed ECS task's (mesh, service):
/// the job of Kong's former ECS token controller, as one level-based, idempotent pass.
public struct TokenReconciler: Reconciler {
    public struct Options: Sendable {
        public var secretNamePrefix = "kong-mesh-ecs/"
        /// Cluster names or ARNs; empty means every cluster (ListClusters).
        public var clusters: [String] = []
        public var defaultMesh = "default"
        public var tokenValidFor = GoDuration(seconds: 8760 * 3600)
        public var renewBefore = GoDuration(seconds: 720 * 3600)
        public var concurrency = 16
        public var dryRun = false
        public init() {}
    }

    public enum Scope: Sendable, Equatable {
        case all
        /// One task (an ECS Task State Change event): only that task's service.
        case task(cluster: String, taskArn: String)
    }

    public static let serviceTag = "kuma.io/service"
    public static let meshTag = "kuma.io/mesh"

    let ecs: any ECSAPI
    let secrets: any SecretsManagerAPI
    let kuma: any KumaAPI
    let options: Options
    let clock: any WallClock
    let logger: Logger

    public init(
        ecs: any ECSAPI, secrets: any SecretsManagerAPI, kuma: any KumaAPI, options: Options,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.ecs = ecs
        self.secrets = secrets
        self.kuma = kuma
        self.options = options
        self.clock = clock
        self.logger = logger
    }

    /// One pass over `scope`; see `Reconciler` for the contract. `deadline`: no new write starts at
    /// or after it (a Lambda invocation must answer before its own deadline); services not reached
    /// are reported as skipped, for the next pass.
    public func run(_ scope: Scope = .all, deadline: Date? = nil) async -> TokenReport {
        let started = clock.now()
        var errors: [String] = []

        // 1. Read the current state: tasks, then their services' secrets.
        let (tasks, clusterCount, listErrors) = await readTasks(scope)
        errors += listErrors
        let grouping = TaskGrouping.group(tasks, defaultMesh: options.defaultMesh)
        let waitingArns = Set(tasks.filter { $0.lastStatus == "PROVISIONING" || $0.lastStatus == "PENDING" }.map(\.arn))
        let waiting = grouping.services.mapValues { arns in arns.filter { waitingArns.contains($0) }.count }
        let keys = grouping.services.keys.sorted()
        let fetched = await readSecrets(keys.map { options.secretNamePrefix + $0.service }, single: scope != .all)
        var stored: [ServiceKey: StoredSecretValue] = [:]
        var reads: [ServiceKey: SecretRead] = [:]
        for key in keys {
            switch fetched[options.secretNamePrefix + key.service] ?? .failure("the secret was not read") {
            case .value(let v):
                stored[key] = v
                reads[key] = .read(v.state)
            case .failure(let reason): reads[key] = .unreadable(reason)
            }
        }

        // 2. Plan (pure), and log what was decided.
        let plan = TokenPlan.make(
            grouping: grouping, waiting: waiting, secrets: reads,
            options: .init(
                secretNamePrefix: options.secretNamePrefix,
                renewBefore: options.renewBefore.seconds, dryRun: options.dryRun),
            now: started)
        log(plan)
        var entries = plan.entries

        // 3. Apply (dry-run never gets here with anything to write).
        if plan.writes.isEmpty {
            if !options.dryRun { logger.info("nothing to write: every secret holds a valid token") }
        } else if scope == .all, let unreachable = await preflight() {
            // One clear line instead of the same failure once per service.
            errors.append(unreachable)
            for w in plan.writes {
                entries.append(
                    entry(
                        w.key, tasks: grouping.services[w.key]!.count, waiting: waiting[w.key] ?? 0, .failed,
                        "not written: the Kuma API is not usable (see the error below)"))
            }
        } else {
            let stored = stored
            entries += await withBoundedConcurrency(plan.writes, limit: options.concurrency) { w in
                let tasks = grouping.services[w.key]!.count
                let waits = waiting[w.key] ?? 0
                if let deadline, self.clock.now() >= deadline {
                    return self.entry(
                        w.key, tasks: tasks, waiting: waits, .skipped,
                        "not started: the invocation's deadline was near (\(w.reason)); the next pass does it")
                }
                return await self.write(w.key, stored[w.key]!, w.reason, tasks: tasks, waiting: waits)
            }
        }

        let report = TokenReport(
            dryRun: options.dryRun, clusters: clusterCount, tasksSeen: tasks.count,
            services: entries, errors: errors,
            durationSeconds: max(0, clock.now().timeIntervalSince(started)))
        var summary: Logger.Metadata = [
            "services": "\(report.services.count)", "tasks": "\(report.tasksSeen)",
            "duration-ms": "\(Int(report.durationSeconds * 1000))",
        ]
        for (k, v) in report.totals { summary[k] = "\(v)" }
        if report.failed {
            logger.error("pass finished with failures", metadata: summary)
        } else {
            logger.info("pass finished", metadata: summary)
        }
        return report
    }

    /// One log line per decision that is not "unchanged".
    func log(_ plan: TokenPlan) {
        for e in plan.entries {
            var metadata: Logger.Metadata = ["service": "\(e.service)", "reason": "\(e.reason)"]
            if let mesh = e.mesh { metadata["mesh"] = "\(mesh)" }
            if let secret = e.secret { metadata["secret"] = "\(secret)" }
            switch e.action {
            case .skipped: logger.warning("task skipped: invalid service tag", metadata: metadata)
            case .failed: logger.error("secret not usable", metadata: metadata)
            case .wouldWrite: logger.info("would write a new token", metadata: metadata)
            case .unchanged, .written: break
            }
        }
    }

    /// The report entry for one (mesh, service) and its secret.
    func entry(_ key: ServiceKey, tasks: Int, waiting: Int, _ action: TokenReport.Action, _ reason: String) -> TokenReport.Entry {
        TokenReport.Entry(
            mesh: key.mesh, service: key.service, secret: options.secretNamePrefix + key.service,
            tasks: tasks, waiting: waiting, action: action, reason: reason)
    }

    // MARK: reading tasks

    func readTasks(_ scope: Scope) async -> ([MeshedTask], Int, [String]) {
        if case .task(let cluster, let arn) = scope {
            do {
                let result = try await ecs.describeTasks(cluster: cluster, taskArns: [arn])
                if result.tasks.isEmpty {
                    let reason = result.failures.first?.reason ?? "not found"
                    logger.info("task not found; nothing to do", metadata: ["task": "\(arn)", "reason": "\(reason)"])
                }
                return (result.tasks.compactMap { meshed($0, cluster: cluster) }, 1, [])
            } catch {
                return ([], 1, ["cannot describe task \(TokenPlan.shortArn(arn)) in cluster \(cluster): \(error)"])
            }
        }
        var clusters = options.clusters
        if clusters.isEmpty {
            do {
                clusters = try await ecs.listClusters()
            } catch {
                return ([], 0, ["cannot list the ECS clusters: \(error); or name the clusters to read"])
            }
        }
        // One limit bounds the whole pass: list every cluster, then describe every chunk of every
        // cluster from one pool (nesting two pools would allow limit x limit requests in flight).
        let listed = await withBoundedConcurrency(clusters, limit: options.concurrency) { cluster -> Result<[String], PassError> in
            do {
                return .success(try await ecs.listTasks(cluster: cluster, desiredStatus: "RUNNING"))
            } catch {
                return .failure(PassError("cannot list the tasks of cluster \(cluster): \(error)"))
            }
        }
        var errors: [String] = []
        var failedClusters = Set<String>()
        var work: [(cluster: String, chunk: [String])] = []
        for (cluster, result) in zip(clusters, listed) {
            switch result {
            case .success(let arns): work += arns.chunked(into: ecs.describeTasksLimit).map { (cluster, $0) }
            case .failure(let e):
                errors.append(e.message)
                failedClusters.insert(cluster)
            }
        }
        let described = await withBoundedConcurrency(work, limit: options.concurrency) { item -> Result<[MeshedTask], PassError> in
            do {
                let result = try await ecs.describeTasks(cluster: item.cluster, taskArns: item.chunk)
                return .success(result.tasks.compactMap { meshed($0, cluster: item.cluster) })
            } catch {
                return .failure(PassError("cannot describe tasks of cluster \(item.cluster): \(error)"))
            }
        }
        var byCluster: [String: [MeshedTask]] = [:]
        for (item, result) in zip(work, described) where !failedClusters.contains(item.cluster) {
            switch result {
            case .success(let t): byCluster[item.cluster, default: []] += t
            case .failure(let e):
                // A cluster read in part is not read: its services are left for the next pass.
                errors.append(e.message)
                failedClusters.insert(item.cluster)
                byCluster[item.cluster] = nil
            }
        }
        for e in errors { logger.error("cluster not read", metadata: ["error": "\(e)"]) }
        var tasks: [MeshedTask] = []
        for cluster in clusters where !failedClusters.contains(cluster) {
            let t = byCluster[cluster] ?? []
            logger.debug("cluster read", metadata: ["cluster": "\(cluster)", "meshed-tasks": "\(t.count)"])
            tasks += t
        }
        return (tasks, clusters.count, errors)
    }

    struct PassError: Error {
        let message: String
        init(_ m: String) { message = m }
    }

    func meshed(_ task: ECSTask, cluster: String) -> MeshedTask? {
        guard let service = task.tag(Self.serviceTag) else { return nil }
        return MeshedTask(arn: task.taskArn, cluster: cluster, service: service, mesh: task.tag(Self.meshTag), lastStatus: task.lastStatus)
    }

}
