import FoundationEssentials
import KMeshSupport

public struct HostedZone: Sendable, Equatable {
    /// The bare id (`Z123`), without `/hostedzone/`.
    public var id: String
    public var name: String
    public var isPrivate: Bool
    public var recordCount: Int?
    public init(id: String, name: String, isPrivate: Bool, recordCount: Int? = nil) {
        self.id = id
        self.name = name
        self.isPrivate = isPrivate
        self.recordCount = recordCount
    }
}

public struct ResourceRecordSet: Sendable, Equatable, Hashable {
    public var name: String
    public var type: String
    public var setIdentifier: String?
    public var ttl: Int?
    public var values: [String]

    public init(name: String, type: String, setIdentifier: String? = nil, ttl: Int?, values: [String]) {
        self.name = name
        self.type = type
        self.setIdentifier = setIdentifier
        self.ttl = ttl
        self.values = values
    }
}

public struct RecordChange: Sendable, Equatable, Hashable {
    public enum Action: String, Sendable {
        case create = "CREATE"
        case delete = "DELETE"
        case upsert = "UPSERT"
    }
    public var action: Action
    public var recordSet: ResourceRecordSet
    public init(_ action: Action, _ recordSet: ResourceRecordSet) {
        self.action = action
        self.recordSet = recordSet
    }
}

public struct ChangeInfo: Sendable, Equatable {
    public var id: String
    public var status: String
    public init(id: String, status: String) {
        self.id = id
        self.status = status
    }
}

/// The Route 53 operations the DNS reconciler uses.
public protocol Route53API: Sendable {
    /// The zone by id (bare or `/hostedzone/..`), with whether it is private; `NoSuchHostedZone`
    /// when there is none. Zones are never looked up by name.
    func getHostedZone(id: String) async throws -> HostedZone
    /// Every record set of the zone, `pageSize` (at most 300) a request, following
    /// NextRecordName/Type/Identifier while IsTruncated. Names come back as Route 53 stores them.
    func listResourceRecordSets(zoneId: String, pageSize: Int) async throws -> [ResourceRecordSet]
    /// One atomic batch: every change applies, or none (`InvalidChangeBatch`). A batch holds at
    /// most `changeBatchLimits` (UPSERT counting twice).
    func changeResourceRecordSets(zoneId: String, comment: String?, changes: [RecordChange]) async throws -> ChangeInfo
    /// A change's status (PENDING, then INSYNC).
    func getChange(id: String) async throws -> ChangeInfo
    /// What one ChangeResourceRecordSets request may hold.
    var changeBatchLimits: ChangeBatchLimits { get }
}

/// Route 53's per-request limits on a change batch.
public struct ChangeBatchLimits: Sendable, Equatable {
    /// ResourceRecord elements, UPSERT counting twice.
    public var resourceRecords: Int
    /// Characters of every Value, UPSERT counting twice.
    public var valueCharacters: Int
    /// Record sets per ListResourceRecordSets page.
    public var listPageSize: Int
    public init(resourceRecords: Int = 1000, valueCharacters: Int = 32_000, listPageSize: Int = 300) {
        self.resourceRecords = resourceRecords
        self.valueCharacters = valueCharacters
        self.listPageSize = listPageSize
    }
}

extension Route53API {
    /// Route 53's documented limits.
    public var changeBatchLimits: ChangeBatchLimits { ChangeBatchLimits() }
}

public struct LiveRoute53: Route53API {
    public static let namespace = "https://route53.amazonaws.com/doc/2013-04-01/"
    let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// `/hostedzone/Z123` -> `Z123`.
    public static func bareId(_ id: String) -> String { id.split(separator: "/").last.map(String.init) ?? id }

    public func getHostedZone(id: String) async throws -> HostedZone {
        var call = AWSClient.Call(service: .route53, operation: "GetHostedZone")
        call.method = "GET"
        call.path = "/2013-04-01/hostedzone/\(URIEncoding.encode(Self.bareId(id)))"
        let xml = try await client.xml(call)
        guard let zone = xml.child("HostedZone"), let zid = zone.value("Id"), let name = zone.value("Name") else {
            throw AWSClientError.decoding(service: "Route 53", operation: "GetHostedZone", detail: "no HostedZone element")
        }
        return HostedZone(
            id: Self.bareId(zid), name: name, isPrivate: zone.child("Config")?.value("PrivateZone") == "true",
            recordCount: zone.value("ResourceRecordSetCount").flatMap { Int($0) })
    }

    public func listResourceRecordSets(zoneId: String, pageSize: Int = 300) async throws -> [ResourceRecordSet] {
        var records: [ResourceRecordSet] = []
        var next: (name: String, type: String?, identifier: String?)?
        repeat {
            var call = AWSClient.Call(service: .route53, operation: "ListResourceRecordSets")
            call.method = "GET"
            call.path = "/2013-04-01/hostedzone/\(URIEncoding.encode(Self.bareId(zoneId)))/rrset"
            var query = [("maxitems", String(pageSize))]
            if let next {
                query.append(("name", next.name))
                if let t = next.type { query.append(("type", t)) }
                if let i = next.identifier { query.append(("identifier", i)) }
            }
            call.query = query
            let xml = try await client.xml(call)
            // A page read wrongly is a partial read, and a partial read must never look whole (the
            // DNS reconciler deletes what it does not see): every malformed part is an error.
            func malformed(_ detail: String) -> AWSClientError {
                .decoding(service: "Route 53", operation: "ListResourceRecordSets", detail: detail)
            }
            guard let sets = xml.child("ResourceRecordSets"), let truncated = xml.value("IsTruncated") else {
                throw malformed("no ResourceRecordSets or IsTruncated element")
            }
            for set in sets.children("ResourceRecordSet") {
                guard let name = set.value("Name"), let type = set.value("Type") else {
                    throw malformed("a ResourceRecordSet without Name or Type")
                }
                records.append(
                    ResourceRecordSet(
                        name: name, type: type, setIdentifier: set.value("SetIdentifier"),
                        ttl: set.value("TTL").flatMap { Int($0) },
                        values: set.child("ResourceRecords")?.children("ResourceRecord").compactMap { $0.value("Value") } ?? []))
            }
            switch truncated {
            case "true":
                guard let name = xml.value("NextRecordName") else { throw malformed("IsTruncated is true without NextRecordName") }
                next = (name, xml.value("NextRecordType"), xml.value("NextRecordIdentifier"))
            case "false": next = nil
            default: throw malformed("IsTruncated is \"\(truncated.printableLine(limit: 20))\"")
            }
        } while next != nil
        return records
    }

    /// The request body, elements in the model's order.
    public static func changeBatchXML(comment: String?, changes: [RecordChange]) -> String {
        var w = XMLWriter()
        w.element("ChangeResourceRecordSetsRequest", namespace: namespace) { w in
            w.element("ChangeBatch") { w in
                w.leaf("Comment", comment)
                w.element("Changes") { w in
                    for change in changes {
                        w.element("Change") { w in
                            w.leaf("Action", change.action.rawValue)
                            w.element("ResourceRecordSet") { w in
                                let r = change.recordSet
                                w.leaf("Name", r.name)
                                w.leaf("Type", r.type)
                                w.leaf("SetIdentifier", r.setIdentifier)
                                w.leaf("TTL", r.ttl.map(String.init))
                                if !r.values.isEmpty {
                                    w.element("ResourceRecords") { w in
                                        for v in r.values { w.element("ResourceRecord") { $0.leaf("Value", v) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return w.output
    }

    public func changeResourceRecordSets(zoneId: String, comment: String?, changes: [RecordChange]) async throws -> ChangeInfo {
        var call = AWSClient.Call(service: .route53, operation: "ChangeResourceRecordSets")
        call.method = "POST"
        call.path = "/2013-04-01/hostedzone/\(URIEncoding.encode(Self.bareId(zoneId)))/rrset/"
        call.headers = ["Content-Type": "text/xml"]
        call.body = Data(Self.changeBatchXML(comment: comment, changes: changes).utf8)
        return try Self.changeInfo(try await client.xml(call), operation: call.operation)
    }

    public func getChange(id: String) async throws -> ChangeInfo {
        var call = AWSClient.Call(service: .route53, operation: "GetChange")
        call.method = "GET"
        call.path = "/2013-04-01/change/\(URIEncoding.encode(Self.bareId(id)))"
        return try Self.changeInfo(try await client.xml(call), operation: call.operation)
    }

    static func changeInfo(_ xml: XMLElement, operation: String) throws -> ChangeInfo {
        guard let info = xml.child("ChangeInfo"), let id = info.value("Id") else {
            throw AWSClientError.decoding(service: "Route 53", operation: operation, detail: "no ChangeInfo element")
        }
        return ChangeInfo(id: Self.bareId(id), status: info.value("Status") ?? "")
    }
}
