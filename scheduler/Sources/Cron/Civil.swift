import KMeshSupport

/// Calendar arithmetic on the proleptic Gregorian calendar, in whole days and seconds: no
/// Foundation calendar, no ICU (the day conversions are KMeshSupport's UTCTime's).
public enum Civil {
    /// Days since 1970-01-01 of a date.
    public static func days(year: Int, month: Int, day: Int) -> Int { Int(UTCTime.days(fromCivil: year, month, day)) }

    /// The date of a day number.
    public static func date(days: Int) -> (year: Int, month: Int, day: Int) { UTCTime.civil(fromDays: Int64(days)) }

    /// 0 = Sunday ... 6 = Saturday.
    public static func weekday(days: Int) -> Int { ((days % 7) + 11) % 7 }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A wall-clock time in some zone, to the second.
public struct LocalTime: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Seconds since 1970-01-01T00:00:00 of this wall-clock reading, as if it were UTC.
    public var wallSeconds: Int64 {
        Int64(Civil.days(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    public init(wallSeconds s: Int64) {
        let days = Int((s >= 0 ? s : s - 86_399) / 86_400)
        let rest = Int(s - Int64(days) * 86_400)
        let d = Civil.date(days: days)
        self.init(year: d.year, month: d.month, day: d.day, hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)
    }

    public static func < (a: LocalTime, b: LocalTime) -> Bool { a.wallSeconds < b.wallSeconds }

    public var description: String {
        func p(_ n: Int, _ w: Int = 2) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(p(year, 4))-\(p(month))-\(p(day))T\(p(hour)):\(p(minute)):\(p(second))"
    }
}
