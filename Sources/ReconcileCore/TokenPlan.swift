import FoundationEssentials

/// A meshed task as the token reconciler sees it.
public struct MeshedTask: Sendable, Equatable {
    public var arn: String
    public var cluster: String
    public var service: String
    /// From the `kuma.io/mesh` tag; nil means the default mesh.
    public var mesh: String?
    public var lastStatus: String?

    public init(arn: String, cluster: String, service: String, mesh: String?, lastStatus: String? = nil) {
        self.arn = arn
        self.cluster = cluster
        self.service = service
        self.mesh = mesh
        self.lastStatus = lastStatus
    }
}

/// One (mesh, service) pair whose secret the pass looks after.
public struct ServiceKey: Sendable, Hashable, Comparable {
    public var mesh: String
    public var service: String
    public init(mesh: String, service: String) {
        self.mesh = mesh
        self.service = service
    }
    public static func < (a: ServiceKey, b: ServiceKey) -> Bool { (a.service, a.mesh) < (b.service, b.mesh) }
}

/// Tasks grouped by service, with what could not be grouped.
public struct TaskGrouping: Sendable, Equatable {
    public struct Invalid: Sendable, Equatable {
        public var taskArn: String
        public var value: String
        public var problem: String
    }

    public struct Conflict: Sendable, Equatable {
        public var service: String
        public var meshes: [String]
        public var taskArns: [String]
    }

    /// Valid, unambiguous services and their task ARNs (sorted).
    public var services: [ServiceKey: [String]]
    public var invalid: [Invalid]
    public var conflicts: [Conflict]

    /// Groups by (mesh, service). Tasks with invalid service values are set aside, and a service
    /// claimed by two meshes is a conflict: it gets no secret written, since one secret cannot hold
    /// tokens for both.
    public static func group(_ tasks: [MeshedTask], defaultMesh: String) -> TaskGrouping {
        var byService: [String: [String: [String]]] = [:]  // service -> mesh -> arns
        var invalid: [Invalid] = []
        for task in tasks {
            if let problem = ServiceName.problem(with: task.service) {
                invalid.append(Invalid(taskArn: task.arn, value: task.service, problem: problem))
                continue
            }
            let mesh = (task.mesh?.isEmpty == false ? task.mesh! : defaultMesh)
            byService[task.service, default: [:]][mesh, default: []].append(task.arn)
        }
        var services: [ServiceKey: [String]] = [:]
        var conflicts: [Conflict] = []
        for (service, meshes) in byService {
            if meshes.count > 1 {
                conflicts.append(Conflict(service: service, meshes: meshes.keys.sorted(), taskArns: meshes.values.flatMap { $0 }.sorted()))
            } else if let (mesh, arns) = meshes.first {
                services[ServiceKey(mesh: mesh, service: service)] = arns.sorted()
            }
        }
        return TaskGrouping(
            services: services, invalid: invalid.sorted { $0.taskArn < $1.taskArn },
            conflicts: conflicts.sorted { $0.service < $1.service })
    }
}

/// What the secret currently holds, as far as the decision needs to know.
public enum StoredSecret: Sendable, Equatable {
    /// No such secret: the workload's stack must create it.
    case missing
    /// The secret exists but has no current value: treated as `{}`.
    case noValue
    /// A value that is not a JSON object (never overwritten: it is not ours).
    case notAJSONObject
    /// A JSON object; `token` is its `token` key, if it is a string.
    case object(token: TokenFacts?, hasTokenKey: Bool)
}

/// What the reconciler could read from a stored token without verifying it.
public struct TokenFacts: Sendable, Equatable {
    public var isJWT: Bool
    public var mesh: String?
    public var services: [String]
    public var expiresAt: Date?

    public init(isJWT: Bool, mesh: String? = nil, services: [String] = [], expiresAt: Date? = nil) {
        self.isJWT = isJWT
        self.mesh = mesh
        self.services = services
        self.expiresAt = expiresAt
    }
}

public enum TokenDecision: Sendable, Equatable {
    case keep(reason: String)
    case replace(reason: String)
    case fail(reason: String)
}

public enum TokenPolicy {
    /// Whether the secret for `key` needs a new token, and why, at `now`.
    public static func decide(_ stored: StoredSecret, for key: ServiceKey, now: Date, renewBefore: Int64) -> TokenDecision {
        switch stored {
        case .missing:
            return .fail(
                reason:
                    "the secret does not exist: create it (value {}) in the workload's stack, and check the secret name prefix and the IAM policy"
            )
        case .notAJSONObject:
            return .fail(
                reason: "the secret's value is not a JSON object: it was left as it is; set it to {} to let the reconciler manage it")
        case .noValue:
            return .replace(reason: "the secret has no value yet")
        case .object(let token, let hasTokenKey):
            guard let token else {
                return .replace(reason: hasTokenKey ? "the token key is not a string" : "no token yet")
            }
            guard token.isJWT else { return .replace(reason: "the stored token is not a JWT") }
            if token.mesh != key.mesh {
                return .replace(reason: "the stored token is for mesh \(token.mesh.map { "\"\($0)\"" } ?? "(none)"), not \"\(key.mesh)\"")
            }
            if token.services != [key.service] {
                let shown = token.services.isEmpty ? "no service" : token.services.map { "\"\($0)\"" }.joined(separator: ", ")
                return .replace(reason: "the stored token is for \(shown), not \"\(key.service)\"")
            }
            guard let exp = token.expiresAt else { return .replace(reason: "the stored token has no expiry") }
            let left = exp.timeIntervalSince(now)
            if left <= 0 { return .replace(reason: "the stored token expired \(Self.span(-left)) ago") }
            if left <= Double(renewBefore) { return .replace(reason: "the stored token expires in \(Self.span(left))") }
            return .keep(reason: "valid for \(Self.span(left)) more")
        }
    }

    /// `3d4h`, `5h12m`, `42m`, `30s`: coarse, for people.
    public static func span(_ seconds: Double) -> String {
        let s = Int64(seconds.rounded(.down))
        let d = s / 86_400
        let h = s % 86_400 / 3600
        let m = s % 3600 / 60
        if d > 0 { return "\(d)d\(h)h" }
        if h > 0 { return "\(h)h\(m)m" }
        if m > 0 { return "\(m)m" }
        return "\(s)s"
    }
}
