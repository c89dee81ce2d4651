/// A record set as read from, or written to, a zone (a pure mirror of Route 53's; ReconcileCore
/// does not import the AWS layer).
public struct ZoneRecord: Sendable, Equatable, Hashable {
    public var name: String
    public var type: String
    public var ttl: Int?
    public var values: [String]
    public var setIdentifier: String?
    public init(name: String, type: String, ttl: Int?, values: [String], setIdentifier: String? = nil) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.values = values
        self.setIdentifier = setIdentifier
    }
}

public enum DNSPolicy: String, Sendable, CaseIterable {
    /// Create, update and delete what this owner manages.
    case sync
    /// Create and update; never delete.
    case upsertOnly = "upsert-only"
    /// Create only; never update or delete.
    case createOnly = "create-only"
}

/// One change to one name: the A record and, with it, its TXT companion (always in one batch).
public struct DNSChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case create, update, delete }
    public enum Action: String, Sendable {
        case create = "CREATE"
        case upsert = "UPSERT"
        case delete = "DELETE"
    }

    public var kind: Kind
    public var name: String
    /// One record set and what to do with it.
    public struct Step: Sendable, Equatable {
        public var action: Action
        public var record: ZoneRecord
        public init(_ action: Action, _ record: ZoneRecord) {
            self.action = action
            self.record = record
        }
    }

    /// What goes to Route 53, A first.
    public var records: [Step]
    public var value: String
    public var reason: String

    /// ResourceRecord elements, UPSERT counting twice (Route 53's rule).
    public var resourceRecordCount: Int {
        records.reduce(0) { $0 + $1.record.values.count * ($1.action == .upsert ? 2 : 1) }
    }

    /// Value characters, UPSERT counting twice.
    public var valueCharacterCount: Int {
        records.reduce(0) { $0 + $1.record.values.reduce(0) { $0 + $1.count } * ($1.action == .upsert ? 2 : 1) }
    }
}

/// The DNS pass's plan for one zone: the changes, and what is reported without a change.
public struct DNSPlan: Sendable, Equatable {
    public struct Options: Sendable, Equatable {
        public var owner: String
        public var ttl: Int
        public var policy: DNSPolicy
        public var maxDeleteFraction: Double
        public var allowEmptySource: Bool
        public var force: Bool
        public init(
            owner: String = "default", ttl: Int = 60, policy: DNSPolicy = .sync, maxDeleteFraction: Double = 0.5,
            allowEmptySource: Bool = false, force: Bool = false
        ) {
            self.owner = owner
            self.ttl = ttl
            self.policy = policy
            self.maxDeleteFraction = maxDeleteFraction
            self.allowEmptySource = allowEmptySource
            self.force = force
        }
        public var ownershipValue: String { "\"heritage=kmesh-reconcile-dns,owner=\(owner)\"" }
    }

    public var zone: String
    public var changes: [DNSChange]
    /// Names left as they are: unchanged, conflict, skipped (by policy or a guard).
    public var entries: [DNSReport.Entry]
    /// Set when a guard refused the deletes: what to do about it.
    public var refusal: String?
    /// Records this owner manages in the zone before the pass.
    public var owned: Int

    public static let companionPrefix = "_kmesh."

    /// The plan for one zone from its current records and the desired ones (both canonical), the
    /// conflicting names, and whether the source yielded anything at all. Pure: `current` ==
    /// `desired` gives no change.
    public static func make(
        zone: String, current: [ZoneRecord], desired: [String: DesiredRecords.Record],
        conflicts: [String: [DesiredRecords.Record]], sourceIsEmpty: Bool, options: Options
    ) -> DNSPlan {
        var a: [String: ZoneRecord] = [:]
        var txt: [String: ZoneRecord] = [:]
        for r in current where r.setIdentifier == nil {
            let name = DNSName.canonical(r.name)
            var r = r
            r.name = name
            if r.type == "A" { a[name] = r } else if r.type == "TXT" { txt[name] = r }
        }
        func isOurs(_ name: String) -> Bool { txt[companionPrefix + name]?.values.contains(options.ownershipValue) == true }
        func foreignOwner(_ name: String) -> String? {
            guard let values = txt[companionPrefix + name]?.values else { return nil }
            return values.first { $0.contains("heritage=kmesh-reconcile-dns") && $0 != options.ownershipValue }
        }
        let ownedNames = Set(
            txt.keys.filter { $0.hasPrefix(companionPrefix) }.map { String($0.dropFirst(companionPrefix.count)) }.filter(isOurs))

        var changes: [DNSChange] = []
        var entries: [DNSReport.Entry] = []
        func entry(_ name: String, _ value: String?, _ action: DNSReport.Action, _ reason: String) {
            entries.append(DNSReport.Entry(zone: zone, name: name, value: value, action: action, reason: reason))
        }
        func aRecord(_ name: String, _ ip: String) -> ZoneRecord { ZoneRecord(name: name, type: "A", ttl: options.ttl, values: [ip]) }
        func companion(_ name: String) -> ZoneRecord {
            ZoneRecord(name: companionPrefix + name, type: "TXT", ttl: options.ttl, values: [options.ownershipValue])
        }

        for (name, records) in conflicts.sorted(by: { $0.key < $1.key }) {
            let shown = records.map { "\($0.source) -> \($0.value)" }.joined(separator: ", ")
            entry(name, nil, .conflict, "wanted with different values (\(shown)): neither is written")
        }
        for name in desired.keys.sorted() {
            let want = desired[name]!
            if let other = foreignOwner(name), !isOurs(name) {
                entry(name, want.value, .conflict, "owned by another reconcile-dns (\(other)): left alone")
            } else if let existing = a[name] {
                guard isOurs(name) else {
                    entry(
                        name, want.value, .conflict,
                        "an A record exists that this tool does not own (no \(companionPrefix)\(name) TXT): left alone")
                    continue
                }
                if existing.values == [want.value] && existing.ttl == options.ttl {
                    entry(name, want.value, .unchanged, "up to date")
                } else if options.policy == .createOnly {
                    entry(
                        name, want.value, .skipped,
                        "differs (\(existing.values.joined(separator: ",")) ttl \(existing.ttl.map(String.init) ?? "-")) but the policy is create-only"
                    )
                } else {
                    changes.append(
                        DNSChange(
                            kind: .update, name: name, records: [.init(.upsert, aRecord(name, want.value))], value: want.value,
                            reason:
                                "was \(existing.values.joined(separator: ",")) ttl \(existing.ttl.map(String.init) ?? "-") (\(want.source))"
                        ))
                }
            } else if isOurs(name) {
                changes.append(
                    DNSChange(
                        kind: .create, name: name, records: [.init(.create, aRecord(name, want.value))], value: want.value,
                        reason: "its A record was missing; recreated (\(want.source))"))
            } else if txt[companionPrefix + name] != nil {
                entry(name, want.value, .conflict, "\(companionPrefix)\(name) exists with another value: left alone")
            } else {
                changes.append(
                    DNSChange(
                        kind: .create, name: name, records: [.init(.create, aRecord(name, want.value)), .init(.create, companion(name))],
                        value: want.value, reason: want.source))
            }
        }
        var deletes: [DNSChange] = []
        for name in ownedNames.sorted() where desired[name] == nil && conflicts[name] == nil {
            var records: [DNSChange.Step] = []
            if let existing = a[name] { records.append(.init(.delete, existing)) }
            records.append(.init(.delete, txt[companionPrefix + name]!))
            let value = a[name]?.values.joined(separator: ",")
            if options.policy != .sync {
                entry(name, value, .skipped, "no longer wanted; kept: the policy is \(options.policy.rawValue)")
            } else {
                deletes.append(DNSChange(kind: .delete, name: name, records: records, value: value ?? "", reason: "no longer wanted"))
            }
        }

        var refusal: String?
        if !deletes.isEmpty, sourceIsEmpty, !options.allowEmptySource {
            refusal =
                "the mesh yielded no records at all while \(ownedNames.count) are owned here: no deletes (if the mesh really has no services, allow it with --allow-empty-source / KMESH_DNS_ALLOW_EMPTY_SOURCE=true)"
        } else if deletes.count > 5, Double(deletes.count) > options.maxDeleteFraction * Double(ownedNames.count), !options.force {
            refusal =
                "the pass would delete \(deletes.count) of the \(ownedNames.count) records owned here, more than --max-delete-fraction \(options.maxDeleteFraction): no deletes; check the mesh, then run once with --force"
        }
        if refusal != nil {
            for d in deletes {
                entry(d.name, d.value.isEmpty ? nil : d.value, .skipped, "not deleted: a guard refused the deletes (see the error)")
            }
        } else {
            changes += deletes
        }
        return DNSPlan(
            zone: zone, changes: changes, entries: entries.sorted { $0.name < $1.name }, refusal: refusal, owned: ownedNames.count)
    }
}

/// Splits changes into ChangeResourceRecordSets batches within Route 53's limits, never splitting
/// one name's A and TXT.
public enum DNSBatches {
    public static func split(_ changes: [DNSChange], maxRecords: Int = 1000, maxCharacters: Int = 32_000) -> [[DNSChange]] {
        var batches: [[DNSChange]] = []
        var current: [DNSChange] = []
        var records = 0
        var characters = 0
        for change in changes {
            let r = change.resourceRecordCount
            let c = change.valueCharacterCount
            if !current.isEmpty, records + r > maxRecords || characters + c > maxCharacters {
                batches.append(current)
                current = []
                records = 0
                characters = 0
            }
            current.append(change)
            records += r
            characters += c
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
