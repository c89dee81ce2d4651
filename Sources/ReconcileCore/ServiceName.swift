/// What may stand in a `kuma.io/service` tag before it becomes part of a secret name.
public enum ServiceName {
    public static let maxLength = 253

    /// Nil when `value` is a valid Kuma service name (letters, digits, `-`, `_`, `.`; no `..`; at
    /// most 253 characters); otherwise why not, in words for the report.
    public static func problem(with value: String) -> String? {
        if value.isEmpty { return "the kuma.io/service tag is empty" }
        if value.utf8.count > maxLength { return "the kuma.io/service tag is longer than \(maxLength) characters" }
        if let bad = value.unicodeScalars.first(where: { !isAllowed($0) }) {
            let shown = bad.value < 0x20 || bad.value == 0x7f ? "U+\(String(bad.value, radix: 16, uppercase: true))" : "\"\(bad)\""
            return "the kuma.io/service tag contains \(shown); only letters, digits, '-', '_' and '.' are allowed"
        }
        if value.contains("..") { return "the kuma.io/service tag contains \"..\"" }
        return nil
    }

    static func isAllowed(_ u: Unicode.Scalar) -> Bool {
        (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || (u >= "0" && u <= "9") || u == "-" || u == "_" || u == "."
    }
}
