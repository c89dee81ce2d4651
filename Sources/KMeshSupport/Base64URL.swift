import FoundationEssentials

public enum Base64URL {
    /// Decodes unpadded base64url (RFC 4648 §5), as used in JWT segments.
    public static func decode(_ text: some StringProtocol) -> Data? {
        var s = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        switch s.count % 4 {
        case 0: break
        case 2: s += "=="
        case 3: s += "="
        default: return nil
        }
        return Data(base64Encoded: s)
    }

    public static func encode(_ data: Data) -> String {
        var s = data.base64EncodedString()
        s = String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }
}
