import FoundationEssentials
import KMeshSupport

/// The claims of a Kuma token, read without verifying the signature. Good enough to decide whether
/// a stored token is for the right mesh and service and how long it has left; the control plane
/// remains the judge of validity.
public struct KumaTokenClaims: Sendable, Equatable {
    public var keyId: String?
    public var algorithm: String?
    /// Dataplane tokens: `Name`, `Mesh`, `Tags`, `Type`. User tokens: `Name`, `Groups`.
    public var name: String?
    public var mesh: String?
    public var tags: [String: [String]]
    public var type: String?
    public var groups: [String]
    public var expiresAt: Date?
    public var issuedAt: Date?
    public var notBefore: Date?
    public var id: String?

    public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        case notAJWT(String)
        public var description: String {
            switch self {
            case .notAJWT(let why): "not a JWT: \(why)"
            }
        }
    }

    /// Reads the header and payload of a compact JWS. Never echoes any part of the token.
    public static func decode(_ token: Secret) throws -> KumaTokenClaims {
        let parts = token.value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw DecodeError.notAJWT("expected 3 dot-separated parts, found \(parts.count)") }
        guard let headerData = Base64URL.decode(parts[0]), let payloadData = Base64URL.decode(parts[1]) else {
            throw DecodeError.notAJWT("a part is not base64url")
        }
        guard let header = try? JSONValue.parse(headerData), header.objectValue != nil,
            let payload = try? JSONValue.parse(payloadData), payload.objectValue != nil
        else {
            throw DecodeError.notAJWT("the header or payload is not a JSON object")
        }
        func date(_ key: String) -> Date? {
            if case .number(let n)? = payload[key] { return Date(timeIntervalSince1970: n) }
            return nil
        }
        var tags: [String: [String]] = [:]
        for (k, v) in payload["Tags"]?.objectValue ?? [:] {
            if case .array(let values) = v { tags[k] = values.compactMap(\.stringValue) }
        }
        var groups: [String] = []
        if case .array(let g)? = payload["Groups"] { groups = g.compactMap(\.stringValue) }
        return KumaTokenClaims(
            keyId: header["kid"]?.stringValue, algorithm: header["alg"]?.stringValue,
            name: payload["Name"]?.stringValue, mesh: payload["Mesh"]?.stringValue, tags: tags,
            type: payload["Type"]?.stringValue, groups: groups, expiresAt: date("exp"), issuedAt: date("iat"),
            notBefore: date("nbf"), id: payload["jti"]?.stringValue)
    }
}
