import Foundation
import HTTPTransport
import KMeshSupport
import TestSupport
import Testing

@testable import AWS

/// moto ignores ListTasks pagination, so page-following is checked here against a scripted
/// in-memory HTTP peer: the logic under test is only "send the token back until there is none".
struct PaginationTests {
    final class ScriptedHTTP: HTTPClient {
        let pages: Locked<[String]>
        let seen = Locked<[String]>([])
        init(_ pages: [String]) { self.pages = Locked(pages) }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            seen.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
            let body = pages.withLock { $0.isEmpty ? "{}" : $0.removeFirst() }
            return HTTPResponse(status: 200, body: Data(body.utf8))
        }
    }

    func client(_ http: ScriptedHTTP) -> AWSClient {
        AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1"), http: http,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AK", secretAccessKey: Secret("s"), source: "test")),
            logger: .init(label: "t"))
    }

    @Test func listTasksFollowsNextTokenToTheEnd() async throws {
        let http = ScriptedHTTP([
            #"{"taskArns":["t1","t2"],"nextToken":"p2"}"#, #"{"taskArns":["t3"],"nextToken":"p3"}"#, #"{"taskArns":["t4"]}"#,
        ])
        let arns = try await LiveECS(client: client(http)).listTasks(cluster: "prod", desiredStatus: "RUNNING")
        #expect(arns == ["t1", "t2", "t3", "t4"])
        let bodies = http.seen.withLock { $0 }
        #expect(bodies.count == 3)
        #expect(bodies[0] == #"{"cluster":"prod","desiredStatus":"RUNNING","maxResults":100}"#)
        #expect(bodies[1].contains(#""nextToken":"p2""#) && bodies[2].contains(#""nextToken":"p3""#))
    }

    @Test func listClustersAndBatchGetFollowTheirTokens() async throws {
        let http = ScriptedHTTP([#"{"clusterArns":["a"],"nextToken":"x"}"#, #"{"clusterArns":["b"]}"#])
        #expect(try await LiveECS(client: client(http)).listClusters() == ["a", "b"])
        let sm = ScriptedHTTP([
            #"{"SecretValues":[{"Name":"s1","ARN":"arn1","VersionId":"v","SecretString":"{}"}],"NextToken":"n"}"#,
            #"{"Errors":[{"SecretId":"s2","ErrorCode":"ResourceNotFoundException","Message":"m"}]}"#,
        ])
        let batch = try await LiveSecretsManager(client: client(sm)).batchGetSecretValue(ids: ["s1", "s2"])
        #expect(batch.values.map(\.name) == ["s1"] && batch.errors.map(\.secretId) == ["s2"])
        #expect(sm.seen.withLock { $0 }.last?.contains(#""NextToken":"n""#) == true)
    }
}
