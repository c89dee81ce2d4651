import FoundationEssentials
import KMeshSupport

/// The value of a secret that holds a Kuma API token: the whole value (a plain JWT), or JSON with a
/// "token" key. Replacing the token keeps the format, and in JSON every other key.
public struct TokenSecretValue: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        case plain
        case json([String: JSONValue])
    }

    public var token: String
    public var format: Format

    public init(token: String, format: Format) {
        self.token = token
        self.format = format
    }

    /// Why the value holds no token, or the token and its format.
    public static func parse(_ text: String) -> Result<TokenSecretValue, TokenSecretProblem> {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { return .failure(.empty) }
        if trimmed.hasPrefix("{") {
            guard let json = try? JSONValue.parse(trimmed), let object = json.objectValue else {
                return .failure(.notJSON)
            }
            guard let token = object["token"]?.stringValue, !token.isEmpty else { return .failure(.noTokenKey) }
            return .success(TokenSecretValue(token: token, format: .json(object)))
        }
        return .success(TokenSecretValue(token: trimmed, format: .plain))
    }

    /// The secret's new value: `token` in place of the old one, in the same format.
    public func replacing(token newToken: String) -> String {
        switch format {
        case .plain: return newToken
        case .json(var object):
            object["token"] = .string(newToken)
            return (try? JSON.encode(JSONValue.object(object))).map { String(decoding: $0, as: UTF8.self) } ?? #"{"token":"\#(newToken)"}"#
        }
    }
}

public enum TokenSecretProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case empty, notJSON, noTokenKey
    public var description: String {
        switch self {
        case .empty: "it holds no token"
        case .notJSON: "it starts with { but is not a JSON object"
        case .noTokenKey: "it is JSON without a string \"token\" key"
        }
    }
}

/// What the rotation needs to know of a user token, read from its claims without verifying them.
public struct UserTokenFacts: Sendable, Equatable {
    public var name: String?
    public var groups: [String]
    public var expiresAt: Date?
    public var id: String?
    public init(name: String?, groups: [String], expiresAt: Date?, id: String?) {
        self.name = name
        self.groups = groups
        self.expiresAt = expiresAt
        self.id = id
    }
}

public enum RotationDecision: Sendable, Equatable {
    case keep(reason: String)
    case rotate(reason: String)
}

public enum UserTokenPolicy {
    /// Whether the token in AWSCURRENT must be replaced at `now`.
    public static func decide(
        _ current: UserTokenFacts?, name: String, groups: [String], now: Date, rotateBefore: Int64,
        force: Bool
    ) -> RotationDecision {
        guard let current else { return .rotate(reason: "the secret's token is not a Kuma user token (its claims cannot be read)") }
        guard let exp = current.expiresAt else { return .rotate(reason: "the token has no expiry") }
        let left = exp.timeIntervalSince(now)
        if left <= 0 { return .rotate(reason: "the token expired \(TokenPolicy.span(-left)) ago") }
        if left <= Double(rotateBefore) {
            return .rotate(reason: "the token expires in \(TokenPolicy.span(left)), within \(GoDuration(seconds: rotateBefore))")
        }
        if current.name != name {
            return .rotate(reason: "the token is for user \(current.name.map { "\"\($0)\"" } ?? "(none)"), not \"\(name)\"")
        }
        if Set(current.groups) != Set(groups) {
            return .rotate(
                reason:
                    "the token's groups are \(current.groups.sorted().joined(separator: ",")), not \(groups.sorted().joined(separator: ","))"
            )
        }
        if force { return .rotate(reason: "--force (the token is valid for \(TokenPolicy.span(left)) more)") }
        return .keep(reason: "valid for \(TokenPolicy.span(left)) more, more than \(GoDuration(seconds: rotateBefore))")
    }
}

/// Kuma's revocation list for user tokens: the global secret `user-token-revocations`, whose data
/// is comma-separated token ids.
public enum UserTokenRevocations {
    public static let secretName = "user-token-revocations"

    /// The list with `id` appended, or nil when it is already there. Other entries are never removed
    /// or reordered.
    public static func appending(_ id: String, to list: String) -> String? {
        let entries = list.split(separator: ",").map { $0.trimmingASCIIWhitespace() }
        if entries.contains(id) { return nil }
        let kept = list.trimmingASCIIWhitespace()
        return kept.isEmpty ? id : (kept.hasSuffix(",") ? kept + id : kept + "," + id)
    }
}

/// The outcome of one rotation pass or rotation step.
public struct RotationReport: PassReport, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case nothingToDo = "nothing-to-do"
        case rotated
        case wouldRotate = "would-rotate"
        case stepDone = "step-done"
        case failed
    }

    public struct Step: Sendable, Codable, Equatable {
        public var name: String
        /// done, reused, skipped, would, failed
        public var outcome: String
        public var detail: String
        public init(_ name: String, _ outcome: String, _ detail: String) {
            self.name = name
            self.outcome = outcome
            self.detail = detail
        }
    }

    /// A token as the report shows it: never the token itself.
    public struct TokenSummary: Sendable, Codable, Equatable {
        public var name: String?
        public var groups: [String]
        /// RFC 3339, UTC.
        public var expires: String?
        public var id: String?
        public init(_ facts: UserTokenFacts) {
            name = facts.name
            groups = facts.groups
            expires = facts.expiresAt.map { UTCTime.iso8601($0) }
            id = facts.id
        }
    }

    public var dryRun: Bool
    public var secret: String
    public var outcome: Outcome
    public var reason: String
    public var current: TokenSummary?
    public var new: TokenSummary?
    public var steps: [Step]
    public var errors: [String]
    public var durationSeconds: Double

    public init(
        dryRun: Bool, secret: String, outcome: Outcome, reason: String, current: UserTokenFacts?, new: UserTokenFacts?,
        steps: [Step], errors: [String], durationSeconds: Double
    ) {
        self.dryRun = dryRun
        self.secret = secret
        self.outcome = outcome
        self.reason = reason
        self.current = current.map(TokenSummary.init)
        self.new = new.map(TokenSummary.init)
        self.steps = steps
        self.errors = errors
        self.durationSeconds = durationSeconds
    }

    public var failed: Bool { outcome == .failed || !errors.isEmpty }
    public var failures: [String] { errors }

    public func json() -> String {
        (try? JSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public var summary: String {
        let seconds = (durationSeconds * 100).rounded() / 100
        var line = "\(dryRun ? "dry run: " : "")\(secret): \(outcome.rawValue) (\(reason))"
        if let exp = new?.expires { line += "; the new token is valid until \(exp)" }
        return line + " (\(seconds)s)"
    }

    public func text() -> String {
        var out = ""
        out += TextTable.render(steps.map { [$0.name, $0.outcome, $0.detail] })
        for e in errors { out += "error: \(e)\n" }
        return out + summary + "\n"
    }
}
