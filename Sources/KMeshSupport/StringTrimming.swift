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

extension StringProtocol {
    /// Text a peer sent (an error code, message or request id, a response body), made safe to put
    /// in one error or log line: every control character (CR, LF, tab, ESC, NEL, ...), the Unicode
    /// line and paragraph separators and the bidirectional overrides become a space, runs of spaces
    /// collapse to one, the ends are trimmed, and more than `limit` Unicode scalars are cut with "...".
    /// A peer can then neither split a line in two nor repaint the terminal.
    public func printableLine(limit: Int = 400) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var kept = 0
        for scalar in unicodeScalars {
            if scalar.isUnprintable || scalar == " " {
                pendingSpace = !out.isEmpty
                continue
            }
            if kept + (pendingSpace ? 1 : 0) >= limit {
                out.append(contentsOf: "...".unicodeScalars)
                return String(out)
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
                kept += 1
            }
            out.append(scalar)
            kept += 1
        }
        return String(out)
    }
}

extension StringProtocol {
    /// True when `printableLine` would change nothing but spacing and length: no scalar that
    /// could split a line or reach a terminal as a control.
    public var isPrintableLine: Bool { !unicodeScalars.contains { $0.isUnprintable } }
}

extension Unicode.Scalar {
    /// Control characters, line and paragraph separators, and the bidi embedding, override and
    /// isolate controls: what must not reach a terminal or split a line.
    public var isUnprintable: Bool {
        switch properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        default: return (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
        }
    }
}
