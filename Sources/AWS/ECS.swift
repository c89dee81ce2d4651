import FoundationEssentials

public struct ECSTag: Sendable, Codable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct ECSTask: Sendable, Decodable, Equatable {
    public var taskArn: String
    public var clusterArn: String?
    public var lastStatus: String?
    public var desiredStatus: String?
    public var group: String?
    public var taskDefinitionArn: String?
    public var tags: [ECSTag]

    public init(
        taskArn: String, clusterArn: String? = nil, lastStatus: String? = nil, desiredStatus: String? = nil,
        group: String? = nil, taskDefinitionArn: String? = nil, tags: [ECSTag] = []
    ) {
        self.taskArn = taskArn
        self.clusterArn = clusterArn
        self.lastStatus = lastStatus
        self.desiredStatus = desiredStatus
        self.group = group
        self.taskDefinitionArn = taskDefinitionArn
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case taskArn, clusterArn, lastStatus, desiredStatus, group, taskDefinitionArn, tags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        taskArn = try c.decode(String.self, forKey: .taskArn)
        clusterArn = try c.decodeIfPresent(String.self, forKey: .clusterArn)
        lastStatus = try c.decodeIfPresent(String.self, forKey: .lastStatus)
        desiredStatus = try c.decodeIfPresent(String.self, forKey: .desiredStatus)
        group = try c.decodeIfPresent(String.self, forKey: .group)
        taskDefinitionArn = try c.decodeIfPresent(String.self, forKey: .taskDefinitionArn)
        tags = try c.decodeIfPresent([ECSTag].self, forKey: .tags) ?? []
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }
}

public struct ECSFailure: Sendable, Decodable, Equatable {
    public var arn: String?
    public var reason: String?
    public var detail: String?
    public init(arn: String?, reason: String?, detail: String? = nil) {
        self.arn = arn
        self.reason = reason
        self.detail = detail
    }
}

public struct DescribeTasksResult: Sendable, Equatable {
    public var tasks: [ECSTask]
    public var failures: [ECSFailure]
    public init(tasks: [ECSTask], failures: [ECSFailure]) {
        self.tasks = tasks
        self.failures = failures
    }
}

/// The ECS operations the reconcilers use.
public protocol ECSAPI: Sendable {
    /// Every cluster ARN, following `nextToken` across pages.
    func listClusters() async throws -> [String]
    /// Every task ARN of `cluster` with the given desired status (ECS's default is RUNNING, which
    /// includes tasks still PROVISIONING or PENDING), following `nextToken`.
    func listTasks(cluster: String, desiredStatus: String) async throws -> [String]
    /// The tasks named (at most `describeTasksLimit` per call), always with `cluster` (without it
    /// ECS answers MISSING) and with tags included; ARNs ECS does not know come back in `failures`.
    func describeTasks(cluster: String, taskArns: [String]) async throws -> DescribeTasksResult
    /// The most ARNs one DescribeTasks call takes.
    var describeTasksLimit: Int { get }
}

extension ECSAPI {
    /// ECS's limit: 100 tasks per DescribeTasks call.
    public var describeTasksLimit: Int { 100 }
}

public struct LiveECS: ECSAPI {
    let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    struct ListClustersInput: Encodable {
        var maxResults = 100
        var nextToken: String?
    }
    struct ListClustersOutput: Decodable {
        var clusterArns: [String]?
        var nextToken: String?
    }
    struct ListTasksInput: Encodable {
        var cluster: String
        var desiredStatus: String
        var maxResults = 100
        var nextToken: String?
    }
    struct ListTasksOutput: Decodable {
        var taskArns: [String]?
        var nextToken: String?
    }
    struct DescribeTasksInput: Encodable {
        var cluster: String
        var tasks: [String]
        var include = ["TAGS"]
    }
    struct DescribeTasksOutput: Decodable {
        var tasks: [ECSTask]?
        var failures: [ECSFailure]?
    }

    public func listClusters() async throws -> [String] {
        var arns: [String] = []
        var token: String?
        repeat {
            let page = try await client.json(.ecs, "ListClusters", ListClustersInput(nextToken: token), as: ListClustersOutput.self)
            arns += page.clusterArns ?? []
            token = page.nextToken
        } while token != nil
        return arns
    }

    public func listTasks(cluster: String, desiredStatus: String = "RUNNING") async throws -> [String] {
        var arns: [String] = []
        var token: String?
        repeat {
            let page = try await client.json(
                .ecs, "ListTasks", ListTasksInput(cluster: cluster, desiredStatus: desiredStatus, nextToken: token),
                as: ListTasksOutput.self)
            arns += page.taskArns ?? []
            token = page.nextToken
        } while token != nil
        return arns
    }

    public func describeTasks(cluster: String, taskArns: [String]) async throws -> DescribeTasksResult {
        precondition(taskArns.count <= describeTasksLimit, "DescribeTasks takes at most 100 tasks")
        guard !taskArns.isEmpty else { return DescribeTasksResult(tasks: [], failures: []) }
        let out = try await client.json(
            .ecs, "DescribeTasks", DescribeTasksInput(cluster: cluster, tasks: taskArns),
            as: DescribeTasksOutput.self)
        return DescribeTasksResult(tasks: out.tasks ?? [], failures: out.failures ?? [])
    }
}
