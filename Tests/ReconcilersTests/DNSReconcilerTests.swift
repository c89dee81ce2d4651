import AWS
import Foundation
import HTTPTransport
import KMeshSupport
import Kuma
import ReconcileCore
import TestSupport
import Testing

@testable import Reconcilers

/// DNSReconciler on the in-memory Route 53 and Kuma: the contract in milliseconds.
struct DNSReconcilerTests {
    struct World {
        let r53 = FakeRoute53()
        let kuma = FakeKuma()
        let logs = LogCapture()
        init() { r53.addZone(id: "Z1", name: "mesh.local") }

        func service(_ name: String, _ vip: String, host: String? = nil, kind: MeshScopedCollection = .meshservices) {
            kuma.add(
                KumaResource(
                    type: "MeshService", mesh: "default", name: name,
                    status: .object([
                        "addresses": .array([.object(["hostname": .string(host ?? "\(name).mesh.local")])]),
                        "vips": .array([.object(["ip": .string(vip)])]),
                    ])), to: kind)
        }

        func reconciler(dryRun: Bool = false, edit: (inout DNSReconciler.Options) -> Void = { _ in }) -> DNSReconciler {
            var o = DNSReconciler.Options()
            o.zones = ["Z1"]
            o.dryRun = dryRun
            edit(&o)
            return DNSReconciler(route53: r53, kuma: kuma, options: o, logger: logs.logger())
        }

        func a(_ name: String) -> String? { r53.records(zone: "Z1").first { $0.name == name && $0.type == "A" }?.values.first }
    }

    @Test func convergesAndTheSecondPassOnlyReads() async {
        let w = World()
        for i in 0..<30 { w.service("s\(i)", "127.4.0.\(i + 1)") }
        let first = await w.reconciler().run()
        #expect(!first.failed && first.totals["created"] == 30, "\(first.failures)")
        #expect(w.a("s7.mesh.local.") == "127.4.0.8" && w.r53.records(zone: "Z1").count == 60)
        #expect(w.r53.calls.count("ChangeResourceRecordSets") == 1)
        let second = await w.reconciler().run()
        #expect(second.totals["unchanged"] == 30 && w.r53.calls.count("ChangeResourceRecordSets") == 1)
        #expect(
            second.calls == [
                "GET /meshes": 1, "GET /meshes/{mesh}/meshservices": 1, "GET /meshes/{mesh}/meshexternalservices": 1,
                "GET /meshes/{mesh}/meshmultizoneservices": 1, "GET /hostnamegenerators": 1, "GetHostedZone": 1,
                "ListResourceRecordSets": 1,
            ])
    }

    @Test func aWarmReconcilerReadsEachZoneOnceAndRetriesAFailedRead() async {
        let w = World()
        w.service("web", "127.4.0.2")
        w.r53.calls.failNext(
            "GetHostedZone",
            with: AWSServiceError(service: "Route 53", operation: "GetHostedZone", status: 503, code: "ServiceUnavailable", message: "down")
        )
        let reconciler = w.reconciler()
        let failed = await reconciler.run()
        #expect(failed.failed && w.r53.records(zone: "Z1").isEmpty, "a zone not read gets nothing written")
        let first = await reconciler.run()
        #expect(!first.failed && first.totals["created"] == 1 && first.calls["GetHostedZone"] == 1, "\(first.failures)")
        let second = await reconciler.run()
        #expect(!second.failed && second.totals["unchanged"] == 1 && second.calls["GetHostedZone"] == nil)
        #expect(second.calls["ListResourceRecordSets"] == 1 && w.r53.calls.count("GetHostedZone") == 2)
        let kept = reconciler.zoneCache.zone("Z1")
        #expect(kept?.name == "mesh.local." && kept?.isPrivate == true && kept?.recordCount == nil, "only what never changes is kept")
    }

    @Test func dryRunWritesNothing() async {
        let w = World()
        w.service("web", "127.4.0.2")
        let r = await w.reconciler(dryRun: true).run()
        #expect(r.totals["would-create"] == 1 && w.r53.calls.count("ChangeResourceRecordSets") == 0 && w.r53.records(zone: "Z1").isEmpty)
    }

    @Test func aRejectedBatchIsAppliedNameByName() async {
        let w = World()
        w.service("good", "127.4.0.1")
        w.service("taken", "127.4.0.2")
        // Someone creates the TXT companion's name in between: our CREATE of it fails the batch.
        w.r53.put(zone: "Z1", ResourceRecordSet(name: "_kmesh.taken.mesh.local", type: "TXT", ttl: 60, values: ["\"someone else\""]))
        let planned = await w.reconciler(dryRun: true).run()
        #expect(planned.records.first { $0.name == "taken.mesh.local." }?.action == .conflict, "a foreign companion is seen as foreign")
        w.r53.calls.failNext(
            "ChangeResourceRecordSets",
            with: AWSServiceError(
                service: "Route 53", operation: "ChangeResourceRecordSets",
                status: 400, code: "InvalidChangeBatch", message: "[bad]"))
        w.service("other", "127.4.0.3")
        let r = await w.reconciler().run()
        #expect(r.totals["created"] == 2 && r.totals["conflict"] == 1, "\(r.records)")
        #expect(w.r53.calls.count("ChangeResourceRecordSets") == 3, "one rejected batch, then one per name")
    }

    /// Route 53 applies a batch whose answer is lost; the client's retry is then rejected
    /// ("already exists", "not found"). That is our own success, read back, not a failure.
    final class LostAnswers: Route53API, Sendable {
        let inner: FakeRoute53
        let lost = Locked(1)
        init(_ inner: FakeRoute53) { self.inner = inner }
        func getHostedZone(id: String) async throws -> HostedZone { try await inner.getHostedZone(id: id) }
        func listResourceRecordSets(zoneId: String, pageSize: Int) async throws -> [ResourceRecordSet] {
            try await inner.listResourceRecordSets(zoneId: zoneId, pageSize: pageSize)
        }
        func changeResourceRecordSets(zoneId: String, comment: String?, changes: [RecordChange]) async throws -> ChangeInfo {
            let info = try await inner.changeResourceRecordSets(zoneId: zoneId, comment: comment, changes: changes)
            guard
                lost.withLock({ n in
                    defer { n -= 1 }
                    return n > 0
                })
            else { return info }
            // What the retry of the applied batch meets.
            return try await inner.changeResourceRecordSets(zoneId: zoneId, comment: comment, changes: changes)
        }
        func getChange(id: String) async throws -> ChangeInfo { try await inner.getChange(id: id) }
        var changeBatchLimits: ChangeBatchLimits { inner.changeBatchLimits }
    }

    @Test(arguments: [1, 2])
    func aRejectionThatEchoesOurOwnLostSuccessIsDone(services: Int) async {
        let w = World()
        w.r53.put(zone: "Z1", ResourceRecordSet(name: "old.mesh.local", type: "A", ttl: 60, values: ["127.4.0.50"]))
        w.r53.put(
            zone: "Z1",
            ResourceRecordSet(
                name: "_kmesh.old.mesh.local", type: "TXT", ttl: 60, values: ["\"heritage=kmesh-reconcile-dns,owner=default\""]))
        for i in 0..<services { w.service("s\(i)", "127.4.0.\(i + 1)") }
        var o = DNSReconciler.Options()
        o.zones = ["Z1"]
        let r = await DNSReconciler(route53: LostAnswers(w.r53), kuma: w.kuma, options: o, logger: w.logs.logger()).run()
        #expect(!r.failed, "\(r.failures)")
        #expect(r.totals["created"] == services && r.totals["deleted"] == 1, "\(r.records)")
        #expect(w.a("s0.mesh.local.") == "127.4.0.1" && w.a("old.mesh.local.") == nil)
        #expect(r.records.allSatisfy { $0.reason.contains("already in place") }, "\(r.records)")
        // A rejection that is not an echo stays a failure: the zone does not hold what was asked.
        w.r53.calls.failNext(
            "ChangeResourceRecordSets",
            with: AWSServiceError(
                service: "Route 53", operation: "ChangeResourceRecordSets", status: 400, code: "InvalidChangeBatch", message: "[bad]"))
        w.service("new", "127.4.0.9")
        let failed = await w.reconciler().run()
        #expect(failed.failed && failed.records.first { $0.name == "new.mesh.local." }?.action == .failed, "\(failed.records)")
    }

    @Test func aFailedListMeansNoPlanAndNothingDeleted() async {
        let w = World()
        w.service("web", "127.4.0.2")
        _ = await w.reconciler().run()
        w.kuma.calls.failNext(
            "GET /meshes/default/meshexternalservices",
            with: KumaAPIError(
                method: "GET", path: "/meshes/default/meshexternalservices",
                status: 500, title: "Internal Server Error"))
        let r = await w.reconciler().run()
        #expect(r.failed && r.errors.first?.contains("nothing was changed") == true)
        #expect(w.a("web.mesh.local.") == "127.4.0.2" && w.r53.calls.count("ListResourceRecordSets") == 1)
    }

    @Test func aPublicZoneIsRefused() async {
        let w = World()
        w.r53.addZone(id: "ZPUB", name: "example.com", isPrivate: false)
        w.service("web", "127.4.0.2", host: "web.example.com")
        let r = await w.reconciler { $0.zones = ["ZPUB"] }.run()
        #expect(r.failed && r.errors.first?.contains("is public: refused") == true)
        #expect(w.r53.records(zone: "ZPUB").isEmpty && w.r53.calls.count("ChangeResourceRecordSets") == 0)
    }

    @Test func noBatchStartsAfterTheDeadline() async {
        let w = World()
        for i in 0..<600 { w.service("s\(i)", "127.4.\(i / 250).\(i % 250)") }
        let clock = ManualClock(step: 1)
        let start = clock.now()
        let o: DNSReconciler.Options = {
            var o = DNSReconciler.Options()
            o.zones = ["Z1"]
            return o
        }()
        let r = await DNSReconciler(route53: w.r53, kuma: w.kuma, options: o, clock: clock, logger: w.logs.logger())
            .run(.all, deadline: start.addingTimeInterval(2.5))  // the pass reads T+1, the batches T+2, T+3
        #expect(r.totals["created"] == 500 && r.totals["skipped"] == 100, "\(r.totals)")
        #expect(r.records.filter { $0.action == .skipped }.allSatisfy { $0.reason.contains("deadline") })
    }
}
