import AWS
import TestSupport
import Testing

/// The Route 53 fake keeps AWS's batch rules, so that planners tested against it meet them.
struct FakeRoute53Tests {
    func zone() -> FakeRoute53 {
        let r53 = FakeRoute53()
        r53.addZone(id: "Z1", name: "mesh.local")
        return r53
    }

    func a(_ name: String, _ ip: String, ttl: Int = 60) -> ResourceRecordSet {
        ResourceRecordSet(name: name, type: "A", ttl: ttl, values: [ip])
    }

    @Test func aBatchIsAtomicAndCreateOfAnExistingNameFailsIt() async throws {
        let r53 = zone()
        _ = try await r53.changeResourceRecordSets(
            zoneId: "Z1", comment: nil, changes: [RecordChange(.create, a("Redis.mesh.local", "127.4.0.1"))])
        #expect(r53.records(zone: "Z1").map(\.name) == ["redis.mesh.local."], "stored lower case with the trailing dot")
        let error = await #expect(throws: AWSServiceError.self) {
            try await r53.changeResourceRecordSets(
                zoneId: "Z1", comment: nil,
                changes: [
                    RecordChange(.create, a("web.mesh.local", "127.4.0.2")), RecordChange(.create, a("redis.mesh.local.", "127.4.0.9")),
                ])
        }
        #expect(error?.code == "InvalidChangeBatch" && error?.message.contains("already exists") == true)
        #expect(r53.records(zone: "Z1").count == 1, "nothing of a failed batch applies")
    }

    @Test func deleteMustRepeatTheExactRecordAndTXTMustBeQuoted() async throws {
        let r53 = zone()
        r53.put(zone: "Z1", a("db.mesh.local", "127.4.0.3", ttl: 300))
        let mismatch = await #expect(throws: AWSServiceError.self) {
            try await r53.changeResourceRecordSets(
                zoneId: "Z1", comment: nil, changes: [RecordChange(.delete, a("db.mesh.local", "127.4.0.3"))])
        }
        #expect(mismatch?.message.contains("do not match") == true)
        _ = try await r53.changeResourceRecordSets(
            zoneId: "Z1", comment: nil, changes: [RecordChange(.delete, a("db.mesh.local", "127.4.0.3", ttl: 300))])
        #expect(r53.records(zone: "Z1").isEmpty)
        await #expect(throws: AWSServiceError.self) {
            try await r53.changeResourceRecordSets(
                zoneId: "Z1", comment: nil,
                changes: [
                    RecordChange(.create, ResourceRecordSet(name: "_kmesh.db.mesh.local", type: "TXT", ttl: 60, values: ["heritage=x"]))
                ])
        }
    }

    @Test func batchLimitsCountUpsertTwice() async throws {
        let r53 = zone()
        let creates = (0..<1000).map { RecordChange(.create, a("h\($0).mesh.local", "127.4.\($0 / 250).\($0 % 250)")) }
        _ = try await r53.changeResourceRecordSets(zoneId: "Z1", comment: nil, changes: creates)
        let upserts = (0..<501).map { RecordChange(.upsert, a("h\($0).mesh.local", "127.5.0.1")) }
        let error = await #expect(throws: AWSServiceError.self) {
            try await r53.changeResourceRecordSets(zoneId: "Z1", comment: nil, changes: upserts)
        }
        #expect(error?.message.contains("exceeds the limit of 1000") == true)
        let zone = try await r53.getHostedZone(id: "/hostedzone/Z1")
        #expect(zone.isPrivate && zone.recordCount == 1000)
    }
}
