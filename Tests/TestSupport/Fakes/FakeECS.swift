import AWS
import KMeshSupport

/// ECS in memory: clusters and their tasks, with ECS's rules that the reconcilers depend on
/// (DescribeTasks takes at most 100 ARNs and reports unknown ones as failures).
public final class FakeECS: ECSAPI, Sendable {
    public let calls = FakeCalls()
    private let clusters = Locked<[String: [ECSTask]]>([:])

    public init() {}

    /// Adds a task to `cluster` (created on first use), desired RUNNING unless said otherwise.
    public func add(
        cluster: String, arn: String, service: String?, mesh: String? = nil, lastStatus: String = "RUNNING",
        desiredStatus: String = "RUNNING"
    ) {
        var tags: [ECSTag] = []
        if let service { tags.append(ECSTag(key: "kuma.io/service", value: service)) }
        if let mesh { tags.append(ECSTag(key: "kuma.io/mesh", value: mesh)) }
        let task = ECSTask(
            taskArn: arn, clusterArn: Self.clusterArn(cluster), lastStatus: lastStatus, desiredStatus: desiredStatus, tags: tags)
        clusters.withLock { $0[cluster, default: []].append(task) }
    }

    public func remove(taskArn: String) {
        clusters.withLock { all in for (k, v) in all { all[k] = v.filter { $0.taskArn != taskArn } } }
    }

    public static func clusterArn(_ name: String) -> String { "arn:aws:ecs:eu-west-1:111122223333:cluster/\(name)" }

    func tasks(_ cluster: String) -> [ECSTask]? {
        let name = cluster.split(separator: "/").last.map(String.init) ?? cluster
        return clusters.withLock { $0[name] }
    }

    public func listClusters() async throws -> [String] {
        try calls.record("ListClusters")
        return clusters.withLock { $0.keys.sorted().map(Self.clusterArn) }
    }

    public func listTasks(cluster: String, desiredStatus: String) async throws -> [String] {
        try calls.record("ListTasks")
        guard let tasks = tasks(cluster) else {
            throw AWSServiceError(
                service: "ECS", operation: "ListTasks", status: 400, code: "ClusterNotFoundException", message: "Cluster not found.")
        }
        return tasks.filter { $0.desiredStatus == desiredStatus }.map(\.taskArn)
    }

    public func describeTasks(cluster: String, taskArns: [String]) async throws -> DescribeTasksResult {
        try calls.record("DescribeTasks")
        guard taskArns.count <= describeTasksLimit else {
            throw AWSServiceError(
                service: "ECS", operation: "DescribeTasks", status: 400, code: "InvalidParameterException",
                message: "Tasks cannot be longer than 100 elements")
        }
        let known = Dictionary((tasks(cluster) ?? []).map { ($0.taskArn, $0) }, uniquingKeysWith: { a, _ in a })
        return DescribeTasksResult(
            tasks: taskArns.compactMap { known[$0] },
            failures: taskArns.filter { known[$0] == nil }.map { ECSFailure(arn: $0, reason: "MISSING", detail: nil) })
    }
}
