/// When a job runs.
public enum Schedule: Sendable, Equatable {
    /// Calendar fields, evaluated in a zone.
    case cron(CronSpec)
    /// Every `seconds`, counted from an anchor (the scheduler's start; `--from` for `next`):
    /// `@every 90s`, EventBridge's `rate(5 minutes)`.
    case every(seconds: Int64)
    /// Once, when the scheduler starts.
    case reboot
}

/// The calendar fields of a cron schedule (5, 6 or 7 fields, or EventBridge's `cron()`).
public struct CronSpec: Sendable, Equatable {
    public enum Flavor: Sendable, Equatable { case vixie, eventBridge }

    public enum DayItem: Sendable, Equatable {
        case day(Int)
        /// `L` (0), `L-3` (3): the last day of the month minus n.
        case last(minus: Int)
        /// `15W`: the weekday nearest the 15th, never leaving the month.
        case nearestWeekday(Int)
        /// `LW`: the last weekday of the month.
        case lastWeekday
    }

    public enum WeekdayItem: Sendable, Equatable {
        /// 0 = Sunday ... 6 = Saturday.
        case weekday(Int)
        /// `5L`: the last such weekday of the month.
        case last(Int)
        /// `5#3`: the third such weekday of the month.
        case nth(Int, Int)
    }

    public var flavor: Flavor
    public var seconds: UInt64
    public var minutes: UInt64
    public var hours: UInt64
    /// Nil: any day of the month (`*` or `?`).
    public var days: [DayItem]?
    public var months: UInt64
    /// Nil: any day of the week.
    public var weekdays: [WeekdayItem]?
    /// Nil: any year.
    public var years: [ClosedRange<Int>]?
    /// ISC cron's rule: a `*` (or `*/n`) in the minute or hour field makes a job that follows the new
    /// wall clock across DST changes; a fixed-time job runs once in a gap or a repeated hour.
    public var isWildcard: Bool

    static func has(_ bits: UInt64, _ i: Int) -> Bool { i >= 0 && i < 64 && bits & (1 << UInt64(i)) != 0 }

    /// Whether the schedule's calendar fields allow day `days` (since 1970-01-01).
    func matches(day days: Int) -> Bool {
        let d = Civil.date(days: days)
        guard Self.has(months, d.month) else { return false }
        if let years, !years.contains(where: { $0.contains(d.year) }) { return false }
        let dom = self.days.map { items in items.contains { matches($0, d, days: days) } }
        let dow = weekdays.map { items in items.contains { matches($0, d, days: days) } }
        switch (dom, dow) {
        case (nil, nil): return true
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return a || b  // Vixie: either, when both are restricted
        }
    }

    func matches(_ item: DayItem, _ d: (year: Int, month: Int, day: Int), days: Int) -> Bool {
        let length = Civil.daysIn(month: d.month, year: d.year)
        switch item {
        case .day(let n): return d.day == n
        case .last(let minus): return d.day == length - minus
        case .nearestWeekday(let n):
            guard n <= length else { return false }
            let target = days - d.day + n
            let wd = Civil.weekday(days: target)
            var chosen = n
            if wd == 6 { chosen = n == 1 ? n + 2 : n - 1 }  // Saturday: Friday, or Monday the 3rd
            if wd == 0 { chosen = n == length ? n - 2 : n + 1 }  // Sunday: Monday, or Friday before
            return d.day == chosen
        case .lastWeekday:
            let lastDay = days - d.day + length
            let wd = Civil.weekday(days: lastDay)
            let chosen = wd == 6 ? length - 1 : wd == 0 ? length - 2 : length
            return d.day == chosen
        }
    }

    func matches(_ item: WeekdayItem, _ d: (year: Int, month: Int, day: Int), days: Int) -> Bool {
        let wd = Civil.weekday(days: days)
        switch item {
        case .weekday(let w): return wd == w
        case .last(let w): return wd == w && d.day + 7 > Civil.daysIn(month: d.month, year: d.year)
        case .nth(let w, let n): return wd == w && (d.day - 1) / 7 + 1 == n
        }
    }

    static func values(_ bits: UInt64, _ range: ClosedRange<Int>) -> [Int] { range.filter { has(bits, $0) } }
}

extension Schedule {
    /// The first planned instant strictly after `after` (UTC seconds), in `zone`; `anchor` is where
    /// interval schedules count from. Nil when the schedule never matches again (within 30 years).
    ///
    /// DST, as ISC cron: a fixed-time job whose time falls in a spring-forward gap runs once, at the
    /// gap's end; in a repeated hour it runs once, in the first copy. A wildcard job follows the new
    /// wall clock: nothing for times in a gap, every matching time in both copies of a repeated hour.
    public func next(after: Int64, zone: Zone, anchor: Int64) -> Int64? {
        switch self {
        case .reboot: return nil
        case .every(let seconds):
            guard seconds > 0 else { return nil }
            if after < anchor { return anchor + seconds }
            return anchor + ((after - anchor) / seconds + 1) * seconds
        case .cron(let spec): return spec.next(after: after, zone: zone)
        }
    }

    /// The interval between runs when they are evenly spaced (`@every`, `rate()`, or a cron schedule
    /// whose next runs are equally apart), for the health check; nil otherwise.
    public func regularInterval(zone: Zone, from: Int64) -> Int64? {
        switch self {
        case .reboot: return nil
        case .every(let seconds): return seconds
        case .cron:
            var times: [Int64] = []
            var t = from
            for _ in 0..<12 {
                guard let n = next(after: t, zone: zone, anchor: from) else { return nil }
                times.append(n)
                t = n
            }
            let gaps = Set(zip(times.dropFirst(), times).map { $0 - $1 })
            return gaps.count == 1 ? gaps.first : nil
        }
    }
}

extension CronSpec {
    public static let horizonDays = 366 * 30

    public func next(after: Int64, zone: Zone) -> Int64? {
        let start = zone.local(after)
        let startDay = Civil.days(year: start.year, month: start.month, day: start.day)
        // The day before too: a repeated hour can put a late time's second copy after `after`.
        let hs = Self.values(hours, 0...23)
        let ms = Self.values(minutes, 0...59)
        let ss = Self.values(seconds, 0...59)
        let startOfDay = start.hour * 3600 + start.minute * 60 + start.second
        for day in (startDay - 1)..<(startDay + Self.horizonDays) where matches(day: day) {
            // Times well before `after` cannot be next: skip them (3 hours covers any repeated hour).
            let lowest: Int
            if day == startDay - 1 {
                guard startOfDay < 3 * 3600 else { continue }
                lowest = 86_400 + startOfDay - 3 * 3600
            } else {
                lowest = day == startDay ? max(0, startOfDay - 3 * 3600) : 0
            }
            let date = Civil.date(days: day)
            var best: Int64?
            var bestWall: Int64?
            outer: for h in hs where h * 3600 + 3599 >= lowest {
                for m in ms where h * 3600 + m * 60 + 59 >= lowest {
                    for s in ss where h * 3600 + m * 60 + s >= lowest {
                        let local = LocalTime(year: date.year, month: date.month, day: date.day, hour: h, minute: m, second: s)
                        if let bw = bestWall, local.wallSeconds > bw + 3 * 3600 { break outer }
                        let instants = zone.instants(local)
                        let candidates: [Int64]
                        if instants.isEmpty {
                            candidates = isWildcard ? [] : [zone.gapEnd(after: local)]
                        } else {
                            candidates = isWildcard ? instants : [instants[0]]
                        }
                        for c in candidates where c > after && (best == nil || c < best!) {
                            best = c
                            bestWall = local.wallSeconds
                        }
                    }
                }
            }
            if let best { return best }
        }
        return nil
    }
}
