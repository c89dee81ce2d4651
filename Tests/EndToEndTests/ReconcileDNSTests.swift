import AWS
import Foundation
import KMeshSupport
import TestSupport
import Testing

/// reconcile-dns, the built binary, end to end: moto's Route 53 with signature checking behind the
/// fault proxy, and the Kuma stand-in seeded with mesh items and hostname generators.
struct ReconcileDNSTests {
    struct Report: Decodable {
        struct Entry: Decodable {
            let zone: String
            let name: String
            let value: String?
            let action: String
            let reason: String
        }
        let dryRun: Bool
        let zones: [String]
        let records: [Entry]
        let totals: [String: Int]
        let calls: [String: Int]
        let errors: [String]
        func entry(_ name: String) -> Entry? { records.first { $0.name == name } }
    }

    func report(_ run: BinaryRun) throws -> Report {
        do { return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8)) } catch {
            throw PeerError(message: "no JSON report (exit \(run.exitCode)): \(run.output.prefix(2000))")
        }
    }

    static let owned = "\"heritage=kmesh-reconcile-dns,owner=default\""

    @Test func convergesUpdatesOneVIPChangesNothingTwiceAndDeletesWhatIsGone() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-one.mesh.local")
        var items = [
            DNSWorld.item("redis", vip: "127.4.0.1", hostnames: ["redis.e2e-one.mesh.local"]),
            DNSWorld.item("web", vip: "127.4.0.2", hostnames: ["web.e2e-one.mesh.local", "www.e2e-one.mesh.local"]),
            DNSWorld.item("api", vip: "127.4.0.3", hostnames: ["api.e2e-one.mesh.local"]),
            DNSWorld.item("pay", type: "MeshExternalService", vip: "127.3.0.1", hostnames: ["pay.e2e-one.mesh.local"]),
            DNSWorld.item("global", type: "MeshMultiZoneService", vip: "127.2.0.1", hostnames: ["global.e2e-one.mesh.local"]),
            DNSWorld.item("pending", vip: nil, hostnames: ["pending.e2e-one.mesh.local"]),
        ]
        try await w.kuma.addResources(items)

        let first = try await w.reconcile(zones: [zone])
        #expect(first.exitCode == 0, "\(first.output)")
        let r1 = try report(first)
        #expect(r1.totals["created"] == 6 && r1.records.count == 6)
        #expect(try await w.a(zone, "www.e2e-one.mesh.local") == "127.4.0.2")
        #expect(try await w.a(zone, "pay.e2e-one.mesh.local") == "127.3.0.1")
        let txt = try await w.records(zone).filter { $0.type == "TXT" }
        #expect(txt.count == 6 && txt.allSatisfy { $0.values == [Self.owned] && $0.name.lowercased().hasPrefix("_kmesh.") })
        #expect(try await w.a(zone, "pending.e2e-one.mesh.local") == nil, "no VIP yet: not published")
        #expect(try await w.proxy.forwarded("Route53.ChangeResourceRecordSets") == 1)

        // Nothing changed: reads only.
        let second = try report(try await w.reconcile(zones: [zone]))
        #expect(second.totals["unchanged"] == 6 && second.calls["ChangeResourceRecordSets"] == nil)
        #expect(try await w.proxy.forwarded("Route53.ChangeResourceRecordSets") == 1)

        // One VIP moves: one UPSERT.
        items[0] = DNSWorld.item("redis", vip: "127.4.0.9", hostnames: ["redis.e2e-one.mesh.local"])
        try await w.kuma.replaceResources(items)
        let moved = try report(try await w.reconcile(zones: [zone]))
        #expect(moved.totals["updated"] == 1 && moved.entry("redis.e2e-one.mesh.local.")?.reason.contains("was 127.4.0.1") == true)
        #expect(try await w.a(zone, "redis.e2e-one.mesh.local") == "127.4.0.9")
        #expect(try await w.proxy.forwarded("Route53.ChangeResourceRecordSets") == 2)

        // Two services go (redis, and web with its two names): their A and TXT records are deleted (sync).
        try await w.kuma.replaceResources(Array(items.dropFirst(2)))
        let gone = try await w.reconcile(zones: [zone])
        #expect(gone.exitCode == 0, "\(gone.output)")
        #expect(try report(gone).totals["deleted"] == 3)
        #expect(try await w.records(zone).filter { $0.name.lowercased().contains("redis") }.isEmpty)
        #expect(try await w.a(zone, "web.e2e-one.mesh.local") == nil)
        #expect(try await w.a(zone, "api.e2e-one.mesh.local") == "127.4.0.3")
        #expect(!gone.output.contains(w.kuma.adminToken.value) && !gone.output.contains(w.moto.admin.secretAccessKey.value))
    }

    @Test(arguments: ["upsert-only", "create-only"])
    func policiesThatKeepWhatIsGone(_ policy: String) async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-\(policy).mesh.local")
        try await w.kuma.addResources([
            DNSWorld.item("a", vip: "127.4.0.1", hostnames: ["a.e2e-\(policy).mesh.local"]),
            DNSWorld.item("b", vip: "127.4.0.2", hostnames: ["b.e2e-\(policy).mesh.local"]),
        ])
        #expect(try await w.reconcile(zones: [zone], ["--policy", policy]).exitCode == 0)
        try await w.kuma.replaceResources([DNSWorld.item("b", vip: "127.4.0.7", hostnames: ["b.e2e-\(policy).mesh.local"])])
        let run = try await w.reconcile(zones: [zone], ["--policy", policy])
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(try await w.a(zone, "a.e2e-\(policy).mesh.local") == "127.4.0.1", "kept")
        #expect(try await w.a(zone, "b.e2e-\(policy).mesh.local") == (policy == "upsert-only" ? "127.4.0.7" : "127.4.0.2"))
    }

    @Test func foreignRecordsAreUntouchedAndAMissingAIsRecreatedAndNamesAreCanonical() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-own.mesh.local")
        let direct = w.route53
        _ = try await direct.changeResourceRecordSets(
            zoneId: zone, comment: nil,
            changes: [
                RecordChange(.create, ResourceRecordSet(name: "legacy.e2e-own.mesh.local", type: "A", ttl: 300, values: ["10.0.0.5"])),
                // Ours, but someone deleted the A by hand.
                RecordChange(
                    .create, ResourceRecordSet(name: "_kmesh.orphan.e2e-own.mesh.local", type: "TXT", ttl: 60, values: [Self.owned])),
            ])
        try await w.kuma.addResources([
            DNSWorld.item("legacy", vip: "127.4.0.1", hostnames: ["legacy.e2e-own.mesh.local"]),
            DNSWorld.item("orphan", vip: "127.4.0.2", hostnames: ["orphan.e2e-own.mesh.local"]),
            DNSWorld.item("Upper", vip: "127.4.0.3", hostnames: ["Upper.E2E-Own.Mesh.Local."]),
            DNSWorld.item("wild", vip: "127.4.0.4", hostnames: ["*.wild.e2e-own.mesh.local"]),
            DNSWorld.item("six", vip: "fd00::6", hostnames: ["six.e2e-own.mesh.local"]),
        ])
        let run = try await w.reconcile(zones: [zone])
        #expect(run.exitCode == 0, "a conflict is reported, not a failure: \(run.output)")
        let r = try report(run)
        #expect(r.entry("legacy.e2e-own.mesh.local.")?.action == "conflict")
        #expect(try await w.a(zone, "legacy.e2e-own.mesh.local") == "10.0.0.5", "the foreign record is untouched")
        #expect(r.entry("orphan.e2e-own.mesh.local.")?.action == "created")
        #expect(try await w.a(zone, "orphan.e2e-own.mesh.local") == "127.4.0.2")
        #expect(r.entry("upper.e2e-own.mesh.local.")?.action == "created")
        #expect(r.entry("\\052.wild.e2e-own.mesh.local.")?.action == "created")
        #expect(
            r.entry("six.e2e-own.mesh.local.")?.action == "skipped" && r.entry("six.e2e-own.mesh.local.")?.reason.contains("IPv6") == true)
        // moto keeps names as written; the second pass still sees every name as its own and up to date.
        let again = try report(try await w.reconcile(zones: [zone]))
        #expect(again.totals["unchanged"] == 3 && again.totals["created"] == 0 && again.totals["conflict"] == 1, "\(again.records)")
    }

    @Test func guardsRefuseMassAndEmptySourceDeletes() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-guard.mesh.local")
        let items = (0..<10).map { DNSWorld.item("s\($0)", vip: "127.4.0.\($0 + 1)", hostnames: ["s\($0).e2e-guard.mesh.local"]) }
        try await w.kuma.addResources(items)
        #expect(try await w.reconcile(zones: [zone]).exitCode == 0)

        try await w.kuma.replaceResources(Array(items.prefix(2)))
        let mass = try await w.reconcile(zones: [zone])
        #expect(try mass.exitCode == 1 && report(mass).errors.first?.contains("run once with --force") == true, "\(mass.output)")
        #expect(try await w.records(zone).filter { $0.type == "A" }.count == 10, "nothing deleted")

        try await w.kuma.replaceResources([])
        let empty = try await w.reconcile(zones: [zone])
        #expect(try empty.exitCode == 1 && report(empty).errors.first?.contains("--allow-empty-source") == true)
        #expect(try await w.records(zone).filter { $0.type == "A" }.count == 10)

        try await w.kuma.replaceResources(Array(items.prefix(2)))
        let forced = try await w.reconcile(zones: [zone], ["--force"])
        #expect(try forced.exitCode == 0 && report(forced).totals["deleted"] == 8)
        try await w.kuma.replaceResources([])
        let allowed = try await w.reconcile(zones: [zone], extra: ["KMESH_DNS_ALLOW_EMPTY_SOURCE": "true"])
        #expect(try allowed.exitCode == 0 && report(allowed).totals["deleted"] == 2, "2 deletes: under the mass-delete floor")
    }

    /// The lists are read together: with every list answering 300 ms late, the control plane sees as
    /// many requests at once as the bound allows (ten lists, eight in flight), and the pass still
    /// publishes every mesh's names in the lists' order.
    @Test func theListsAreReadTogetherWithinTheirBound() async throws {
        let meshes = ["default", "m2", "m3"]
        let w = try await DNSWorld.make(meshes: meshes)
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-together.mesh.local")
        try await w.kuma.addResources(
            meshes.enumerated().map { i, mesh in
                DNSWorld.item("s\(i)", mesh: mesh, vip: "127.4.0.\(i + 1)", hostnames: ["s\(i).e2e-together.mesh.local"])
            })
        for mesh in meshes {
            for collection in ["meshservices", "meshexternalservices", "meshmultizoneservices"] {
                try await w.kuma.fault("delay", path: "/meshes/\(mesh)/\(collection)", count: -1, delayMs: 300)
            }
        }
        try await w.kuma.fault("delay", path: "/hostnamegenerators", count: -1, delayMs: 300)
        let run = try await w.reconcile(zones: [zone])
        #expect(run.exitCode == 0, "\(run.output)")
        let r = try report(run)
        #expect(r.totals["created"] == 3)
        #expect(r.records.map(\.name) == ["s0.e2e-together.mesh.local.", "s1.e2e-together.mesh.local.", "s2.e2e-together.mesh.local."])
        let concurrency = try await w.kuma.control("GET", "concurrency") as? [String: Any]
        #expect(concurrency?["max_in_flight"] as? Int == 8, "\(String(describing: concurrency))")
        #expect(try await w.a(zone, "s2.e2e-together.mesh.local") == "127.4.0.3")
    }

    @Test func aKumaFailureDeletesNothing() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-down.mesh.local")
        try await w.kuma.addResources([DNSWorld.item("a", vip: "127.4.0.1", hostnames: ["a.e2e-down.mesh.local"])])
        #expect(try await w.reconcile(zones: [zone]).exitCode == 0)
        try await w.kuma.fault("500", path: "/meshes/default/meshmultizoneservices", count: -1)
        let failing = try await w.reconcile(zones: [zone])
        #expect(try failing.exitCode == 1 && report(failing).errors.first?.contains("nothing was changed") == true)
        let down = try await w.reconcile(zones: [zone], extra: ["KUMA_API_SERVER_URL": "http://127.0.0.1:1"])
        #expect(try down.exitCode == 1 && report(down).errors.first?.contains("unreachable") == true)
        #expect(try await w.a(zone, "a.e2e-down.mesh.local") == "127.4.0.1")
        #expect(try await w.proxy.forwarded("Route53.ChangeResourceRecordSets") == 1)
    }

    @Test func aPublicZoneIsRefusedAndGeneratorsChooseTheirZones() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let publicZone = try await w.seed.createHostedZone("e2e-public.example.com", isPrivate: false)
        let generated = try await w.seed.createHostedZone("e2e-gen.mesh.local")
        let zone1 = try await w.seed.createHostedZone("e2e-z1.mesh.local")
        let zone2 = try await w.seed.createHostedZone("e2e-z2.mesh.local")
        try await w.kuma.addResources([
            DNSWorld.generator("route53-one", zone: generated),
            DNSWorld.generator("route53-per-zone", perKumaZone: ["zone-1": zone1, "zone-2": zone2]),
            DNSWorld.item("a", vip: "127.4.0.1", hostnames: ["a.e2e-gen.mesh.local"], generator: "route53-one"),
            DNSWorld.item("b", vip: "127.4.0.2", hostnames: ["b.e2e-z2.mesh.local"], generator: "route53-per-zone", kumaZone: "zone-2"),
            DNSWorld.item("c", vip: "127.4.0.3", hostnames: ["c.e2e-public.example.com"]),
        ])
        let run = try await w.reconcile(zones: [publicZone])
        #expect(run.exitCode == 1, "the public zone is refused: \(run.output)")
        let r = try report(run)
        #expect(r.errors.contains { $0.contains("\(publicZone)") && $0.contains("is public: refused") })
        #expect(try await w.records(publicZone).allSatisfy { $0.type == "NS" || $0.type == "SOA" })
        #expect(try await w.a(generated, "a.e2e-gen.mesh.local") == "127.4.0.1")
        #expect(try await w.a(zone2, "b.e2e-z2.mesh.local") == "127.4.0.2")
        #expect(try await w.records(zone1).filter { $0.type == "A" }.isEmpty)
    }

    @Test func dryRunWritesNothingAndThrottlingBurstsConverge() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-throttle.mesh.local")
        try await w.kuma.addResources(
            (0..<5).map { DNSWorld.item("s\($0)", vip: "127.4.0.\($0 + 1)", hostnames: ["s\($0).e2e-throttle.mesh.local"]) })
        let dry = try await w.reconcile(zones: [zone], ["--dry-run"])
        #expect(try dry.exitCode == 0 && report(dry).totals["would-create"] == 5)
        #expect(try await w.proxy.total("Route53.ChangeResourceRecordSets") == 0)
        try await w.proxy.inject("Throttling", operation: "Route53.ChangeResourceRecordSets", count: 1)
        try await w.proxy.inject("PriorRequestNotComplete", operation: "Route53.ChangeResourceRecordSets", count: 1)
        try await w.proxy.inject("Throttling", operation: "Route53.ListResourceRecordSets", count: 1)
        let run = try await w.reconcile(zones: [zone], extra: ["AWS_MAX_ATTEMPTS": "5"])
        #expect(try run.exitCode == 0 && report(run).totals["created"] == 5, "\(run.output)")
        #expect(try await w.proxy.total("Route53.ChangeResourceRecordSets") == 3)
    }

    @Test func twoThousandFiveHundredServicesStayWithinEveryLimit() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let zone = try await w.seed.createHostedZone("e2e-big.mesh.local")
        try await w.kuma.addResources(
            (0..<2500).map {
                DNSWorld.item("svc-\($0)", vip: "127.4.\($0 / 250).\($0 % 250 + 1)", hostnames: ["svc-\($0).e2e-big.mesh.local"])
            })
        let run = try await w.reconcile(zones: [zone], extra: ["KMESH_ROUTE53_RPS": "5"])
        #expect(run.exitCode == 0, "\(run.output.suffix(2000))")
        let r = try report(run)
        #expect(r.totals["created"] == 2500)
        // 2,500 A + 2,500 TXT: 5,000 records (5 batches by count) and about 143,000 value characters (5 by size).
        let changes = try #require(r.calls["ChangeResourceRecordSets"])
        #expect(changes >= 5 && changes <= 6, "\(changes) change calls")
        let times = try await w.proxy.arrivals().filter { $0.key.hasPrefix("Route53.") }.flatMap(\.value).sorted()
        #expect(times.count >= 7)
        let worst = times.indices.map { i in times[i...].prefix { $0 < times[i] + 1.0 }.count }.max() ?? 0
        #expect(worst <= 5, "\(worst) Route 53 requests within one second")
        #expect(try await w.records(zone).filter { $0.type == "A" }.count == 2500)
    }

    @Test func badFlagsAndSettings() async throws {
        let usage = try await Binaries.run("reconcile-dns", ["--policy", "mirror"], environment: [:])
        #expect(usage.exitCode == 64 && usage.stderr.contains("--policy is \"mirror\""))
        let config = try await Binaries.run(
            "reconcile-dns", [],
            environment: [
                "KUMA_API_SERVER_URL": "http://127.0.0.1:1", "KUMA_API_TOKEN": "t",
                "KMESH_DNS_TTL": "soon",
            ])
        #expect(config.exitCode == 78 && config.stderr.contains("KMESH_DNS_TTL is \"soon\""))
        let help = try await Binaries.run("reconcile-dns", ["--help"], environment: [:])
        #expect(help.exitCode == 0 && help.stdout.contains("KMESH_DNS_MAX_DELETE_FRACTION") && help.stdout.contains("default 0.5"))
    }
}
