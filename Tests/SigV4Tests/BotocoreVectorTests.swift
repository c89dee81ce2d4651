import Foundation
import KMeshSupport
import Testing

@testable import SigV4

/// Vectors made once by botocore's SigV4Auth (scripts/make-sigv4-vectors.py) for the requests this
/// project sends: ECS, Secrets Manager with and without a session token, Route 53 GET with a query
/// and POST with XML, STS. Committed, so this runs in every clone.
struct BotocoreVectorTests {
    struct File: Decodable {
        let generator: String
        let cases: [Vector]
    }
    struct Vector: Decodable, CustomTestStringConvertible {
        let name, service, region, accessKeyId, secretAccessKey, timestamp, method, path, query, body: String
        let sessionToken: String?
        let headers: [[String]]
        let expected: Expected
        var testDescription: String { name }
    }
    struct Expected: Decodable {
        let canonicalRequest, stringToSign, authorization, amzDate: String
        let securityToken: String?
    }

    static let vectors: [Vector] = {
        let url = Bundle.module.url(forResource: "Vectors/botocore-vectors", withExtension: "json")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }()

    @Test("the committed file covers every request kind the project sends")
    func coverage() {
        let names = Set(Self.vectors.map(\.name))
        #expect(Self.vectors.count >= 10)
        for prefix in ["ecs-", "secretsmanager-", "route53-list", "route53-change", "route53-get", "sts-"] {
            #expect(names.contains { $0.hasPrefix(prefix) }, "no vector for \(prefix)")
        }
        #expect(Self.vectors.contains { $0.sessionToken != nil && $0.service == "secretsmanager" })
    }

    @Test("signature equals botocore's", arguments: vectors)
    func matchesBotocore(_ v: Vector) throws {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyId: v.accessKeyId, secretAccessKey: Secret(v.secretAccessKey),
                sessionToken: v.sessionToken.map(Secret.init)),
            region: v.region, service: v.service)
        let date = try #require(UTCTime.parseISO8601(v.timestamp))
        let result = signer.sign(
            SigV4Request(
                method: v.method, path: v.path, query: v.query,
                headers: v.headers.map { ($0[0], $0[1]) }, body: Array(v.body.utf8)),
            date: date)
        #expect(result.canonicalRequest == v.expected.canonicalRequest)
        #expect(result.stringToSign == v.expected.stringToSign)
        let added = Dictionary(result.headersToAdd.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(added["Authorization"] == v.expected.authorization)
        #expect(added["X-Amz-Date"] == v.expected.amzDate)
        #expect(added["X-Amz-Security-Token"] == v.expected.securityToken)
    }
}
