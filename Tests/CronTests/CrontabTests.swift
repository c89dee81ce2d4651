import Cron
import Testing

struct CrontabTests {
    func parse(_ text: String) -> Result<Crontab, CrontabErrors> {
        Crontab.parse(text, defaultZone: .utc, zoneDirectory: "/usr/share/zoneinfo")
    }

    @Test func jobsOptionsEnvironmentAndZones() throws {
        let text = """
            # the reconcilers
            KMESH_OUTPUT=json
            LOG_LEVEL = "debug"
            [name=tokens jitter=20s timeout=10m grace=5s run-on-start=true] * * * * * reconcile-tokens --cluster prod
            CRON_TZ=Europe/Berlin
            [overlap=queue] 0 3 * * * rotate-user-token
            [tz=America/New_York name=dns overlap=allow] rate(1 minute) reconcile-dns --output 'json'
            */10 * * * * * sh -c 'echo "a b" | wc -c'
            @reboot   echo started
            """
        let tab = try parse(text).get()
        #expect(tab.jobs.map(\.name) == ["tokens", "job-6", "dns", "job-8", "job-9"])
        let tokens = tab.jobs[0]
        #expect(tokens.jitter == 20 && tokens.timeout == 600 && tokens.grace == 5 && tokens.runOnStart && tokens.overlap == .skip)
        #expect(tokens.command == ["reconcile-tokens", "--cluster", "prod"] && tokens.scheduleText == "* * * * *" && tokens.zone == .utc)
        #expect(tokens.environment.map { "\($0.0)=\($0.1)" } == ["KMESH_OUTPUT=json", "LOG_LEVEL=debug"])
        #expect(tab.jobs[1].zone.name == "Europe/Berlin" && tab.jobs[1].overlap == .queue)
        #expect(tab.jobs[1].environment.map { "\($0.0)=\($0.1)" } == ["KMESH_OUTPUT=json", "LOG_LEVEL=debug"])
        #expect(
            tab.jobs[2].zone.name == "America/New_York" && tab.jobs[2].schedule == .every(seconds: 60)
                && tab.jobs[2].command == ["reconcile-dns", "--output", "json"])
        #expect(tab.jobs[3].command == ["sh", "-c", "echo \"a b\" | wc -c"], "six fields: the seconds come first")
        #expect(tab.jobs[4].schedule == .reboot && tab.jobs[4].command == ["echo", "started"])
    }

    @Test func theLongestFieldCountThatParsesWins() throws {
        let tab = try parse("0 0 12 * * * 2027 run\n0 12 * * * 5 run-with-arg\n").get()
        #expect(tab.jobs[0].scheduleText == "0 0 12 * * * 2027" && tab.jobs[0].command == ["run"])
        #expect(
            tab.jobs[1].scheduleText == "0 12 * * * 5" && tab.jobs[1].command == ["run-with-arg"],
            "a command that starts with a digit must be quoted")
        let quoted = try parse("0 12 * * * '5' run\n").get()
        #expect(quoted.jobs[0].command == ["5", "run"])
    }

    @Test func everyBadLineIsReportedWithItsLineAndColumn() {
        let text = """
            ok=1
            [colour=red] * * * * * a
            61 * * * * b
            * * * * *
            [timeout=soon] * * * * * c
            CRON_TZ=Mars/Olympus
            [name=x] * * * * * d
            [name=x] * * * * * e
            0 0 30 2 * never
            * * * * * echo 'unclosed
            [tz=Nowhere/Land] @daily f
            """
        guard case .failure(let errors) = parse(text) else {
            Issue.record("parsed")
            return
        }
        let lines = errors.errors.map(\.description)
        #expect(lines.count == 9, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("2:2: unknown option \"colour\"") })
        #expect(lines.contains { $0.hasPrefix("3:1: 61 is out of range for the minute field") })
        #expect(lines.contains { $0.hasPrefix("4:") && $0.contains("empty command") })
        #expect(lines.contains { $0.hasPrefix("5:10: timeout=soon is not a Go duration") })
        #expect(lines.contains { $0.hasPrefix("6:9: unknown time zone \"Mars/Olympus\"") })
        #expect(lines.contains { $0.hasPrefix("8:1: duplicate job name \"x\"") })
        #expect(lines.contains { $0.hasPrefix("9:5: this schedule can never match") })
        #expect(lines.contains { $0.hasPrefix("10:16: unclosed single quote") })
        #expect(lines.contains { $0.hasPrefix("11:5: unknown time zone \"Nowhere/Land\"") })
    }

    @Test func argvSplitsLikeAShellWithoutShellFeatures() throws {
        #expect(try Argv.split(#"a "b c" 'd "e"' f\ g "h\"i" $HOME"#).get() == ["a", "b c", "d \"e\"", "f g", "h\"i", "$HOME"])
        #expect(try Argv.split("  x   y  ").get() == ["x", "y"])
        #expect(try Argv.split(#"''"#).get() == [""])
    }
}
