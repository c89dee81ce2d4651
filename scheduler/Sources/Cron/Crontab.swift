import KMeshSupport

/// What happens when a job's next run comes while it still runs.
public enum OverlapPolicy: String, Sendable, Equatable, CaseIterable {
    /// The tick is skipped (logged and counted).
    case skip
    /// At most one run waits, and starts as soon as the running one ends.
    case queue
    /// Runs side by side.
    case allow
}

/// One job of a crontab.
public struct Job: Sendable, Equatable {
    public var name: String
    public var line: Int
    /// As written, for people (`*/5 * * * *`, `@every 1m`, `rate(5 minutes)`).
    public var scheduleText: String
    public var schedule: Schedule
    public var command: [String]
    /// The crontab's `KEY=VALUE` lines above this job.
    public var environment: [(String, String)]
    public var zone: Zone
    public var timeout: Int64?
    public var grace: Int64 = 10
    public var jitter: Int64 = 0
    public var overlap: OverlapPolicy = .skip
    public var runOnStart = false

    public static func == (a: Job, b: Job) -> Bool {
        a.name == b.name && a.line == b.line && a.scheduleText == b.scheduleText && a.schedule == b.schedule && a.command == b.command
            && a.environment.map { "\($0.0)=\($0.1)" } == b.environment.map { "\($0.0)=\($0.1)" } && a.zone == b.zone
            && a.timeout == b.timeout && a.grace == b.grace && a.jitter == b.jitter && a.overlap == b.overlap
            && a.runOnStart == b.runOnStart
    }
}

/// A bad line: `LINE:COL: why`, both from 1.
public struct CrontabError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// Every bad line of a crontab.
public struct CrontabErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [CrontabError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A crontab file: jobs, environment lines, `CRON_TZ`.
public struct Crontab: Sendable, Equatable {
    public var jobs: [Job]

    /// Every job, or every bad line. `defaultZone` serves jobs without `tz=` or a `CRON_TZ` line.
    public static func parse(_ text: String, defaultZone: Zone, zoneDirectory: String = "/usr/share/zoneinfo") -> Result<
        Crontab, CrontabErrors
    > {
        var jobs: [Job] = []
        var errors: [CrontabError] = []
        var environment: [(String, String)] = []
        var zone = defaultZone
        var names: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingASCIIWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let (key, value) = environmentLine(trimmed) {
                if key == "CRON_TZ" {
                    switch Zone.named(value, directory: zoneDirectory) {
                    case .success(let z): zone = z
                    case .failure(let e): errors.append(CrontabError(line: number, column: indent + 9, message: "\(e)"))
                    }
                } else {
                    environment.append((key, value))
                }
                continue
            }
            switch job(line, number: number, environment: environment, zone: zone, zoneDirectory: zoneDirectory) {
            case .failure(let p): errors.append(CrontabError(line: number, column: p.column, message: p.message))
            case .success(let job):
                if names.contains(job.name) {
                    errors.append(
                        CrontabError(
                            line: number, column: indent + 1, message: "duplicate job name \"\(job.name)\" (name=... must be unique)"))
                } else {
                    names.insert(job.name)
                    jobs.append(job)
                }
            }
        }
        return errors.isEmpty ? .success(Crontab(jobs: jobs)) : .failure(CrontabErrors(errors: errors))
    }

    /// `KEY=VALUE` (value optionally quoted); a key is a shell name.
    static func environmentLine(_ line: String) -> (String, String)? {
        guard let eq = line.firstIndex(of: "=") else { return nil }
        let key = line[..<eq].trimmingASCIIWhitespace()
        guard let first = key.first, first == "_" || first.isLetter,
            key.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
        else {
            return nil
        }
        var value = String(line[line.index(after: eq)...]).trimmingASCIIWhitespace()
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q { value = String(value.dropFirst().dropLast()) }
        return (String(key), value)
    }

    static func job(_ line: String, number: Int, environment: [(String, String)], zone: Zone, zoneDirectory: String) -> Result<
        Job, ParseProblem
    > {
        var tokens = ScheduleParser.tokenize(line)
        var options: [Token] = []
        if let first = tokens.first, first.text.hasPrefix("[") {
            // Options run to the token that ends with "]".
            var found = false
            while !tokens.isEmpty {
                let t = tokens.removeFirst()
                options.append(t)
                if t.text.hasSuffix("]") {
                    found = true
                    break
                }
            }
            guard found else { return .failure(ParseProblem(column: first.column, "[ without its closing ]")) }
        }
        var job = Job(
            name: "job-\(number)", line: number, scheduleText: "", schedule: .reboot, command: [], environment: environment,
            zone: zone)
        for (i, opt) in options.enumerated() {
            var text = Substring(opt.text)
            var column = opt.column
            if i == 0 {
                text = text.dropFirst()
                column += 1
            }
            if i == options.count - 1 { text = text.dropLast() }
            if text.isEmpty { continue }
            guard let eq = text.firstIndex(of: "=") else {
                return .failure(ParseProblem(column: column, "option \"\(text)\" is not key=value"))
            }
            let key = String(text[..<eq])
            let value = String(text[text.index(after: eq)...])
            let valueColumn = column + key.count + 1
            func duration() -> Result<Int64, ParseProblem> {
                guard let d = GoDuration(value)?.seconds else {
                    return .failure(ParseProblem(column: valueColumn, "\(key)=\(value) is not a Go duration (90s, 5m, 1h30m)"))
                }
                return .success(d)
            }
            switch key {
            case "name":
                guard !value.isEmpty,
                    value.utf8.allSatisfy({
                        ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 || $0 == 46
                    })
                else {
                    return .failure(ParseProblem(column: valueColumn, "name=\(value): a job name is letters, digits, '-', '_' and '.'"))
                }
                job.name = value
            case "timeout":
                switch duration() {
                case .success(let d): job.timeout = d > 0 ? d : nil
                case .failure(let p): return .failure(p)
                }
            case "grace":
                switch duration() {
                case .success(let d): job.grace = d
                case .failure(let p): return .failure(p)
                }
            case "jitter":
                switch duration() {
                case .success(let d): job.jitter = d
                case .failure(let p): return .failure(p)
                }
            case "overlap":
                guard let p = OverlapPolicy(rawValue: value) else {
                    return .failure(ParseProblem(column: valueColumn, "overlap=\(value) is not skip, queue or allow"))
                }
                job.overlap = p
            case "run-on-start":
                guard value == "true" || value == "false" else {
                    return .failure(ParseProblem(column: valueColumn, "run-on-start=\(value) is not true or false"))
                }
                job.runOnStart = value == "true"
            case "tz":
                switch Zone.named(value, directory: zoneDirectory) {
                case .success(let z): job.zone = z
                case .failure(let e): return .failure(ParseProblem(column: valueColumn, "\(e)"))
                }
            default:
                return .failure(
                    ParseProblem(
                        column: column, "unknown option \"\(key)\" (expected name, timeout, grace, jitter, overlap, run-on-start, tz)"))
            }
        }
        guard !tokens.isEmpty else {
            return .failure(ParseProblem(column: (options.last.map { $0.column + $0.text.count }) ?? 1, "missing schedule and command"))
        }
        let used: Int
        switch ScheduleParser.leading(tokens) {
        case .failure(let p): return .failure(p)
        case .success(let (schedule, n)):
            job.schedule = schedule
            used = n
        }
        job.scheduleText = tokens.prefix(used).map(\.text).joined(separator: " ")
        guard used < tokens.count else {
            return .failure(ParseProblem(column: tokens[used - 1].column + tokens[used - 1].text.count, "empty command"))
        }
        let commandColumn = tokens[used].column
        let commandText = String(line.dropFirst(commandColumn - 1))
        switch Argv.split(commandText) {
        case .success(let argv):
            guard !argv.isEmpty else { return .failure(ParseProblem(column: commandColumn, "empty command")) }
            job.command = argv
        case .failure(let p): return .failure(ParseProblem(column: commandColumn - 1 + p.column, p.message))
        }
        // One bounded search (30 years from 2026; parsing reads no clock): a schedule with no run in
        // it, such as Feb 30 or a year gone by, can never match.
        if case .cron(let spec) = job.schedule,
            spec.next(after: Int64(Civil.days(year: 2026, month: 1, day: 1)) * 86_400, zone: job.zone) == nil
        {
            return .failure(ParseProblem(column: tokens[0].column, "this schedule can never match"))
        }
        return .success(job)
    }
}

/// Shell-like splitting of a command line: words separated by blanks; single quotes keep
/// everything; double quotes keep everything but `\"` and `\\`; a backslash outside quotes takes
/// the next character as it is. No shell features (no $, no globs, no pipes): a line that wants a
/// shell writes `sh -c '...'`.
public enum Argv {
    public static func split(_ text: String) -> Result<[String], ParseProblem> {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var quoteColumn = 0
        var escape = false
        for (i, ch) in text.enumerated() {
            if escape {
                current.append(ch)
                escape = false
                continue
            }
            if let q = quote {
                if ch == q {
                    quote = nil
                } else if ch == "\\" && q == "\"" {
                    escape = true
                } else {
                    current.append(ch)
                }
                continue
            }
            switch ch {
            case " ", "\t":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            case "'", "\"":
                quote = ch
                quoteColumn = i + 1
                inWord = true
            case "\\":
                escape = true
                inWord = true
            default:
                current.append(ch)
                inWord = true
            }
        }
        if let q = quote { return .failure(ParseProblem(column: quoteColumn, "unclosed \(q == "'" ? "single" : "double") quote")) }
        if escape { return .failure(ParseProblem(column: text.count, "a backslash at the end of the line")) }
        if inWord { words.append(current) }
        return .success(words)
    }
}
