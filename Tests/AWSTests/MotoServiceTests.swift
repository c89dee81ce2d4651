import AWS
import Foundation
import KMeshSupport
import TestSupport
import Testing

/// The live clients against moto with signature checking on. Every request, seeding included, is
/// signed by the project's own signer with a key moto created; a bad signature would fail it.
struct MotoECSTests {
    @Test func listClustersListTasksAndDescribeTasksWithTags() async throws {
        let moto = try await MotoPeer.get()
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin, region: "eu-west-1")
        let seed = AWSSeeder(client: client)
        let prod = try await seed.createCluster("ecs-test-prod")
        let staging = try await seed.createCluster("ecs-test-staging")
        let meshed = try await seed.runTasks(
            cluster: "ecs-test-prod", count: 3, tags: ["kuma.io/service": "backend", "kuma.io/mesh": "payments"])
        let plain = try await seed.runTasks(cluster: "ecs-test-prod", family: "plain", count: 2, tags: ["team": "web"])
        _ = try await seed.runTasks(cluster: "ecs-test-staging", count: 1, tags: ["kuma.io/service": "frontend"])

        let ecs = LiveECS(client: client)
        let clusters = try await ecs.listClusters()
        #expect(clusters.contains(prod) && clusters.contains(staging))

        let tasks = try await ecs.listTasks(cluster: "ecs-test-prod", desiredStatus: "RUNNING")
        #expect(Set(tasks) == Set(meshed + plain))

        let described = try await ecs.describeTasks(cluster: prod, taskArns: tasks)
        #expect(described.failures.isEmpty)
        #expect(described.tasks.count == 5)
        let backend = described.tasks.filter { $0.tag("kuma.io/service") == "backend" }
        #expect(Set(backend.map(\.taskArn)) == Set(meshed))
        #expect(backend.allSatisfy { $0.tag("kuma.io/mesh") == "payments" && $0.desiredStatus == "RUNNING" })
        #expect(described.tasks.filter { $0.tag("team") == "web" }.count == 2)
        #expect(try await ecs.describeTasks(cluster: prod, taskArns: []).tasks.isEmpty)
    }
}

struct MotoSecretsManagerTests {
    /// The same operations with long-term keys and with temporary credentials carrying a session
    /// token (obtained from moto's STS through the web-identity provider).
    @Test(arguments: ["static keys", "session token"])
    func getBatchPutDescribeAndUpdateStage(_ mode: String) async throws {
        let moto = try await MotoPeer.get()
        let provider: any CredentialProvider
        if mode == "static keys" {
            provider = StaticCredentialProvider(moto.admin)
        } else {
            let sts = STSClient(client: TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin))
            let temporary = try await sts.assumeRoleWithWebIdentity(
                roleArn: moto.roleArn, sessionName: "sm-test", token: Secret("oidc-token-value"))
            #expect(temporary.sessionToken != nil)
            provider = StaticCredentialProvider(temporary)
        }
        let client = TestAWS.client(endpoint: moto.baseURL, provider: provider, region: "eu-central-1")
        let prefix = "sm-test-\(mode == "static keys" ? "static" : "session")-\(UUID().uuidString.prefix(6))/"
        let seed = AWSSeeder(client: client)
        let arnA = try await seed.createSecret(prefix + "a", value: "{}")
        _ = try await seed.createSecret(prefix + "b", value: #"{"token":"old","other":"kept"}"#)
        let sm = LiveSecretsManager(client: client)

        let a = try await sm.getSecretValue(id: prefix + "a", versionStage: nil, versionId: nil)
        #expect(a.arn == arnA && a.secretString?.value == "{}" && a.versionStages.contains("AWSCURRENT"))

        let batch = try await sm.batchGetSecretValue(ids: [prefix + "a", prefix + "b", prefix + "missing"])
        #expect(Set(batch.values.map(\.name)) == [prefix + "a", prefix + "b"])
        #expect(batch.errors.map(\.secretId) == [prefix + "missing"])
        #expect(batch.errors.first?.errorCode == "ResourceNotFoundException")

        let token = "kmesh-" + String(repeating: "a", count: 32)
        let put = try await sm.putSecretValue(
            id: prefix + "a", clientRequestToken: token, secretString: Secret(#"{"token":"new"}"#), versionStages: nil)
        #expect(put.versionId == token)
        #expect(try await sm.getSecretValue(id: prefix + "a", versionStage: nil, versionId: nil).secretString?.value == #"{"token":"new"}"#)
        // The same token with the same value is a no-op, with another value an error.
        _ = try await sm.putSecretValue(
            id: prefix + "a", clientRequestToken: token, secretString: Secret(#"{"token":"new"}"#), versionStages: nil)
        let clash = await #expect(throws: AWSServiceError.self) {
            try await sm.putSecretValue(
                id: prefix + "a", clientRequestToken: token, secretString: Secret(#"{"token":"other"}"#), versionStages: nil)
        }
        #expect(clash?.code == "ResourceExistsException")

        let described = try await sm.describeSecret(id: prefix + "a")
        #expect(described.currentVersionId == token)
        let previous = try #require(described.versionIdsToStages.first { $0.value.contains("AWSPREVIOUS") }?.key)

        // Move AWSCURRENT back to the first version.
        try await sm.updateSecretVersionStage(id: prefix + "a", stage: "AWSCURRENT", moveToVersionId: previous, removeFromVersionId: token)
        #expect(try await sm.describeSecret(id: prefix + "a").currentVersionId == previous)
        #expect(try await sm.getSecretValue(id: prefix + "a", versionStage: "AWSCURRENT", versionId: nil).secretString?.value == "{}")

        let missing = await #expect(throws: AWSServiceError.self) {
            try await sm.getSecretValue(id: prefix + "missing", versionStage: nil, versionId: nil)
        }
        #expect(missing?.code == "ResourceNotFoundException")
        #expect(missing?.description.contains("Secrets Manager GetSecretValue failed: ResourceNotFoundException") == true)
    }
}

struct MotoRoute53Tests {
    @Test func zoneReadChangeAndAListOverSeveralPages() async throws {
        let moto = try await MotoPeer.get()
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin)
        let zoneId = try await AWSSeeder(client: client).createHostedZone("r53-test-\(UUID().uuidString.prefix(6).lowercased()).mesh.local")
        let r53 = LiveRoute53(client: client)

        let zone = try await r53.getHostedZone(id: "/hostedzone/" + zoneId)
        #expect(zone.id == zoneId && zone.isPrivate && zone.name.hasSuffix(".mesh.local."))

        let names = (0..<25).map { "svc-\($0).\(zone.name)" }
        let changes =
            names.enumerated().map { i, name in
                RecordChange(.create, ResourceRecordSet(name: name, type: "A", ttl: 60, values: ["127.4.0.\(i + 1)"]))
            } + [
                RecordChange(
                    .create, ResourceRecordSet(name: "svc-0.\(zone.name)", type: "TXT", ttl: 300, values: ["\"heritage=kmesh-ecs\""]))
            ]
        let info = try await r53.changeResourceRecordSets(zoneId: zoneId, comment: "kmesh-ecs test", changes: changes)
        #expect(!info.id.isEmpty)
        #expect(["PENDING", "INSYNC"].contains(try await r53.getChange(id: info.id).status))

        // 25 A + 1 TXT + the zone's SOA and NS, 7 per page: 5 pages.
        let listed = try await r53.listResourceRecordSets(zoneId: zoneId, pageSize: 7)
        #expect(listed.count == 28)
        #expect(Set(listed.filter { $0.type == "A" }.map(\.name)) == Set(names))
        #expect(listed.first { $0.type == "A" && $0.name == "svc-3.\(zone.name)" }?.values == ["127.4.0.4"])
        #expect(listed.first { $0.type == "TXT" }?.values == ["\"heritage=kmesh-ecs\""])
        #expect(Set(listed.map { "\($0.name)|\($0.type)" }).count == 28, "a page boundary repeated or lost a record")

        let deleted = try await r53.changeResourceRecordSets(
            zoneId: zoneId, comment: nil,
            changes: [
                RecordChange(.delete, ResourceRecordSet(name: names[0], type: "A", ttl: 60, values: ["127.4.0.1"]))
            ])
        #expect(!deleted.id.isEmpty)
        #expect(try await r53.listResourceRecordSets(zoneId: zoneId, pageSize: 300).count == 27)
    }
}

struct SignatureCheckTests {
    @Test func wrongSecretKeyGivesAClearSignatureError() async throws {
        let moto = try await MotoPeer.get()
        var wrong = moto.admin
        wrong.secretAccessKey = Secret("definitely-not-the-key")
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: wrong)
        for call in [
            { _ = try await LiveECS(client: client).listClusters() },
            { _ = try await LiveRoute53(client: client).getHostedZone(id: "Z1") },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: AWSServiceError.self) { try await call() }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.status == 403)
            #expect(error?.description.contains("signature does not match") == true)
            #expect(error?.description.contains("definitely-not-the-key") == false)
        }
    }

    @Test func accessDeniedNamesTheMissingPermission() async throws {
        let moto = try await MotoPeer.get()
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: moto.limited)
        _ = try await LiveECS(client: client).listClusters()  // allowed
        let error = await #expect(throws: AWSServiceError.self) {
            try await LiveSecretsManager(client: client).describeSecret(id: "anything")
        }
        #expect(error?.isAccessDenied == true)
        #expect(error?.description.contains("does not allow secretsmanager:DescribeSecret") == true)
    }
}
