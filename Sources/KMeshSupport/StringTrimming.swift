extension StringProtocol {
    /// Drops leading and trailing ASCII whitespace (space, tab, CR, LF), by bytes: `"\r\n"` is a
    /// single Character in Swift, so a Character-based trim misses it, and FoundationEssentials has
    /// no `trimmingCharacters(in:)`.
    public func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        func space(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
        guard let first = bytes.firstIndex(where: { !space($0) }), let last = bytes.lastIndex(where: { !space($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
