import KMeshSupport

/// RFC 3339 times with the zone's offset (`2026-03-08T03:00:00-04:00`), and back.
public enum RFC3339 {
    public static func format(_ utc: Int64, zone: Zone) -> String {
        let offset = zone.offset(at: utc)
        let local = LocalTime(wallSeconds: utc + Int64(offset))
        if offset == 0 { return "\(local)Z" }
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        func p(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(local)\(sign)\(p(a / 3600)):\(p(a % 3600 / 60))"
    }

    /// `YYYY-MM-DDTHH:MM:SS` with `Z` or `±HH:MM` (fractions of a second are dropped), read by
    /// KMeshSupport's ISO-8601 parser.
    public static func parse(_ text: String) -> Int64? {
        UTCTime.parseISO8601(text).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
    }
}
