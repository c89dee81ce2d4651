import AWS
import FoundationEssentials
import KMeshSupport
import Kuma
import Logging
import ReconcileCore

/// Keeps Route 53 private hosted zones in step with the mesh's services: every address of every
/// MeshService, MeshExternalService and MeshMultiZoneService with a VIP resolves to that VIP (Kong
/// Mesh 2.11's "dynamic outbounds"), and nothing this tool does not own is ever changed. One
/// level-based pass; see `Reconciler` for the contract.
public struct DNSReconciler: Reconciler {
    public struct Options: Sendable {
        /// Zones for hostnames whose generator names none (the longest suffix wins).
        public var zones: [String] = []
        /// Meshes to read; empty means every mesh.
        public var meshes: [String] = []
        public var plan = DNSPlan.Options()
        public var dryRun = false
        public init() {}
    }

    public enum Scope: Sendable, Equatable { case all }

    public static let collections: [(MeshScopedCollection, String)] = [
        (.meshservices, "MeshService"), (.meshexternalservices, "MeshExternalService"), (.meshmultizoneservices, "MeshMultiZoneService"),
    ]

    let route53: any Route53API
    let kuma: any KumaAPI
    let options: Options
    let clock: any WallClock
    let logger: Logger
    /// Zones already read by this reconciler, by the id they were asked for. A zone's name and
    /// whether it is private are fixed when it is created and ids are never reused, so a warm
    /// process (Lambda, scheduler) reads each zone once instead of once a pass; a zone deleted
    /// since shows up as `NoSuchHostedZone` from the pass's ListResourceRecordSets. Failed reads
    /// are not kept.
    let zoneCache = ZoneCache()

    final class ZoneCache: Sendable {
        private let zones = Locked<[String: HostedZone]>([:])
        func zone(_ id: String) -> HostedZone? { zones.withLock { $0[id] } }
        /// Keeps what does not change: the record count is dropped, so no pass reads a stale one.
        func keep(_ zone: HostedZone, as id: String) {
            var fixed = zone
            fixed.recordCount = nil
            zones.withLock { $0[id] = fixed }
        }
    }

    public init(route53: any Route53API, kuma: any KumaAPI, options: Options, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.route53 = route53
        self.kuma = kuma
        self.options = options
        self.clock = clock
        self.logger = logger
    }

    /// Requests made in this pass, by operation.
    final class Calls: Sendable {
        let counts = Locked<[String: Int]>([:])
        func add(_ op: String) { counts.withLock { $0[op, default: 0] += 1 } }
    }

    public func run(_ scope: Scope = .all, deadline: Date? = nil) async -> DNSReport {
        let started = clock.now()
        let calls = Calls()
        var errors: [String] = []
        var entries: [DNSReport.Entry] = []
        func report(_ zones: [String]) -> DNSReport {
            let r = DNSReport(
                dryRun: options.dryRun, zones: zones, records: entries, calls: calls.counts.withLock { $0 },
                errors: errors, durationSeconds: max(0, clock.now().timeIntervalSince(started)))
            var meta: Logger.Metadata = ["names": "\(r.records.count)", "duration-ms": "\(Int(r.durationSeconds * 1000))"]
            for (k, v) in r.totals where v > 0 { meta[k] = "\(v)" }
            if r.failed {
                logger.error("pass finished with failures", metadata: meta)
            } else {
                logger.info("pass finished", metadata: meta)
            }
            return r
        }

        // 1. The source. A Kuma API error means no plan at all: nothing is deleted because a list failed.
        let source: (items: [MeshAddressSource], generators: [String: GeneratorZones])
        do {
            source = try await readSource(calls)
        } catch {
            errors.append("cannot read the mesh's services from the Kuma API: \(error); nothing was changed")
            logger.error("source not read; no plan", metadata: ["error": "\(error)"])
            return report(options.zones)
        }

        // 2. The zones: by id, private only.
        var zoneIds = options.zones
        for g in source.generators.values {
            for id in [g.hostedZoneId].compactMap({ $0 }) + g.hostedZones.values.sorted() where !zoneIds.contains(id) { zoneIds.append(id) }
        }
        var usable: [ZoneRef] = []
        var names: [String: String] = [:]
        for id in zoneIds {
            do {
                let zone: HostedZone
                if let known = zoneCache.zone(id) {
                    zone = known
                } else {
                    calls.add("GetHostedZone")
                    zone = try await route53.getHostedZone(id: id)
                    zoneCache.keep(zone, as: id)
                }
                guard zone.isPrivate else {
                    errors.append(
                        "hosted zone \(id) (\(zone.name)) is public: refused, nothing is written to it (reconcile-dns publishes loopback VIPs only to private zones)"
                    )
                    continue
                }
                let ref = ZoneRef(id: zone.id, name: zone.name)
                usable.append(ref)
                names[ref.id] = ref.name
            } catch {
                errors.append("cannot read hosted zone \(id): \(error)")
            }
        }
        let desired = DesiredRecords.from(
            source.items, generators: source.generators, fallback: usable.filter { options.zones.contains($0.id) },
            zoneNames: names)
        for n in desired.notPublished {
            if n.reported {
                logger.warning("name not published", metadata: ["name": "\(n.hostname)", "source": "\(n.source)", "reason": "\(n.reason)"])
                entries.append(
                    DNSReport.Entry(zone: "-", name: n.hostname, value: nil, action: .skipped, reason: "\(n.reason) (\(n.source))"))
            } else {
                logger.debug("name not published", metadata: ["name": "\(n.hostname)", "source": "\(n.source)", "reason": "\(n.reason)"])
            }
        }
        for (zone, _) in desired.zones where names[zone] == nil {
            errors.append("records are wanted in hosted zone \(zone), which is not usable (see above); they were not written")
        }
        let sourceIsEmpty = desired.count == 0 && desired.conflicts.isEmpty

        // 3. Per zone: read, plan, log, apply.
        for zone in usable {
            let current: [ResourceRecordSet]
            do {
                current = try await route53.listResourceRecordSets(zoneId: zone.id, pageSize: route53.changeBatchLimits.listPageSize)
                let pages = max(1, (current.count + route53.changeBatchLimits.listPageSize - 1) / route53.changeBatchLimits.listPageSize)
                for _ in 0..<pages { calls.add("ListResourceRecordSets") }
            } catch {
                calls.add("ListResourceRecordSets")
                errors.append("cannot list the records of hosted zone \(zone.id): \(error); nothing was changed in it")
                continue
            }
            let plan = DNSPlan.make(
                zone: zone.id,
                current: current.map {
                    ZoneRecord(name: $0.name, type: $0.type, ttl: $0.ttl, values: $0.values, setIdentifier: $0.setIdentifier)
                },
                desired: desired.zones[zone.id] ?? [:], conflicts: desired.conflicts[zone.id] ?? [:], sourceIsEmpty: sourceIsEmpty,
                options: options.plan)
            entries += plan.entries
            for e in plan.entries where e.action == .conflict {
                logger.warning("record conflict", metadata: ["zone": "\(zone.id)", "name": "\(e.name)", "reason": "\(e.reason)"])
            }
            if let refusal = plan.refusal {
                errors.append("hosted zone \(zone.id): \(refusal)")
                logger.error("deletes refused", metadata: ["zone": "\(zone.id)", "reason": "\(refusal)"])
            }
            for c in plan.changes {
                logger.info(
                    options.dryRun ? "would change a record" : "changing a record",
                    metadata: ["zone": "\(zone.id)", "name": "\(c.name)", "change": "\(c.kind.rawValue)", "value": "\(c.value)"])
            }
            if options.dryRun {
                entries += plan.changes.map {
                    DNSReport.Entry(
                        zone: zone.id, name: $0.name, value: $0.value.isEmpty ? nil : $0.value,
                        action: Self.would($0.kind), reason: $0.reason)
                }
                continue
            }
            entries += await apply(plan.changes, zone: zone.id, deadline: deadline, calls: calls)
        }
        return report(zoneIds)
    }

    static func would(_ kind: DNSChange.Kind) -> DNSReport.Action {
        switch kind {
        case .create: .wouldCreate
        case .update: .wouldUpdate
        case .delete: .wouldDelete
        }
    }

    static func done(_ kind: DNSChange.Kind) -> DNSReport.Action {
        switch kind {
        case .create: .created
        case .update: .updated
        case .delete: .deleted
        }
    }

    // MARK: reading

    /// Lists read at once from the Kuma API: a pass waits for the slowest list, not for their sum.
    static let listsInFlight = 8

    enum Listed: Sendable {
        case services(Int, [MeshAddressSource])
        case generators([KumaResource])
    }

    func readSource(_ calls: Calls) async throws -> (items: [MeshAddressSource], generators: [String: GeneratorZones]) {
        var meshes = options.meshes
        if meshes.isEmpty {
            calls.add("GET /meshes")
            meshes = try await kuma.meshes().map(\.name)
        }
        // Every mesh's three collections and the generators, at most `listsInFlight` at a time; the
        // items keep the order of the lists (mesh by mesh, collection by collection) whatever order
        // the answers come in. The first list that fails ends the read, and the others with it.
        let lists = meshes.flatMap { mesh in Self.collections.map { (mesh: mesh, collection: $0.0, kind: $0.1) } }
        var listed = [[MeshAddressSource]](repeating: [], count: lists.count)
        var generatorItems: [KumaResource] = []
        try await withThrowingTaskGroup(of: Listed.self) { group in
            let jobs = lists.count + 1
            func start(_ job: Int) {
                if job == lists.count {
                    calls.add("GET /hostnamegenerators")
                    group.addTask { .generators(try await kuma.hostnameGenerators()) }
                    return
                }
                let list = lists[job]
                calls.add("GET /meshes/{mesh}/\(list.collection.rawValue)")
                group.addTask {
                    .services(
                        job, try await kuma.list(mesh: list.mesh, list.collection).map { Self.source($0, kind: list.kind, mesh: list.mesh) }
                    )
                }
            }
            var next = 0
            while next < min(jobs, Self.listsInFlight) {
                start(next)
                next += 1
            }
            while let done = try await group.next() {
                switch done {
                case .services(let job, let items): listed[job] = items
                case .generators(let items): generatorItems = items
                }
                if next < jobs {
                    start(next)
                    next += 1
                }
            }
        }
        var generators: [String: GeneratorZones] = [:]
        for g in generatorItems {
            guard let zones = Self.route53Zones(g) else { continue }
            generators[g.name] = zones
            if let display = g.labels["kuma.io/display-name"] { generators[display] = zones }
        }
        return (listed.flatMap { $0 }, generators)
    }

    static func source(_ r: KumaResource, kind: String, mesh: String) -> MeshAddressSource {
        var addresses: [MeshAddressSource.Address] = []
        if case .array(let list)? = r.status?["addresses"] {
            for a in list {
                guard let hostname = a["hostname"]?.stringValue, !hostname.isEmpty else { continue }
                addresses.append(.init(hostname: hostname, generator: a["hostnameGeneratorRef"]?["coreName"]?.stringValue))
            }
        }
        return MeshAddressSource(
            kind: kind, mesh: r.mesh ?? mesh, name: r.name, kumaZone: r.labels["kuma.io/zone"], addresses: addresses,
            vips: r.vips)
    }

    /// The generator's Route53 extension, or nil when it has none (its names go to the fallback zones).
    static func route53Zones(_ g: KumaResource) -> GeneratorZones? {
        guard let ext = g.spec?["extension"], ext["type"]?.stringValue == "Route53", let config = ext["config"] else { return nil }
        var zones = GeneratorZones(hostedZoneId: config["hostedZoneId"]?.stringValue)
        if case .array(let list)? = config["hostedZones"] {
            for z in list {
                if let name = z["name"]?.stringValue, let id = z["hostedZoneId"]?.stringValue { zones.hostedZones[name] = id }
            }
        }
        return zones
    }

    // MARK: applying

    /// Applies the changes in batches within Route 53's limits; a batch Route 53 rejects as invalid
    /// is applied again name by name, so that one bad name does not hold back the others.
    func apply(_ changes: [DNSChange], zone: String, deadline: Date?, calls: Calls) async -> [DNSReport.Entry] {
        let limits = route53.changeBatchLimits
        var entries: [DNSReport.Entry] = []
        let batches = DNSBatches.split(changes, maxRecords: limits.resourceRecords, maxCharacters: limits.valueCharacters)
        for (index, batch) in batches.enumerated() {
            if let deadline, clock.now() >= deadline {
                for b in batches[index...] {
                    entries += b.map { entry($0, zone, .skipped, "not started: the invocation's deadline was near; the next pass does it") }
                }
                break
            }
            do {
                try await send(batch, zone: zone, calls: calls)
                entries += batch.map { entry($0, zone, Self.done($0.kind), $0.reason) }
            } catch let e as AWSServiceError where e.code == "InvalidChangeBatch" {
                if batch.count > 1 {
                    logger.warning(
                        "change batch rejected; applying it name by name", metadata: ["zone": "\(zone)", "error": "\(e.message)"])
                }
                var rejected: [(DNSChange, any Error)] = []
                for change in batch {
                    guard batch.count > 1 else {
                        rejected.append((change, e))
                        continue
                    }
                    do {
                        try await send([change], zone: zone, calls: calls)
                        entries.append(entry(change, zone, Self.done(change.kind), change.reason))
                    } catch let e as AWSServiceError where e.code == "InvalidChangeBatch" {
                        rejected.append((change, e))
                    } catch {
                        logger.error("record not changed", metadata: ["zone": "\(zone)", "name": "\(change.name)", "error": "\(error)"])
                        entries.append(entry(change, zone, .failed, "\(change.kind.rawValue) failed: \(error)"))
                    }
                }
                entries += await settle(rejected, zone: zone, calls: calls)
            } catch {
                // Whatever went wrong, the batch may have been applied (an answer cut off, spoiled,
                // or too slow): the zone read back says which changes hold.
                logger.warning("change batch failed; reading the zone back", metadata: ["zone": "\(zone)", "error": "\(error)"])
                entries += await settle(batch.map { ($0, error) }, zone: zone, calls: calls)
            }
        }
        return entries
    }

    /// Changes that failed. A failure can hide our own success: a batch applied whose answer was
    /// lost (then a retry rejected with "already exists" or "not found"), spoiled or too slow. So
    /// the zone is read again, and a change whose every step already holds is done; the rest failed.
    func settle(_ rejected: [(DNSChange, any Error)], zone: String, calls: Calls) async -> [DNSReport.Entry] {
        guard !rejected.isEmpty else { return [] }
        var now: Set<ZoneRecord>?
        do {
            calls.add("ListResourceRecordSets")
            now = Set(
                try await route53.listResourceRecordSets(zoneId: zone, pageSize: route53.changeBatchLimits.listPageSize).map {
                    Self.comparable(
                        ZoneRecord(name: $0.name, type: $0.type, ttl: $0.ttl, values: $0.values, setIdentifier: $0.setIdentifier))
                })
        } catch {
            logger.warning("cannot read the zone back after a rejected change", metadata: ["zone": "\(zone)", "error": "\(error)"])
        }
        return rejected.map { change, error in
            if let now, Self.holds(change, in: now) {
                logger.info(
                    "record already as wanted (an earlier attempt's answer was lost)",
                    metadata: ["zone": "\(zone)", "name": "\(change.name)"])
                return entry(
                    change, zone, Self.done(change.kind), change.reason + " (already in place: an earlier attempt's answer was lost)")
            }
            logger.error("record not changed", metadata: ["zone": "\(zone)", "name": "\(change.name)", "error": "\(error)"])
            return entry(change, zone, .failed, "\(change.kind.rawValue) failed: \(error)")
        }
    }

    /// A record in one spelling: canonical name, values in order.
    static func comparable(_ r: ZoneRecord) -> ZoneRecord {
        ZoneRecord(name: DNSName.canonical(r.name), type: r.type, ttl: r.ttl, values: r.values.sorted(), setIdentifier: r.setIdentifier)
    }

    /// Whether the zone already is what every step of `change` would make it.
    static func holds(_ change: DNSChange, in zone: Set<ZoneRecord>) -> Bool {
        change.records.allSatisfy { step in
            let wanted = comparable(step.record)
            switch step.action {
            case .create, .upsert: return zone.contains(wanted)
            case .delete:
                return !zone.contains { $0.name == wanted.name && $0.type == wanted.type && $0.setIdentifier == wanted.setIdentifier }
            }
        }
    }

    func send(_ batch: [DNSChange], zone: String, calls: Calls) async throws {
        calls.add("ChangeResourceRecordSets")
        let changes = batch.flatMap { c in
            c.records.map { r in
                RecordChange(
                    RecordChange.Action(rawValue: r.action.rawValue)!,
                    ResourceRecordSet(name: r.record.name, type: r.record.type, ttl: r.record.ttl, values: r.record.values))
            }
        }
        _ = try await route53.changeResourceRecordSets(
            zoneId: zone, comment: "kmesh reconcile-dns owner=\(options.plan.owner)", changes: changes)
    }

    func entry(_ c: DNSChange, _ zone: String, _ action: DNSReport.Action, _ reason: String) -> DNSReport.Entry {
        DNSReport.Entry(zone: zone, name: c.name, value: c.value.isEmpty ? nil : c.value, action: action, reason: reason)
    }
}
