import AWS
import Foundation
import KMeshSupport

/// Creates test state in moto through the project's own signed client (operations the product
/// itself never calls: CreateCluster, RunTask, CreateSecret, CreateHostedZone).
public struct AWSSeeder: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    struct Raw: Decodable {
        let value: JSONValue
        init(from decoder: any Decoder) throws { value = try JSONValue(from: decoder) }
    }

    @discardableResult
    public func json(_ service: AWSService, _ op: String, _ input: [String: JSONValue]) async throws -> JSONValue {
        try await client.json(service, op, JSONValue.object(input), as: Raw.self).value
    }

    public func createCluster(_ name: String) async throws -> String {
        let out = try await json(.ecs, "CreateCluster", ["clusterName": .string(name)])
        return out["cluster"]?["clusterArn"]?.stringValue ?? ""
    }

    /// Runs `count` FARGATE tasks with the given tags; returns their ARNs.
    public func runTasks(cluster: String, family: String = "app", count: Int, tags: [String: String]) async throws -> [String] {
        try await json(
            .ecs, "RegisterTaskDefinition",
            [
                "family": .string(family),
                "containerDefinitions": .array([.object(["name": .string("app"), "image": .string("app:1"), "memory": .number(128)])]),
            ])
        var arns: [String] = []
        var remaining = count
        while remaining > 0 {
            let n = min(remaining, 10)
            let out = try await json(
                .ecs, "RunTask",
                [
                    "cluster": .string(cluster), "taskDefinition": .string(family), "launchType": .string("FARGATE"),
                    "count": .number(Double(n)),
                    "tags": .array(tags.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) }),
                ])
            if case .array(let tasks)? = out["tasks"] { arns += tasks.compactMap { $0["taskArn"]?.stringValue } }
            remaining -= n
        }
        return arns
    }

    /// With a ClientRequestToken, as the SDKs send one: a create retried after its answer was lost
    /// (a timeout, a cut connection on a busy machine) is the same create, not ResourceExists.
    public func createSecret(_ name: String, value: String) async throws -> String {
        let out = try await json(
            .secretsManager, "CreateSecret",
            ["Name": .string(name), "SecretString": .string(value), "ClientRequestToken": .string(UUID().uuidString)])
        return out["ARN"]?.stringValue ?? ""
    }

    /// A hosted zone, private unless said otherwise; returns its bare id.
    public func createHostedZone(_ name: String, isPrivate: Bool = true) async throws -> String {
        var call = AWSClient.Call(service: .route53, operation: "CreateHostedZone")
        call.path = "/2013-04-01/hostedzone"
        call.headers = ["Content-Type": "text/xml"]
        var w = XMLWriter()
        w.element("CreateHostedZoneRequest", namespace: LiveRoute53.namespace) { w in
            w.leaf("Name", name)
            if isPrivate {
                w.element("VPC") { w in
                    w.leaf("VPCRegion", "us-east-1")
                    w.leaf("VPCId", "vpc-12345678")
                }
            }
            w.leaf("CallerReference", UUID().uuidString)
            w.element("HostedZoneConfig") { w in w.leaf("PrivateZone", isPrivate ? "true" : "false") }
        }
        call.body = Data(w.output.utf8)
        let xml = try await client.xml(call)
        return LiveRoute53.bareId(xml.child("HostedZone")?.value("Id") ?? "")
    }
}
