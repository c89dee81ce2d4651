/// A MeshService, MeshExternalService or MeshMultiZoneService as the DNS planner sees it.
public struct MeshAddressSource: Sendable, Equatable {
    public struct Address: Sendable, Equatable {
        public var hostname: String
        /// `hostnameGeneratorRef.coreName`.
        public var generator: String?
        public init(hostname: String, generator: String?) {
            self.hostname = hostname
            self.generator = generator
        }
    }

    public var kind: String
    public var mesh: String
    public var name: String
    /// The `kuma.io/zone` label (the Kuma zone the item comes from), for `hostedZones` lookups.
    public var kumaZone: String?
    public var addresses: [Address]
    /// `status.vips[].ip`; the record's value is the first.
    public var vips: [String]

    public init(kind: String, mesh: String, name: String, kumaZone: String? = nil, addresses: [Address], vips: [String]) {
        self.kind = kind
        self.mesh = mesh
        self.name = name
        self.kumaZone = kumaZone
        self.addresses = addresses
        self.vips = vips
    }

    /// `MeshService default/redis`, for reports.
    public var label: String { "\(kind) \(mesh)/\(name)" }
}

/// A HostnameGenerator's Route53 extension: one zone, or one zone per Kuma zone.
public struct GeneratorZones: Sendable, Equatable {
    public var hostedZoneId: String?
    /// Kuma zone name -> hosted zone id.
    public var hostedZones: [String: String]
    public init(hostedZoneId: String? = nil, hostedZones: [String: String] = [:]) {
        self.hostedZoneId = hostedZoneId
        self.hostedZones = hostedZones
    }
}

/// A hosted zone the pass may write to, by id (never looked up by name).
public struct ZoneRef: Sendable, Equatable, Hashable {
    public var id: String
    /// Canonical.
    public var name: String
    public init(id: String, name: String) {
        self.id = id
        self.name = DNSName.canonical(name)
    }
}

/// The records the mesh wants, per zone, and what could not be wanted.
public struct DesiredRecords: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var name: String
        public var value: String
        public var source: String
    }

    public struct NotPublished: Sendable, Equatable {
        public var hostname: String
        public var source: String
        public var reason: String
        /// Worth a line in the report (IPv6, a conflict), or only a debug log (no zone for it).
        public var reported: Bool
    }

    /// Zone id -> canonical name -> record.
    public var zones: [String: [String: Record]]
    /// Names two sources want with different values: neither is written.
    public var conflicts: [String: [String: [Record]]]
    public var notPublished: [NotPublished]

    public var count: Int { zones.values.reduce(0) { $0 + $1.count } }

    /// Desired A records from the mesh's items. The zone of an address: its generator's Route53
    /// extension (`hostedZoneId`, or the `hostedZones` entry named by the item's `kuma.io/zone`);
    /// else the zone in `fallback` whose name is the longest suffix of the hostname; else none.
    public static func from(
        _ items: [MeshAddressSource], generators: [String: GeneratorZones], fallback: [ZoneRef],
        zoneNames: [String: String]
    ) -> DesiredRecords {
        var wanted: [String: [String: [Record]]] = [:]
        var notPublished: [NotPublished] = []
        for item in items.sorted(by: { $0.label < $1.label }) {
            guard let vip = item.vips.first else { continue }
            for address in item.addresses {
                let name = DNSName.canonical(address.hostname)
                if vip.contains(":") {
                    notPublished.append(
                        .init(
                            hostname: name, source: item.label, reason: "IPv6 VIP \(vip) skipped: only A records are published",
                            reported: true))
                    continue
                }
                if let problem = DNSName.problem(with: name) {
                    notPublished.append(.init(hostname: name, source: item.label, reason: problem, reported: true))
                    continue
                }
                var zoneId: String?
                if let g = address.generator.flatMap({ generators[$0] }) {
                    zoneId = g.hostedZoneId ?? item.kumaZone.flatMap { g.hostedZones[$0] }
                    if zoneId == nil {
                        notPublished.append(
                            .init(
                                hostname: name, source: item.label,
                                reason: "generator \(address.generator!) has no hosted zone for Kuma zone \(item.kumaZone ?? "(none)")",
                                reported: true))
                        continue
                    }
                } else {
                    zoneId = fallback.filter { DNSName.isWithin(name, zone: $0.name) }.max { $0.name.count < $1.name.count }?.id
                }
                guard let zoneId else {
                    notPublished.append(.init(hostname: name, source: item.label, reason: "no hosted zone for this name", reported: false))
                    continue
                }
                if let zoneName = zoneNames[zoneId], !DNSName.isWithin(name, zone: zoneName) {
                    notPublished.append(
                        .init(
                            hostname: name, source: item.label, reason: "the name is not within zone \(zoneId) (\(zoneName))",
                            reported: true))
                    continue
                }
                wanted[zoneId, default: [:]][name, default: []].append(Record(name: name, value: vip, source: item.label))
            }
        }
        var zones: [String: [String: Record]] = [:]
        var conflicts: [String: [String: [Record]]] = [:]
        for (zone, names) in wanted {
            for (name, records) in names {
                if Set(records.map(\.value)).count > 1 {
                    conflicts[zone, default: [:]][name] = records
                } else {
                    zones[zone, default: [:]][name] = records[0]
                }
            }
        }
        return DesiredRecords(zones: zones, conflicts: conflicts, notPublished: notPublished)
    }
}
