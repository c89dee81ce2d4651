import Testing

@testable import ReconcileCore

struct DNSNameTests {
    @Test(arguments: [
        ("Redis.Mesh.Local", "redis.mesh.local."), ("redis.mesh.local.", "redis.mesh.local."), ("*.mesh.local", "\\052.mesh.local."),
        ("\\052.mesh.local.", "\\052.mesh.local."), ("\\101pi.mesh.local", "api.mesh.local."),
        ("my_svc-1.mesh.local", "my_svc-1.mesh.local."),
        ("a b.mesh.local", "a\\040b.mesh.local."),
    ])
    func canonicalForms(_ input: String, _ expected: String) {
        #expect(DNSName.canonical(input) == expected)
        #expect(DNSName.canonical(DNSName.canonical(input)) == expected, "canonical is idempotent")
    }

    @Test func withinAndProblems() {
        #expect(DNSName.isWithin("redis.svc.mesh.local.", zone: "mesh.local."))
        #expect(!DNSName.isWithin("redis.notmesh.local.", zone: "mesh.local."))
        #expect(DNSName.problem(with: "a..b.") != nil && DNSName.problem(with: String(repeating: "a", count: 64) + ".x.") != nil)
        #expect(DNSName.problem(with: "ok.mesh.local.") == nil)
    }
}

struct DesiredRecordsTests {
    let zone = ZoneRef(id: "Z1", name: "mesh.local")
    let inner = ZoneRef(id: "Z2", name: "svc.mesh.local")

    func item(
        _ name: String, vip: String?, _ hosts: [String], generator: String? = nil, kumaZone: String? = nil,
        kind: String = "MeshService"
    ) -> MeshAddressSource {
        MeshAddressSource(
            kind: kind, mesh: "default", name: name, kumaZone: kumaZone,
            addresses: hosts.map { .init(hostname: $0, generator: generator) }, vips: vip.map { [$0] } ?? [])
    }

    @Test func zonesByGeneratorThenLongestSuffixAndWhatIsNotPublished() {
        let d = DesiredRecords.from(
            [
                item("redis", vip: "127.4.0.1", ["redis.svc.mesh.local"]), item("web", vip: "127.4.0.2", ["web.mesh.local"]),
                item("gen", vip: "127.4.0.3", ["gen.other.local"], generator: "g1"),
                item("perzone", vip: "127.4.0.4", ["pz.other.local"], generator: "g2", kumaZone: "zone-2"),
                item("v6", vip: "fd00::1", ["v6.mesh.local"]), item("novip", vip: nil, ["novip.mesh.local"]),
                item("elsewhere", vip: "127.4.0.5", ["x.example.com"]),
            ],
            generators: ["g1": GeneratorZones(hostedZoneId: "Z9"), "g2": GeneratorZones(hostedZones: ["zone-1": "Z7", "zone-2": "Z8"])],
            fallback: [zone, inner], zoneNames: ["Z1": "mesh.local.", "Z2": "svc.mesh.local."])
        #expect(d.zones["Z2"]?["redis.svc.mesh.local."]?.value == "127.4.0.1", "the longest suffix wins")
        #expect(d.zones["Z1"]?.keys.sorted() == ["web.mesh.local."])
        #expect(d.zones["Z9"]?["gen.other.local."] != nil && d.zones["Z8"]?["pz.other.local."] != nil)
        #expect(d.notPublished.contains { $0.hostname == "v6.mesh.local." && $0.reported && $0.reason.contains("IPv6") })
        #expect(d.notPublished.contains { $0.hostname == "x.example.com." && !$0.reported })
        #expect(!d.notPublished.contains { $0.hostname == "novip.mesh.local." } && d.count == 4)
    }

    @Test func twoValuesForOneNameAreAConflict() {
        let d = DesiredRecords.from(
            [
                item("a", vip: "127.4.0.1", ["x.mesh.local"]), item("b", vip: "127.4.0.2", ["X.mesh.local."]),
                item("c", vip: "127.4.0.3", ["same.mesh.local"]), item("d", vip: "127.4.0.3", ["same.mesh.local"]),
            ],
            generators: [:], fallback: [zone], zoneNames: [:])
        #expect(d.conflicts["Z1"]?["x.mesh.local."]?.count == 2 && d.zones["Z1"]?["x.mesh.local."] == nil)
        #expect(d.zones["Z1"]?["same.mesh.local."]?.value == "127.4.0.3", "the same value twice is no conflict")
    }
}

struct DNSPlanTests {
    let options = DNSPlan.Options(owner: "prod")
    var owned: String { options.ownershipValue }

    func a(_ name: String, _ ip: String, ttl: Int = 60) -> ZoneRecord { ZoneRecord(name: name, type: "A", ttl: ttl, values: [ip]) }
    func txt(_ name: String, _ value: String? = nil) -> ZoneRecord {
        ZoneRecord(name: "_kmesh." + name, type: "TXT", ttl: 60, values: [value ?? owned])
    }
    func want(_ pairs: [(String, String)]) -> [String: DesiredRecords.Record] {
        Dictionary(
            uniqueKeysWithValues: pairs.map { ($0.0, DesiredRecords.Record(name: $0.0, value: $0.1, source: "MeshService default/x")) })
    }
    func plan(_ current: [ZoneRecord], _ desired: [(String, String)], options o: DNSPlan.Options? = nil, empty: Bool? = nil) -> DNSPlan {
        DNSPlan.make(
            zone: "Z1", current: current, desired: want(desired), conflicts: [:], sourceIsEmpty: empty ?? desired.isEmpty,
            options: o ?? options)
    }

    @Test func currentEqualsDesiredGivesNoChange() {
        let p = plan(
            [a("web.mesh.local.", "127.4.0.2"), txt("web.mesh.local."), a("Redis.mesh.local", "127.4.0.1"), txt("redis.mesh.local.")],
            [("web.mesh.local.", "127.4.0.2"), ("redis.mesh.local.", "127.4.0.1")])
        #expect(p.changes.isEmpty && p.refusal == nil && p.owned == 2)
        #expect(p.entries.map(\.action) == [.unchanged, .unchanged])
    }

    @Test func createsUpdatesAndDeletesOnlyWhatItOwns() {
        let p = plan(
            [
                a("old.mesh.local.", "127.4.0.9"), txt("old.mesh.local."), a("moved.mesh.local.", "127.4.0.1"), txt("moved.mesh.local."),
                a("foreign.mesh.local.", "10.0.0.1"), txt("orphan.mesh.local."),
            ],
            [
                ("new.mesh.local.", "127.4.0.5"), ("moved.mesh.local.", "127.4.0.7"), ("foreign.mesh.local.", "127.4.0.8"),
                ("orphan.mesh.local.", "127.4.0.6"),
            ])
        let byName = Dictionary(uniqueKeysWithValues: p.changes.map { ($0.name, $0) })
        #expect(byName["new.mesh.local."]?.records.map(\.action) == [.create, .create], "A and its TXT together")
        #expect(byName["new.mesh.local."]?.records.last?.record == txt("new.mesh.local."))
        #expect(byName["moved.mesh.local."]?.kind == .update && byName["moved.mesh.local."]?.records.map(\.action) == [.upsert])
        #expect(
            byName["orphan.mesh.local."]?.records.map(\.action) == [.create]
                && byName["orphan.mesh.local."]?.reason.contains("recreated") == true)
        #expect(byName["old.mesh.local."]?.records.map(\.action) == [.delete, .delete])
        #expect(byName["old.mesh.local."]?.records.first?.record == a("old.mesh.local.", "127.4.0.9"), "DELETE repeats the exact record")
        #expect(byName["foreign.mesh.local."] == nil)
        #expect(p.entries.first { $0.name == "foreign.mesh.local." }?.action == .conflict)
    }

    @Test func anotherOwnersRecordsAreLeftAlone() {
        let other = "\"heritage=kmesh-reconcile-dns,owner=staging\""
        let p = plan(
            [a("x.mesh.local.", "127.4.0.1"), txt("x.mesh.local.", other), a("y.mesh.local.", "127.4.0.2"), txt("y.mesh.local.", other)],
            [("x.mesh.local.", "127.4.0.3")])
        #expect(p.changes.isEmpty && p.owned == 0)
        #expect(p.entries.map(\.action) == [.conflict] && p.entries[0].reason.contains("owner=staging"))
    }

    @Test(arguments: [DNSPolicy.upsertOnly, .createOnly])
    func policiesThatNeverDelete(_ policy: DNSPolicy) {
        var o = options
        o.policy = policy
        let p = plan(
            [a("gone.mesh.local.", "127.4.0.1"), txt("gone.mesh.local."), a("moved.mesh.local.", "127.4.0.1"), txt("moved.mesh.local.")],
            [("moved.mesh.local.", "127.4.0.2"), ("new.mesh.local.", "127.4.0.3")], options: o)
        #expect(!p.changes.contains { $0.kind == .delete })
        #expect(p.changes.contains { $0.kind == .update } == (policy == .upsertOnly))
        #expect(p.changes.contains { $0.kind == .create })
        #expect(p.entries.first { $0.name == "gone.mesh.local." }?.action == .skipped)
    }

    @Test func guardsRefuseDeletes() {
        let current = (0..<10).flatMap { [a("h\($0).mesh.local.", "127.4.0.\($0)"), txt("h\($0).mesh.local.")] }
        let empty = plan(current, [])
        #expect(empty.changes.isEmpty && empty.refusal?.contains("--allow-empty-source") == true)
        var allow = options
        allow.allowEmptySource = true
        allow.force = true
        #expect(plan(current, [], options: allow).changes.count == 10)
        let keepTwo = [("h0.mesh.local.", "127.4.0.0"), ("h1.mesh.local.", "127.4.0.1")]
        let mass = plan(current, keepTwo)
        #expect(mass.changes.isEmpty && mass.refusal?.contains("--force") == true, "8 of 10 is more than half")
        var forced = options
        forced.force = true
        #expect(plan(current, keepTwo, options: forced).changes.count == 8)
        let few = plan(Array(current.prefix(8)), [("h0.mesh.local.", "127.4.0.0")])
        #expect(few.refusal == nil && few.changes.count == 3, "5 deletes or fewer are never refused")
    }

    @Test func batchesKeepANameTogetherAndStayWithinBothLimits() {
        let changes = (0..<1200).map { i in
            DNSChange(
                kind: .create, name: "h\(i).", records: [.init(.create, a("h\(i).", "127.4.4.4")), .init(.create, txt("h\(i)."))],
                value: "",
                reason: "")
        }
        let batches = DNSBatches.split(changes)
        #expect(batches.allSatisfy { b in b.reduce(0) { $0 + $1.resourceRecordCount } <= 1000 })
        #expect(batches.allSatisfy { b in b.reduce(0) { $0 + $1.valueCharacterCount } <= 32_000 })
        #expect(batches.flatMap { $0 }.count == 1200)
        let chars = changes.reduce(0) { $0 + $1.valueCharacterCount }
        #expect(batches.count <= max(3, (chars + 31_999) / 32_000) + 1)
        let upserts = (0..<600).map {
            DNSChange(kind: .update, name: "u\($0).", records: [.init(.upsert, a("u\($0).", "1.1.1.1"))], value: "", reason: "")
        }
        #expect(DNSBatches.split(upserts).map(\.count) == [500, 100], "UPSERT counts twice")
    }
}

struct DNSReportTests {
    @Test func conflictsAreReportedButAreNotFailures() {
        let r = DNSReport(
            dryRun: false, zones: ["Z1"],
            records: [
                .init(zone: "Z1", name: "web.mesh.local.", value: "127.4.0.2", action: .created, reason: "MeshService default/web"),
                .init(zone: "Z1", name: "legacy.mesh.local.", value: "127.4.0.1", action: .conflict, reason: "not ours"),
            ], calls: ["GetHostedZone": 1, "ChangeResourceRecordSets": 1], errors: [], durationSeconds: 0.5)
        #expect(!r.failed && r.totals["created"] == 1 && r.totals["conflict"] == 1)
        #expect(
            r.text() == """
                ZONE  NAME                VALUE      ACTION    REASON
                Z1    legacy.mesh.local.  127.4.0.1  conflict  not ours
                Z1    web.mesh.local.     127.4.0.2  created   MeshService default/web
                2 names in 1 zone: 0 unchanged, 1 created, 0 updated, 0 deleted, 1 conflict; 2 requests (0.5s)

                """)
        var failing = r
        failing.errors = ["hosted zone Z9 is public: refused"]
        #expect(failing.failed && failing.failures == ["hosted zone Z9 is public: refused"])
    }
}
