import AWS
import Foundation
import KMeshSupport
import ReconcileCore

/// Route 53 in memory, with the rules a DNS reconciler must live with: zones addressed by id;
/// names stored lower case with the trailing dot and `*` as `\052`; a batch is atomic; CREATE of an
/// existing name+type and DELETE that does not repeat the exact TTL and values fail the whole batch
/// (`InvalidChangeBatch`); at most 1000 ResourceRecord elements and 32,000 value characters a
/// batch, UPSERT counting twice; TXT values must be quoted.
public final class FakeRoute53: Route53API, Sendable {
    struct Zone {
        var zone: HostedZone
        var records: [String: ResourceRecordSet] = [:]  // "name|type"
    }

    public let calls = FakeCalls()
    private let zones = Locked<[String: Zone]>([:])
    private let changeCounter = Locked(0)
    /// Every accepted batch, in order, for assertions on batching.
    public let batches = Locked<[[RecordChange]]>([])

    public init() {}

    public func addZone(id: String, name: String, isPrivate: Bool = true) {
        zones.withLock { $0[id] = Zone(zone: HostedZone(id: id, name: Self.canonical(name), isPrivate: isPrivate)) }
    }

    /// Puts a record directly, as someone else's tool (or a person) would.
    public func put(zone: String, _ record: ResourceRecordSet) {
        var r = record
        r.name = Self.canonical(r.name)
        zones.withLock { $0[zone]?.records["\(r.name)|\(r.type)"] = r }
    }

    public func records(zone: String) -> [ResourceRecordSet] {
        zones.withLock { ($0[zone]?.records.values).map { Array($0) } ?? [] }.sorted { ($0.name, $0.type) < ($1.name, $1.type) }
    }

    /// Route 53's stored form (lower case, trailing dot, `*` as `\052`): the planner's canonical form.
    public static func canonical(_ name: String) -> String { DNSName.canonical(name) }

    func invalid(_ message: String) -> AWSServiceError {
        AWSServiceError(
            service: "Route 53", operation: "ChangeResourceRecordSets", status: 400, code: "InvalidChangeBatch", message: message)
    }

    public func getHostedZone(id: String) async throws -> HostedZone {
        try calls.record("GetHostedZone")
        let bare = LiveRoute53.bareId(id)
        guard let z = zones.withLock({ $0[bare] }) else {
            throw AWSServiceError(
                service: "Route 53", operation: "GetHostedZone", status: 404, code: "NoSuchHostedZone",
                message: "No hosted zone found with ID: \(bare)")
        }
        var zone = z.zone
        zone.recordCount = z.records.count
        return zone
    }

    public func listResourceRecordSets(zoneId: String, pageSize: Int) async throws -> [ResourceRecordSet] {
        let all = zones.withLock { $0[LiveRoute53.bareId(zoneId)] }
        guard let all else {
            try calls.record("ListResourceRecordSets")
            throw AWSServiceError(
                service: "Route 53", operation: "ListResourceRecordSets", status: 404, code: "NoSuchHostedZone",
                message: "No hosted zone found with ID: \(zoneId)")
        }
        let sorted = all.records.values.sorted { ($0.name, $0.type) < ($1.name, $1.type) }
        // One recorded call per page, as the live client makes.
        var pages = max(1, (sorted.count + pageSize - 1) / max(pageSize, 1))
        if sorted.isEmpty { pages = 1 }
        for _ in 0..<pages { try calls.record("ListResourceRecordSets") }
        return sorted
    }

    public func changeResourceRecordSets(zoneId: String, comment: String?, changes: [RecordChange]) async throws -> ChangeInfo {
        try calls.record("ChangeResourceRecordSets")
        let limits = changeBatchLimits
        var records = 0
        var characters = 0
        for c in changes {
            let weight = c.action == .upsert ? 2 : 1
            records += c.recordSet.values.count * weight
            characters += c.recordSet.values.reduce(0) { $0 + $1.count } * weight
        }
        if records > limits.resourceRecords {
            throw invalid("Number of records in the change batch (\(records)) exceeds the limit of \(limits.resourceRecords)")
        }
        if characters > limits.valueCharacters {
            throw invalid(
                "Number of characters in the values of the change batch (\(characters)) exceeds the limit of \(limits.valueCharacters)")
        }
        let bare = LiveRoute53.bareId(zoneId)
        try zones.withLock { all in
            guard var zone = all[bare] else {
                throw AWSServiceError(
                    service: "Route 53", operation: "ChangeResourceRecordSets", status: 404, code: "NoSuchHostedZone",
                    message: "No hosted zone found with ID: \(bare)")
            }
            var problems: [String] = []
            for c in changes {
                var r = c.recordSet
                r.name = Self.canonical(r.name)
                let key = "\(r.name)|\(r.type)"
                if r.type == "TXT", r.values.contains(where: { !($0.hasPrefix("\"") && $0.hasSuffix("\"")) }) {
                    problems.append(
                        "Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '\(r.values.joined())''"
                    )
                    continue
                }
                switch c.action {
                case .create:
                    if zone.records[key] != nil {
                        problems.append("Tried to create resource record set [name='\(r.name)', type='\(r.type)'] but it already exists")
                    } else {
                        zone.records[key] = r
                    }
                case .upsert:
                    zone.records[key] = r
                case .delete:
                    guard let existing = zone.records[key] else {
                        problems.append("Tried to delete resource record set [name='\(r.name)', type='\(r.type)'] but it was not found")
                        continue
                    }
                    if existing.ttl != r.ttl || existing.values != r.values {
                        problems.append(
                            "Tried to delete resource record set [name='\(r.name)', type='\(r.type)'] but the values provided do not match the current values"
                        )
                    } else {
                        zone.records[key] = nil
                    }
                }
            }
            if !problems.isEmpty { throw invalid("[\(problems.joined(separator: ", "))]") }
            all[bare] = zone
        }
        batches.withLock { $0.append(changes) }
        let n = changeCounter.withLock { c -> Int in
            c += 1
            return c
        }
        return ChangeInfo(id: "C\(n)", status: "PENDING")
    }

    public func getChange(id: String) async throws -> ChangeInfo {
        try calls.record("GetChange")
        return ChangeInfo(id: LiveRoute53.bareId(id), status: "INSYNC")
    }
}
