/// Go's duration strings (`8760h`, `720h0m0s`, `1h30m`, `90s`, `1.5h`), as Kuma's `validFor` and
/// this project's flags take them. There is no `d` unit, as in Go.
public struct GoDuration: Sendable, Hashable, CustomStringConvertible, Comparable {
    public let seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func < (a: GoDuration, b: GoDuration) -> Bool { a.seconds < b.seconds }

    /// Parses a Go duration; sub-second parts are rounded down. Nil when malformed or negative.
    public init?(_ text: String) {
        if text == "0" {
            seconds = 0
            return
        }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        guard total.isFinite, total < 9e15 else { return nil }
        seconds = Int64(total)
    }

    /// Go's canonical form: `8760h0m0s`, `30m0s`, `45s`, `0s`.
    public var description: String {
        if seconds == 0 { return "0s" }
        let h = seconds / 3600
        let m = seconds % 3600 / 60
        let s = seconds % 60
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }
}
