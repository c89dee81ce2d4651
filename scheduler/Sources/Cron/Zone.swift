import KMeshSupport

/// A time zone's rules, from the system's tzdata (TZif files under /usr/share/zoneinfo) or a POSIX
/// TZ string: the UTC offset at any instant, and the instants a wall-clock time names (none in a
/// spring-forward gap, two in a fall-back repeated hour).
public struct Zone: Sendable, Equatable {
    public let name: String
    /// Transition instants (UTC seconds), ascending, and the offset in force from each.
    let transitions: [Int64]
    let offsets: [Int]
    /// Before the first transition.
    let initialOffset: Int
    /// After the last transition: the TZif footer's rule.
    let rule: PosixRule?

    public static let utc = Zone(name: "UTC", transitions: [], offsets: [], initialOffset: 0, rule: nil)

    /// Where TZif files are looked up (`ZONEINFO` overrides, as in Go).
    public static func directory(_ environment: [String: String]) -> String {
        environment["ZONEINFO"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/zoneinfo"
    }

    /// The zone named `name` (`Europe/Berlin`, `UTC`), or why not.
    public static func named(_ name: String, directory: String = "/usr/share/zoneinfo") -> Result<Zone, ZoneError> {
        if name == "UTC" || name == "Etc/UTC" || name == "GMT" || name == "Z" { return .success(.utc) }
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(".."),
            name.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        else { return .failure(.unknown(name)) }
        guard let bytes = readFile(directory + "/" + name) else { return .failure(.unknown(name)) }
        return parseTZif(bytes, name: name)
    }

    /// The default zone: `TZ` (a name, `:name`, or a path), else /etc/localtime, else UTC.
    public static func local(_ environment: [String: String]) -> Zone {
        let dir = directory(environment)
        if var tz = environment["TZ"], !tz.isEmpty {
            if tz.hasPrefix(":") { tz.removeFirst() }
            if tz.hasPrefix("/"), let bytes = readFile(tz), case .success(let z) = parseTZif(bytes, name: tz) { return z }
            if case .success(let z) = named(tz, directory: dir) { return z }
            if let rule = PosixRule.parse(tz) {
                return Zone(name: tz, transitions: [], offsets: [], initialOffset: rule.standardOffset, rule: rule)
            }
        }
        if let bytes = readFile("/etc/localtime"), case .success(let z) = parseTZif(bytes, name: "localtime") { return z }
        return .utc
    }

    /// Seconds east of UTC in force at `utc`.
    public func offset(at utc: Int64) -> Int {
        if transitions.isEmpty || utc < transitions[0] {
            if transitions.isEmpty, let rule { return rule.offset(at: utc) }
            return initialOffset
        }
        if utc >= transitions[transitions.count - 1], let rule { return rule.offset(at: utc) }
        var lo = 0
        var hi = transitions.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if transitions[mid] <= utc { lo = mid } else { hi = mid - 1 }
        }
        return offsets[lo]
    }

    public func local(_ utc: Int64) -> LocalTime { LocalTime(wallSeconds: utc + Int64(offset(at: utc))) }

    /// The instants at which the wall clock reads `time`: one normally, none in a gap, two in a
    /// repeated hour (earlier first).
    public func instants(_ time: LocalTime) -> [Int64] {
        let wall = time.wallSeconds
        var found: [Int64] = []
        for probe in [wall - 86_400, wall + 86_400, wall] {
            let candidate = wall - Int64(offset(at: probe))
            if offset(at: candidate) == Int(wall - candidate), !found.contains(candidate) { found.append(candidate) }
        }
        return found.sorted()
    }

    /// The first instant after `time` at which the wall clock shows a time not before it: for a time
    /// in a gap, the gap's end (the transition).
    public func gapEnd(after time: LocalTime) -> Int64 {
        let wall = time.wallSeconds
        // The transition lies within a day of the wall time read as UTC.
        var lo = wall - 2 * 86_400
        var hi = wall + 2 * 86_400
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if mid + Int64(offset(at: mid)) > wall { hi = mid } else { lo = mid }
        }
        return hi
    }

    // MARK: TZif

    static func readFile(_ path: String) -> [UInt8]? { FileReader.read(path, limit: 4 << 20).map { Array($0) } }

    static func parseTZif(_ b: [UInt8], name: String) -> Result<Zone, ZoneError> {
        func be32(_ i: Int) -> Int64 {
            guard i + 4 <= b.count else { return 0 }
            return Int64(Int32(bitPattern: UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])))
        }
        func be64(_ i: Int) -> Int64 {
            guard i + 8 <= b.count else { return 0 }
            var v: UInt64 = 0
            for k in 0..<8 { v = v << 8 | UInt64(b[i + k]) }
            return Int64(bitPattern: v)
        }
        guard b.count >= 44, b[0] == 0x54, b[1] == 0x5A, b[2] == 0x69, b[3] == 0x66 else { return .failure(.notTZif(name)) }
        let version = b[4]
        func counts(_ at: Int) -> (isut: Int, isstd: Int, leap: Int, time: Int, type: Int, char: Int) {
            (Int(be32(at + 20)), Int(be32(at + 24)), Int(be32(at + 28)), Int(be32(at + 32)), Int(be32(at + 36)), Int(be32(at + 40)))
        }
        var header = 0
        var c = counts(header)
        var timeSize = 4
        if version >= 0x32 {
            // Skip the 32-bit block: the 64-bit one follows.
            header += 44 + c.time * 5 + c.type * 6 + c.char + c.leap * 8 + c.isstd + c.isut
            guard header + 44 <= b.count else { return .failure(.notTZif(name)) }
            c = counts(header)
            timeSize = 8
        }
        var p = header + 44
        let needed = c.time * (timeSize + 1) + c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut
        guard c.type >= 1, p + needed <= b.count else { return .failure(.notTZif(name)) }
        var times: [Int64] = []
        for i in 0..<c.time { times.append(timeSize == 8 ? be64(p + i * 8) : be32(p + i * 4)) }
        p += c.time * timeSize
        let indices = (0..<c.time).map { Int(b[p + $0]) }
        p += c.time
        var types: [(offset: Int, dst: Bool)] = []
        for i in 0..<c.type { types.append((Int(be32(p + i * 6)), b[p + i * 6 + 4] != 0)) }
        p += c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut
        var rule: PosixRule?
        if timeSize == 8, p < b.count, b[p] == 10, let end = b[(p + 1)...].firstIndex(of: 10) {
            rule = PosixRule.parse(String(decoding: b[(p + 1)..<end], as: UTF8.self))
        }
        guard indices.allSatisfy({ $0 < types.count }) else { return .failure(.notTZif(name)) }
        let initial = types.first { !$0.dst }?.offset ?? types[0].offset
        return .success(Zone(name: name, transitions: times, offsets: indices.map { types[$0].offset }, initialOffset: initial, rule: rule))
    }
}

public enum ZoneError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknown(String)
    case notTZif(String)
    public var description: String {
        switch self {
        case .unknown(let n): "unknown time zone \"\(n)\" (no such file under the zoneinfo directory)"
        case .notTZif(let n): "the time zone file for \"\(n)\" is not a TZif file"
        }
    }
}

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+1030>-10:30<+11>-11,M10.1.0,M4.1.0`), as the
/// TZif footer gives for instants after the last listed transition.
public struct PosixRule: Sendable, Equatable {
    /// Seconds east of UTC.
    public let standardOffset: Int
    let dstOffset: Int?
    let start: DateRule?
    let end: DateRule?

    struct DateRule: Sendable, Equatable {
        enum Kind: Sendable, Equatable {
            case monthWeekDay(month: Int, week: Int, weekday: Int)
            case julianNoLeap(Int)  // Jn: 1...365, Feb 29 never counted
            case zeroBased(Int)  // n: 0...365
        }
        var kind: Kind
        /// Local time of day of the change, seconds (may be negative or > 24h).
        var time: Int

        /// The local wall-clock second (as if UTC) of this change in `year`.
        func wall(in year: Int) -> Int64 {
            let day: Int
            switch kind {
            case .monthWeekDay(let m, let w, let wd):
                let first = Civil.days(year: year, month: m, day: 1)
                var d = first + (wd - Civil.weekday(days: first) + 7) % 7 + (w - 1) * 7
                if w == 5 { while d - first >= Civil.daysIn(month: m, year: year) { d -= 7 } }
                day = d
            case .julianNoLeap(let n):
                let jan1 = Civil.days(year: year, month: 1, day: 1)
                day = jan1 + n - 1 + (Civil.isLeap(year) && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                day = Civil.days(year: year, month: 1, day: 1) + n
            }
            return Int64(day) * 86_400 + Int64(time)
        }
    }

    func offset(at utc: Int64) -> Int {
        guard let dst = dstOffset, let start, let end else { return standardOffset }
        let year = LocalTime(wallSeconds: utc + Int64(standardOffset)).year
        // Start is given in standard time, end in daylight time.
        let s = start.wall(in: year) - Int64(standardOffset)
        let e = end.wall(in: year) - Int64(dst)
        if s < e { return utc >= s && utc < e ? dst : standardOffset }
        return utc >= e && utc < s ? standardOffset : dst  // southern hemisphere
    }

    public static func parse(_ text: String) -> PosixRule? {
        var s = Substring(text)
        func name() -> Bool {
            if s.hasPrefix("<") {
                guard let close = s.firstIndex(of: ">") else { return false }
                s = s[s.index(after: close)...]
                return true
            }
            let n = s.prefix { $0.isLetter }
            guard n.count >= 3 else { return false }
            s = s.dropFirst(n.count)
            return true
        }
        func time() -> Int? {
            var sign = 1
            if s.hasPrefix("+") {
                s.removeFirst()
            } else if s.hasPrefix("-") {
                sign = -1
                s.removeFirst()
            }
            var parts: [Int] = []
            while true {
                let digits = s.prefix { $0.isNumber }
                guard !digits.isEmpty, let v = Int(digits) else { return nil }
                parts.append(v)
                s = s.dropFirst(digits.count)
                guard parts.count < 3, s.hasPrefix(":") else { break }
                s.removeFirst()
            }
            let seconds = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
            return sign * seconds
        }
        func date() -> DateRule? {
            var kind: DateRule.Kind
            if s.hasPrefix("M") {
                s.removeFirst()
                let fields = s.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
                s = s.dropFirst(s.prefix { $0.isNumber || $0 == "." }.count)
                guard fields.count == 3, (1...12).contains(fields[0]), (1...5).contains(fields[1]), (0...6).contains(fields[2]) else {
                    return nil
                }
                kind = .monthWeekDay(month: fields[0], week: fields[1], weekday: fields[2])
            } else if s.hasPrefix("J") {
                s.removeFirst()
                let digits = s.prefix { $0.isNumber }
                guard let n = Int(digits), (1...365).contains(n) else { return nil }
                s = s.dropFirst(digits.count)
                kind = .julianNoLeap(n)
            } else {
                let digits = s.prefix { $0.isNumber }
                guard let n = Int(digits), (0...365).contains(n) else { return nil }
                s = s.dropFirst(digits.count)
                kind = .zeroBased(n)
            }
            var t = 7200
            if s.hasPrefix("/") {
                s.removeFirst()
                guard let v = time() else { return nil }
                t = v
            }
            return DateRule(kind: kind, time: t)
        }
        guard name(), let std = time() else { return nil }
        // POSIX offsets are west of UTC: CET-1 is UTC+1.
        if s.isEmpty { return PosixRule(standardOffset: -std, dstOffset: nil, start: nil, end: nil) }
        guard name() else { return nil }
        var dst = -std + 3600
        if !s.hasPrefix(","), !s.isEmpty {
            guard let d = time() else { return nil }
            dst = -d
        }
        guard s.hasPrefix(",") else { return s.isEmpty ? PosixRule(standardOffset: -std, dstOffset: nil, start: nil, end: nil) : nil }
        s.removeFirst()
        guard let start = date(), s.hasPrefix(",") else { return nil }
        s.removeFirst()
        guard let end = date(), s.isEmpty else { return nil }
        return PosixRule(standardOffset: -std, dstOffset: dst, start: start, end: end)
    }
}
