import FoundationEssentials

/// Calendar arithmetic for UTC timestamps, without ICU or `DateFormatter` (neither exists in
/// FoundationEssentials). Used for ISO-8601 in AWS responses, Kuma JWT claims and logs.
public enum UTCTime {
    public struct Fields: Sendable, Equatable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int
    }

    public static func fields(_ date: Date) -> Fields {
        let t = date.timeIntervalSince1970
        let whole = Int64(t.rounded(.down))
        let nanos = Int(((t - Double(whole)) * 1e9).rounded(.down))
        var days = whole / 86_400
        var secs = whole % 86_400
        if secs < 0 {
            secs += 86_400
            days -= 1
        }
        let (y, m, d) = civil(fromDays: days)
        return Fields(
            year: y, month: m, day: d, hour: Int(secs / 3600), minute: Int(secs % 3600 / 60),
            second: Int(secs % 60), nanosecond: max(0, min(nanos, 999_999_999)))
    }

    /// `2026-01-23T17:57:58Z`, or with milliseconds `2026-01-23T17:57:58.402Z`.
    public static func iso8601(_ date: Date, milliseconds: Bool = false) -> String {
        // Rounded to whole milliseconds first, so .9996 carries into the next second and binary
        // fractions do not truncate (.402 is stored as .40199...).
        let totalMs = (date.timeIntervalSince1970 * 1000).rounded()
        let whole = Date(timeIntervalSince1970: milliseconds ? (totalMs / 1000).rounded(.down) : date.timeIntervalSince1970)
        let f = fields(whole)
        var s = "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if milliseconds {
            let ms = Int(totalMs - (totalMs / 1000).rounded(.down) * 1000)
            s += "." + pad(ms, 3)
        }
        return s + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; a space may stand for `T`.
    public static func parseISO8601(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else { return nil }
        guard i < b.count, b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil }
        i += 1
        guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        // No February 30th: the day must exist in its month.
        guard civil(fromDays: days(fromCivil: year, month, day)) == (year, month, day) else { return nil }
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        var offset = 0
        guard i < b.count else { return nil }
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 45 ? -1 : 1
            i += 1
            guard let oh = number(2) else { return nil }
            _ = expect(58)
            guard let om = number(2) else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset))
        return Date(timeIntervalSince1970: seconds + fraction)
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    public static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
