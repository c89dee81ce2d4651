import AWS
import FoundationEssentials
import KMeshSupport
import Kuma
import Logging
import ReconcileCore
import SigV4

/// Keeps `<prefix><service>` holding a dataplane token for every meshed ECS task's (mesh, service):
/// the job of Kong's former ECS token controller, as one level-based, idempotent pass.
public struct TokenReconciler: Sendable {
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

    /// One pass. Never throws: every failure lands in the report, and the other services are
    /// still done.
    /// `deadline`: no new write starts after it; services not reached are reported as skipped
    /// for the next pass (a Lambda invocation must answer before its own deadline).
    public func run(_ scope: Scope = .all, deadline: ContinuousClock.Instant? = nil) async -> TokenReport {
        let started = ContinuousClock.now
        var errors: [String] = []
        var entries: [TokenReport.Entry] = []

        // 1. Read: tasks.
        let (tasks, clusterCount, listErrors) = await readTasks(scope)
        errors += listErrors
        let grouping = TaskGrouping.group(tasks, defaultMesh: options.defaultMesh)
        let waitingArns = Set(tasks.filter { $0.lastStatus == "PROVISIONING" || $0.lastStatus == "PENDING" }.map(\.arn))
        let waiting: @Sendable (ServiceKey) -> Int = { key in grouping.services[key]?.filter { waitingArns.contains($0) }.count ?? 0 }
        for bad in grouping.invalid {
            logger.warning("task skipped: invalid service tag", metadata: ["task": "\(bad.taskArn)", "reason": "\(bad.problem)"])
            entries.append(
                .init(
                    mesh: nil, service: bad.value, secret: nil, tasks: 1, action: .skipped,
                    reason: "\(bad.problem); task \(Self.shortArn(bad.taskArn)) skipped, no secret touched"))
        }
        for conflict in grouping.conflicts {
            let reason =
                "tasks name this service in meshes \(conflict.meshes.joined(separator: ", ")): one secret cannot serve both; fix the kuma.io/mesh tags (nothing written)"
            logger.error(
                "service conflict", metadata: ["service": "\(conflict.service)", "meshes": "\(conflict.meshes.joined(separator: ","))"])
            entries.append(
                .init(
                    mesh: conflict.meshes.joined(separator: ","), service: conflict.service,
                    secret: options.secretNamePrefix + conflict.service, tasks: conflict.taskArns.count,
                    action: .failed, reason: reason))
        }

        // 2. Read: secrets.
        let keys = grouping.services.keys.sorted()
        let stored = await readSecrets(keys.map { options.secretNamePrefix + $0.service }, single: scope != .all)

        // 3. Plan.
        let now = clock.now()
        var toWrite: [(ServiceKey, StoredSecretValue, String)] = []
        for key in keys {
            let name = options.secretNamePrefix + key.service
            let taskCount = grouping.services[key]!.count
            let entry = { (action: TokenReport.Action, reason: String) in
                self.entry(key, tasks: taskCount, waiting: waiting(key), action, reason)
            }
            switch stored[name] ?? .failure("the secret was not read") {
            case .failure(let reason):
                logger.error("secret not readable", metadata: ["service": "\(key.service)", "secret": "\(name)", "error": "\(reason)"])
                entries.append(entry(.failed, reason))
            case .value(let value):
                switch TokenPolicy.decide(value.state, for: key, now: now, renewBefore: options.renewBefore.seconds) {
                case .keep(let reason):
                    entries.append(entry(.unchanged, reason))
                case .fail(let reason):
                    logger.error("secret not usable", metadata: ["service": "\(key.service)", "secret": "\(name)", "reason": "\(reason)"])
                    entries.append(entry(.failed, reason))
                case .replace(let reason):
                    if options.dryRun {
                        logger.info(
                            "would write a new token",
                            metadata: ["service": "\(key.service)", "mesh": "\(key.mesh)", "secret": "\(name)", "reason": "\(reason)"])
                        entries.append(entry(.wouldWrite, reason))
                    } else {
                        toWrite.append((key, value, reason))
                    }
                }
            }
        }

        // 4. Apply.
        if toWrite.isEmpty {
            if !options.dryRun { logger.info("nothing to write: every secret holds a valid token") }
        } else if scope == .all, let unreachable = await preflight() {
            // One clear line instead of the same failure once per service.
            errors.append(unreachable)
            for (key, _, _) in toWrite {
                entries.append(
                    entry(
                        key, tasks: grouping.services[key]!.count, waiting: waiting(key), .failed,
                        "not written: the Kuma API is not usable (see the error below)"))
            }
        } else {
            entries += await withBoundedConcurrency(toWrite, limit: options.concurrency) { item in
                let (key, value, reason) = item
                if let deadline, ContinuousClock.now >= deadline {
                    return self.entry(
                        key, tasks: grouping.services[key]!.count, waiting: waiting(key), .skipped,
                        "not started: the invocation's deadline was near (\(reason)); the next pass does it")
                }
                return await self.write(key, value, reason, tasks: grouping.services[key]!.count, waiting: waiting(key))
            }
        }

        let report = TokenReport(
            dryRun: options.dryRun, clusters: clusterCount, tasksSeen: tasks.count,
            services: entries, errors: errors,
            durationSeconds: Self.seconds(ContinuousClock.now - started))
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
                return ([], 1, ["cannot describe task \(Self.shortArn(arn)) in cluster \(cluster): \(error)"])
            }
        }
        var clusters = options.clusters
        if clusters.isEmpty {
            do {
                clusters = try await ecs.listClusters()
            } catch {
                return ([], 0, ["cannot list the ECS clusters: \(error); or name them with --cluster / KMESH_CLUSTERS"])
            }
        }
        let perCluster = await withBoundedConcurrency(clusters, limit: options.concurrency) { cluster -> Result<[MeshedTask], PassError> in
            do {
                let arns = try await ecs.listTasks(cluster: cluster, desiredStatus: "RUNNING")
                let chunks = stride(from: 0, to: arns.count, by: LiveECS.describeBatchSize).map {
                    Array(arns[$0..<min($0 + LiveECS.describeBatchSize, arns.count)])
                }
                let described = await withBoundedConcurrency(chunks, limit: options.concurrency) {
                    chunk -> Result<[MeshedTask], PassError> in
                    do {
                        return .success(
                            try await ecs.describeTasks(cluster: cluster, taskArns: chunk).tasks.compactMap { meshed($0, cluster: cluster) }
                        )
                    } catch {
                        return .failure(PassError("cannot describe tasks of cluster \(cluster): \(error)"))
                    }
                }
                var tasks: [MeshedTask] = []
                for r in described {
                    switch r {
                    case .success(let t): tasks += t
                    case .failure(let e): return .failure(e)
                    }
                }
                logger.debug(
                    "cluster read", metadata: ["cluster": "\(cluster)", "tasks": "\(arns.count)", "meshed-tasks": "\(tasks.count)"])
                return .success(tasks)
            } catch {
                return .failure(PassError("cannot list the tasks of cluster \(cluster): \(error)"))
            }
        }
        var tasks: [MeshedTask] = []
        var errors: [String] = []
        for r in perCluster {
            switch r {
            case .success(let t): tasks += t
            case .failure(let e):
                logger.error("cluster not read", metadata: ["error": "\(e.message)"])
                errors.append(e.message)
            }
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

    static func shortArn(_ arn: String) -> String { arn.split(separator: "/").last.map(String.init) ?? arn }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
