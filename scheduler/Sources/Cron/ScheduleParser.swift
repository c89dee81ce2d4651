import KMeshSupport

/// A problem at a place: 1-based column within the text parsed.
public struct ParseProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var column: Int
    public var message: String
    public init(column: Int, _ message: String) {
        self.column = column
        self.message = message
    }
    public var description: String { "\(column): \(message)" }
}

/// A token of a line and where it starts (1-based column).
public struct Token: Sendable, Equatable {
    public var text: String
    public var column: Int
    public init(_ text: String, column: Int) {
        self.text = text
        self.column = column
    }
}

public enum ScheduleParser {
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// A whole schedule given as one string (`next SCHEDULE`): `*/5 * * * *`, `@every 90s`,
    /// `rate(5 minutes)`, `cron(0 12 * * ? *)`.
    public static func parse(_ text: String) -> Result<Schedule, ParseProblem> {
        let tokens = tokenize(text)
        guard !tokens.isEmpty else { return .failure(ParseProblem(column: 1, "empty schedule")) }
        switch leading(tokens) {
        case .failure(let p): return .failure(p)
        case .success(let (schedule, used)):
            if used < tokens.count {
                return .failure(ParseProblem(column: tokens[used].column, "unexpected \"\(tokens[used].text)\" after the schedule"))
            }
            return .success(schedule)
        }
    }

    static func tokenize(_ text: String) -> [Token] {
        var out: [Token] = []
        var current = ""
        var start = 0
        for (i, ch) in text.enumerated() {
            if ch == " " || ch == "\t" {
                if !current.isEmpty { out.append(Token(current, column: start + 1)) }
                current = ""
            } else {
                if current.isEmpty { start = i }
                current.append(ch)
            }
        }
        if !current.isEmpty { out.append(Token(current, column: start + 1)) }
        return out
    }

    /// The schedule at the start of `tokens`, and how many tokens it took. Field schedules take the
    /// longest count (7, 6, then 5) that parses.
    public static func leading(_ tokens: [Token]) -> Result<(Schedule, Int), ParseProblem> {
        guard let first = tokens.first else { return .failure(ParseProblem(column: 1, "missing schedule")) }
        let t = first.text
        if t.hasPrefix("@") {
            if t == "@reboot" { return .success((.reboot, 1)) }
            if t == "@every" {
                guard tokens.count > 1 else {
                    return .failure(ParseProblem(column: first.column, "@every needs a duration, e.g. @every 90s"))
                }
                guard let d = GoDuration(tokens[1].text)?.seconds, d > 0 else {
                    return .failure(
                        ParseProblem(column: tokens[1].column, "\"\(tokens[1].text)\" is not a Go duration above zero (90s, 5m, 1h30m)"))
                }
                return .success((.every(seconds: d), 2))
            }
            guard let expansion = macros[t.lowercased()] else {
                return .failure(
                    ParseProblem(
                        column: first.column,
                        "unknown schedule \(t) (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every or @reboot)"
                    ))
            }
            let fields = expansion.split(separator: " ").map { Token(String($0), column: first.column) }
            return fieldSchedule(fields, flavor: .vixie, count: 5, wildcardOverride: t.lowercased() == "@hourly").map { ($0, 1) }
        }
        if t.hasPrefix("rate(") {
            return joinParenthesized(tokens).flatMap { text, used in rate(text, column: first.column).map { ($0, used) } }
        }
        if t.hasPrefix("cron(") {
            return joinParenthesized(tokens).flatMap { text, used -> Result<(Schedule, Int), ParseProblem> in
                let inner = String(text.dropFirst(5).dropLast())
                var fields = tokenize(inner)
                for i in fields.indices { fields[i].column += first.column + 4 }
                guard fields.count == 6 else {
                    return .failure(
                        ParseProblem(
                            column: first.column,
                            "cron() takes 6 fields (minutes hours day-of-month month day-of-week year), found \(fields.count)"))
                }
                return eventBridge(fields).map { ($0, used) }
            }
        }
        var firstError: ParseProblem?
        for count in [7, 6, 5] where tokens.count >= count {
            switch fieldSchedule(Array(tokens.prefix(count)), flavor: .vixie, count: count) {
            case .success(let s): return .success((s, count))
            case .failure(let p): if firstError == nil || count == 5 { firstError = p }
            }
        }
        if tokens.count < 5 {
            return .failure(
                ParseProblem(
                    column: first.column,
                    "a schedule has 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or 7 with a year; found \(tokens.count)"
                ))
        }
        return .failure(firstError!)
    }

    static func joinParenthesized(_ tokens: [Token]) -> Result<(String, Int), ParseProblem> {
        var text = ""
        for (i, tok) in tokens.enumerated() {
            text += (i == 0 ? "" : " ") + tok.text
            if tok.text.hasSuffix(")") { return .success((text, i + 1)) }
        }
        return .failure(ParseProblem(column: tokens[0].column, "\(tokens[0].text.prefix(5)) without its closing parenthesis"))
    }

    /// EventBridge's `rate(value unit)`: minute(s), hour(s), day(s); 1 takes the singular.
    static func rate(_ text: String, column: Int) -> Result<Schedule, ParseProblem> {
        let inner = text.dropFirst(5).dropLast().split(separator: " ")
        guard inner.count == 2, let n = Int64(inner[0]), n > 0 else {
            return .failure(ParseProblem(column: column, "rate() takes a positive whole number and a unit, e.g. rate(5 minutes)"))
        }
        let unit = String(inner[1])
        let seconds: Int64
        switch unit {
        case "minute", "minutes": seconds = 60
        case "hour", "hours": seconds = 3600
        case "day", "days": seconds = 86_400
        default: return .failure(ParseProblem(column: column, "rate() unit \"\(unit)\" is not minute(s), hour(s) or day(s)"))
        }
        if (n == 1) != !unit.hasSuffix("s") {
            return .failure(
                ParseProblem(
                    column: column,
                    n == 1
                        ? "rate(1 \(unit)) takes the singular: rate(1 \(unit.dropLast()))"
                        : "rate(\(n) \(unit)) takes the plural: rate(\(n) \(unit)s)"))
        }
        return .success(.every(seconds: n * seconds))
    }

    /// EventBridge `cron(min hour dom month dow year)`: day-of-week 1-7 is SUN-SAT; one of dom and
    /// dow must be `?`.
    static func eventBridge(_ f: [Token]) -> Result<Schedule, ParseProblem> {
        let dom = f[2].text
        let dow = f[4].text
        guard (dom == "?") != (dow == "?") else {
            return .failure(
                ParseProblem(
                    column: dom == "?" ? f[4].column : f[2].column,
                    "in cron() exactly one of day-of-month and day-of-week must be ?"))
        }
        let fields = [Token("0", column: f[0].column)] + f
        return fieldSchedule(fields, flavor: .eventBridge, count: 7)
    }

    enum Field { case second, minute, hour, dom, month, dow, year }

    static func fieldSchedule(_ tokens: [Token], flavor: CronSpec.Flavor, count: Int, wildcardOverride: Bool = false) -> Result<
        Schedule, ParseProblem
    > {
        var t = tokens
        if count == 5 { t.insert(Token("0", column: tokens[0].column), at: 0) }
        do {
            let seconds = try bits(t[0], .second, 0...59, flavor)
            let minutes = try bits(t[1], .minute, 0...59, flavor)
            let hours = try bits(t[2], .hour, 0...23, flavor)
            let days = try dayItems(t[3], flavor)
            let months = try bits(t[4], .month, 1...12, flavor)
            let weekdays = try weekdayItems(t[5], flavor)
            var years: [ClosedRange<Int>]?
            if t.count > 6 { years = try yearRanges(t[6]) }
            let wildcard = wildcardOverride || t[1].text.hasPrefix("*") || t[2].text.hasPrefix("*")
            let spec = CronSpec(
                flavor: flavor, seconds: seconds, minutes: minutes, hours: hours, days: days, months: months,
                weekdays: weekdays, years: years, isWildcard: wildcard)
            if let problem = impossible(spec) { throw ParseProblem(column: t[3].column, problem) }
            return .success(.cron(spec))
        } catch let p as ParseProblem {
            return .failure(p)
        } catch {
            return .failure(ParseProblem(column: tokens[0].column, "\(error)"))
        }
    }

    /// A schedule whose day-of-month can never fall in its months (Feb 30).
    static func impossible(_ spec: CronSpec) -> String? {
        guard spec.weekdays == nil, let days = spec.days else { return nil }
        let fixed = days.compactMap { item -> Int? in if case .day(let d) = item { d } else { nil } }
        guard fixed.count == days.count else { return nil }
        let months = CronSpec.values(spec.months, 1...12)
        let longest = months.map { $0 == 2 ? 29 : Civil.daysIn(month: $0, year: 2001) }.max() ?? 0
        if fixed.allSatisfy({ $0 > longest }) {
            return
                "this schedule can never match: day \(fixed.min()!) does not exist in \(months.map { monthNames[$0 - 1] }.joined(separator: ","))"
        }
        return nil
    }

    static func number(_ s: Substring, _ field: Field, _ flavor: CronSpec.Flavor) -> Int? {
        if let n = Int(s) { return n }
        let upper = s.uppercased()
        if field == .month, let i = monthNames.firstIndex(of: upper) { return i + 1 }
        if field == .dow, let i = dayNames.firstIndex(of: upper) { return flavor == .eventBridge ? i + 1 : i }
        return nil
    }

    static func name(_ f: Field) -> String {
        switch f {
        case .second: "second"
        case .minute: "minute"
        case .hour: "hour"
        case .dom: "day-of-month"
        case .month: "month"
        case .dow: "day-of-week"
        case .year: "year"
        }
    }

    /// The values a plain field allows, as a bit set.
    static func bits(_ token: Token, _ field: Field, _ range: ClosedRange<Int>, _ flavor: CronSpec.Flavor) throws -> UInt64 {
        var out: UInt64 = 0
        for value in try values(token, field, range, flavor) { out |= 1 << UInt64(value) }
        return out
    }

    static func values(_ token: Token, _ field: Field, _ range: ClosedRange<Int>, _ flavor: CronSpec.Flavor) throws -> [Int] {
        var out: [Int] = []
        var offset = 0
        for part in token.text.split(separator: ",", omittingEmptySubsequences: false) {
            let column = token.column + offset
            offset += part.count + 1
            guard !part.isEmpty else { throw ParseProblem(column: column, "empty list item in the \(name(field)) field") }
            var base = Substring(part)
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                base = part[..<slash]
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw ParseProblem(column: column, "the step in \"\(part)\" is not a whole number above zero")
                }
                step = s
            }
            var lo: Int
            var hi: Int
            if base == "*" || (base == "?" && (field == .dom || field == .dow)) {
                lo = range.lowerBound
                hi = range.upperBound
            } else if let dash = base.firstIndex(of: "-"), dash != base.startIndex {
                guard let a = number(base[..<dash], field, flavor), let b = number(base[base.index(after: dash)...], field, flavor) else {
                    throw ParseProblem(column: column, "\"\(part)\" is not a number, range or name in the \(name(field)) field")
                }
                lo = a
                hi = b
                guard lo <= hi else { throw ParseProblem(column: column, "the range \"\(base)\" ends before it starts") }
            } else {
                guard let a = number(base, field, flavor) else {
                    throw ParseProblem(column: column, "\"\(part)\" is not a number, range or name in the \(name(field)) field")
                }
                lo = a
                hi = part.contains("/") ? range.upperBound : a
            }
            var valid = range
            if field == .dow, flavor == .vixie { valid = 0...7 }
            guard valid.contains(lo), valid.contains(hi) else {
                throw ParseProblem(
                    column: column,
                    "\(lo < valid.lowerBound || lo > valid.upperBound ? lo : hi) is out of range for the \(name(field)) field (\(valid.lowerBound)-\(valid.upperBound))"
                )
            }
            var v = lo
            while v <= hi {
                out.append(v)
                v += step
            }
        }
        return out
    }

    static func dayItems(_ token: Token, _ flavor: CronSpec.Flavor) throws -> [CronSpec.DayItem]? {
        if token.text == "*" || token.text == "?" { return nil }
        var items: [CronSpec.DayItem] = []
        var offset = 0
        for part in token.text.split(separator: ",", omittingEmptySubsequences: false) {
            let sub = Token(String(part), column: token.column + offset)
            offset += part.count + 1
            let upper = part.uppercased()
            if upper == "L" {
                items.append(.last(minus: 0))
            } else if upper == "LW" {
                items.append(.lastWeekday)
            } else if upper.hasPrefix("L-") {
                guard let n = Int(upper.dropFirst(2)), (0...30).contains(n) else {
                    throw ParseProblem(column: sub.column, "\"\(part)\" needs a day count from 0 to 30 after L-")
                }
                items.append(.last(minus: n))
            } else if upper.hasSuffix("W") {
                guard let n = Int(upper.dropLast()), (1...31).contains(n) else {
                    throw ParseProblem(column: sub.column, "\"\(part)\" needs a day of the month (1-31) before W")
                }
                items.append(.nearestWeekday(n))
            } else {
                items += try values(sub, .dom, 1...31, flavor).map { .day($0) }
            }
        }
        return items
    }

    static func weekdayItems(_ token: Token, _ flavor: CronSpec.Flavor) throws -> [CronSpec.WeekdayItem]? {
        if token.text == "*" || token.text == "?" { return nil }
        var items: [CronSpec.WeekdayItem] = []
        var offset = 0
        /// Vixie 0-7 (0 and 7 Sunday), EventBridge 1-7 (1 Sunday) -> 0...6.
        func normal(_ v: Int) -> Int { flavor == .eventBridge ? v - 1 : v % 7 }
        for part in token.text.split(separator: ",", omittingEmptySubsequences: false) {
            let sub = Token(String(part), column: token.column + offset)
            offset += part.count + 1
            let valid = flavor == .eventBridge ? 1...7 : 0...7
            if part.uppercased().hasSuffix("L"), part.count > 1 {
                guard let d = number(part.dropLast(), .dow, flavor), valid.contains(d) else {
                    throw ParseProblem(column: sub.column, "\"\(part)\" needs a day of the week before L (5L: the last Friday)")
                }
                items.append(.last(normal(d)))
            } else if let hash = part.firstIndex(of: "#") {
                guard let d = number(part[..<hash], .dow, flavor), valid.contains(d), let n = Int(part[part.index(after: hash)...]),
                    (1...5).contains(n)
                else {
                    throw ParseProblem(column: sub.column, "\"\(part)\" is day#n with n from 1 to 5 (5#3: the third Friday)")
                }
                items.append(.nth(normal(d), n))
            } else {
                items += try values(sub, .dow, flavor == .eventBridge ? 1...7 : 0...6, flavor).map { .weekday(normal($0)) }
            }
        }
        return items
    }

    static func yearRanges(_ token: Token) throws -> [ClosedRange<Int>]? {
        if token.text == "*" { return nil }
        let values = try values(token, .year, 1970...2199, .vixie)
        return values.map { $0...$0 }
    }
}
