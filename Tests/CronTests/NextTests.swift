import Cron
import Foundation
import Testing

/// next(): a pure function of a time, a schedule and a zone.
struct NextTests {
    static let zoneinfo = "/usr/share/zoneinfo"

    func zone(_ name: String) throws -> Zone { try Zone.named(name, directory: Self.zoneinfo).get() }

    func schedule(_ text: String) throws -> Schedule {
        switch ScheduleParser.parse(text) {
        case .success(let s): return s
        case .failure(let p): throw p
        }
    }

    /// The next `count` runs after `from`, as RFC 3339 in the zone.
    func runs(_ text: String, from: String, zone name: String = "UTC", count: Int = 3) throws -> [String] {
        let s = try schedule(text)
        let z = try zone(name)
        var t = try #require(RFC3339.parse(from), "bad time \(from)")
        let anchor = t
        var out: [String] = []
        for _ in 0..<count {
            guard let n = s.next(after: t, zone: z, anchor: anchor) else { break }
            out.append(RFC3339.format(n, zone: z))
            t = n
        }
        return out
    }

    @Test(
        arguments: [
            ("*/15 * * * *", "2026-01-01T00:07:00Z", ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"]),
            ("0 9-17/4 * * MON-FRI", "2026-12-04T10:00:00Z", ["2026-12-04T13:00:00Z", "2026-12-04T17:00:00Z", "2026-12-07T09:00:00Z"]),
            ("30 2 1,15 jan,JUL *", "2026-01-10T00:00:00Z", ["2026-01-15T02:30:00Z", "2026-07-01T02:30:00Z", "2026-07-15T02:30:00Z"]),
            ("*/20 * * * * *", "2026-01-01T00:00:05Z", ["2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"]),
            ("0 0 12 1 1 * 2027-2028", "2026-06-01T00:00:00Z", ["2027-01-01T12:00:00Z", "2028-01-01T12:00:00Z"]),
            ("@yearly", "2026-06-01T00:00:00Z", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"]),
            ("@monthly", "2026-01-31T00:00:00Z", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]),
            ("@weekly", "2026-12-01T00:00:00Z", ["2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-20T00:00:00Z"]),
            ("@daily", "2026-12-01T10:00:00Z", ["2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"]),
            ("@hourly", "2026-12-01T10:30:00Z", ["2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z", "2026-12-01T13:00:00Z"]),
            ("@every 90s", "2026-12-01T10:00:00Z", ["2026-12-01T10:01:30Z", "2026-12-01T10:03:00Z", "2026-12-01T10:04:30Z"]),
            ("rate(5 minutes)", "2026-12-01T10:00:00Z", ["2026-12-01T10:05:00Z", "2026-12-01T10:10:00Z", "2026-12-01T10:15:00Z"]),
            ("rate(1 day)", "2026-12-01T10:00:00Z", ["2026-12-02T10:00:00Z", "2026-12-03T10:00:00Z", "2026-12-04T10:00:00Z"]),
            ("rate(2 hours)", "2026-12-01T10:00:00Z", ["2026-12-01T12:00:00Z", "2026-12-01T14:00:00Z", "2026-12-01T16:00:00Z"]),
            // Vixie: both day fields restricted -> either matches.
            ("0 0 13 * FRI", "2026-02-01T00:00:00Z", ["2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"]),
            ("0 0 * * 0,7", "2026-12-01T00:00:00Z", ["2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-20T00:00:00Z"]),
            // L, L-3, W, LW, 5L, 5#3.
            ("0 0 L * *", "2026-01-01T00:00:00Z", ["2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"]),
            ("0 0 L-3 * *", "2026-01-01T00:00:00Z", ["2026-01-28T00:00:00Z", "2026-02-25T00:00:00Z", "2026-03-28T00:00:00Z"]),
            ("0 0 15W * *", "2026-02-01T00:00:00Z", ["2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z", "2026-04-15T00:00:00Z"]),
            ("0 0 1W * *", "2026-08-01T00:00:00Z", ["2026-08-03T00:00:00Z", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"]),
            ("0 0 LW * *", "2026-01-01T00:00:00Z", ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-31T00:00:00Z"]),
            ("0 0 * * 5L", "2026-01-01T00:00:00Z", ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"]),
            ("0 0 * * 5#3", "2026-01-01T00:00:00Z", ["2026-01-16T00:00:00Z", "2026-02-20T00:00:00Z", "2026-03-20T00:00:00Z"]),
            // Leap years.
            ("0 0 29 2 *", "2026-01-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]),
            // EventBridge: day-of-week 1-7 is SUN-SAT; ? in one day field.
            ("cron(0 12 ? * 2 *)", "2026-12-01T00:00:00Z", ["2026-12-07T12:00:00Z", "2026-12-14T12:00:00Z", "2026-12-21T12:00:00Z"]),
            ("cron(0 12 ? * MON-FRI *)", "2026-12-04T13:00:00Z", ["2026-12-07T12:00:00Z", "2026-12-08T12:00:00Z", "2026-12-09T12:00:00Z"]),
            (
                "cron(15 10 ? * 6L 2026-2027)", "2026-11-01T00:00:00Z",
                ["2026-11-27T10:15:00Z", "2026-12-25T10:15:00Z", "2027-01-29T10:15:00Z"]
            ),
            ("cron(0/30 8 1 * ? *)", "2026-12-01T08:10:00Z", ["2026-12-01T08:30:00Z", "2027-01-01T08:00:00Z", "2027-01-01T08:30:00Z"]),
        ] as [(String, String, [String])])
    func syntaxes(_ text: String, _ from: String, _ expected: [String]) throws {
        #expect(try runs(text, from: from, count: expected.count) == expected)
    }

    @Test func fixedTimeJobsInASpringForwardGapRunOnceAtTheGapsEnd() throws {
        // New York: 2026-03-08 02:00 -> 03:00.
        #expect(
            try runs("30 2 * * *", from: "2026-03-07T12:00:00-05:00", zone: "America/New_York") == [
                "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
            ])
        // Several planned times inside one gap: one run at the gap's end.
        #expect(
            try runs("0,15,30,45 2 * * *", from: "2026-03-08T01:50:00-05:00", zone: "America/New_York", count: 2) == [
                "2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00",
            ])
        // Berlin: 2026-03-29 02:00 -> 03:00.
        #expect(
            try runs("0 2 * * *", from: "2026-03-28T12:00:00+01:00", zone: "Europe/Berlin", count: 2) == [
                "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00",
            ])
    }

    @Test func wildcardJobsFollowTheNewWallClock() throws {
        // No run for the times in the gap.
        #expect(
            try runs("30 * * * *", from: "2026-03-08T00:45:00-05:00", zone: "America/New_York") == [
                "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-08T04:30:00-04:00",
            ])
        // Every matching time in both copies of the repeated hour (New York: 2026-11-01 02:00 -> 01:00).
        #expect(
            try runs("30 * * * *", from: "2026-11-01T00:45:00-04:00", zone: "America/New_York", count: 4) == [
                "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00", "2026-11-01T03:30:00-05:00",
            ])
    }

    @Test func fixedTimeJobsRunOnceInARepeatedHour() throws {
        #expect(
            try runs("30 1 * * *", from: "2026-10-31T12:00:00-04:00", zone: "America/New_York", count: 2) == [
                "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00",
            ])
        // Starting inside, or between, the two copies gives the next day.
        #expect(
            try runs("30 1 * * *", from: "2026-11-01T01:40:00-04:00", zone: "America/New_York", count: 1) == ["2026-11-02T01:30:00-05:00"])
        #expect(
            try runs("30 1 * * *", from: "2026-11-01T01:10:00-05:00", zone: "America/New_York", count: 1) == ["2026-11-02T01:30:00-05:00"])
        // Berlin: 2026-10-25 03:00 -> 02:00.
        #expect(
            try runs("30 2 * * *", from: "2026-10-24T12:00:00+02:00", zone: "Europe/Berlin", count: 2) == [
                "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
            ])
    }

    @Test func lordHowesHalfHourShift() throws {
        // Lord Howe: +10:30 standard, +11 in summer; 2026-10-04 02:00 -> 02:30, 2026-04-05 02:00 -> 01:30.
        #expect(
            try runs("15 2 * * *", from: "2026-10-03T12:00:00+10:30", zone: "Australia/Lord_Howe", count: 2) == [
                "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00",
            ])
        #expect(
            try runs("*/20 * * * *", from: "2026-10-04T01:50:00+10:30", zone: "Australia/Lord_Howe", count: 3) == [
                "2026-10-04T02:40:00+11:00", "2026-10-04T03:00:00+11:00", "2026-10-04T03:20:00+11:00",
            ])
        #expect(
            try runs("45 1 * * *", from: "2026-04-04T12:00:00+11:00", zone: "Australia/Lord_Howe", count: 2) == [
                "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30",
            ])
    }

    @Test func farFutureUsesTheZonesRule() throws {
        // Beyond the TZif's transition table (2037): the footer's POSIX rule.
        #expect(try runs("0 12 * * *", from: "2045-07-01T00:00:00Z", zone: "Europe/Berlin", count: 1) == ["2045-07-01T12:00:00+02:00"])
        #expect(try runs("0 12 * * *", from: "2045-12-01T00:00:00Z", zone: "Europe/Berlin", count: 1) == ["2045-12-01T12:00:00+01:00"])
    }

    @Test func impossibleAndBadSchedules() {
        for (text, mention) in [
            ("0 0 30 2 *", "can never match"), ("0 0 31 4,6 *", "can never match"), ("61 * * * *", "out of range"),
            ("0 0 * * MON-SUNDAY", "not a number"), ("*/0 * * * *", "step"),
            ("cron(0 12 * * MON *)", "exactly one"), ("cron(0 12 ? * 8 *)", "out of range"), ("rate(1 minutes)", "singular"),
            ("rate(5 minute)", "plural"), ("@every 0s", "above zero"), ("@sometimes", "unknown schedule"), ("5-1 * * * *", "ends before"),
        ] {
            guard case .failure(let p) = ScheduleParser.parse(text) else {
                Issue.record("\(text) parsed")
                continue
            }
            #expect(p.message.contains(mention), "\(text): \(p.message)")
        }
    }

    @Test func regularIntervals() throws {
        let z = Zone.utc
        #expect(try schedule("*/5 * * * *").regularInterval(zone: z, from: 0) == 300)
        #expect(try schedule("rate(1 minute)").regularInterval(zone: z, from: 0) == 60)
        #expect(try schedule("0 9 * * MON-FRI").regularInterval(zone: z, from: 0) == nil)
        #expect(try schedule("0 0 1 * *").regularInterval(zone: z, from: 0) == nil)
    }

    @Test func rfc3339RoundTrips() throws {
        let ny = try zone("America/New_York")
        let t = try #require(RFC3339.parse("2026-11-01T01:30:00-05:00"))
        #expect(RFC3339.format(t, zone: ny) == "2026-11-01T01:30:00-05:00")
        #expect(RFC3339.parse("2026-11-01T06:30:00Z") == t && RFC3339.parse("2026-02-30T00:00:00Z") == nil)
    }
}
