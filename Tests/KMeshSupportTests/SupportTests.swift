import Foundation
import Logging
import Testing

@testable import KMeshSupport

struct GoDurationTests {
    @Test(arguments: [
        ("8760h", 31_536_000), ("720h0m0s", 2_592_000), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400),
        ("0", 0), ("500ms", 0), ("2h45m30s", 9930),
    ])
    func parses(_ text: String, _ seconds: Int64) {
        #expect(GoDuration(text)?.seconds == seconds)
    }

    @Test(arguments: ["", "10d", "h", "1x", "-5m", "1h 30m", "abc"])
    func rejects(_ text: String) { #expect(GoDuration(text) == nil) }

    @Test func formatsAsGoDoes() {
        #expect(GoDuration(seconds: 31_536_000).description == "8760h0m0s")
        #expect(GoDuration(seconds: 1800).description == "30m0s")
        #expect(GoDuration(seconds: 45).description == "45s")
        #expect(GoDuration(GoDuration(seconds: 9930).description)?.seconds == 9930)
    }
}

struct UTCTimeTests {
    @Test(arguments: [
        ("2026-01-23T17:57:58Z", 1_769_191_078.0), ("2026-01-23T17:57:34.402Z", 1_769_191_054.402),
        ("2015-08-30T12:36:00+02:00", 1_440_930_960.0), ("1970-01-01T00:00:00Z", 0),
    ])
    func parsesISO8601(_ text: String, _ epoch: Double) throws {
        let d = try #require(UTCTime.parseISO8601(text))
        #expect(abs(d.timeIntervalSince1970 - epoch) < 0.001)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00", "garbage"])
    func rejectsMalformed(_ text: String) { #expect(UTCTime.parseISO8601(text) == nil) }

    @Test func formatsAndRoundTrips() {
        let d = Date(timeIntervalSince1970: 1_769_191_054.402)
        #expect(UTCTime.iso8601(d) == "2026-01-23T17:57:34Z")
        #expect(UTCTime.iso8601(d, milliseconds: true) == "2026-01-23T17:57:34.402Z")
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: 59.9996), milliseconds: true) == "1970-01-01T00:01:00.000Z")
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: -0.25), milliseconds: true) == "1969-12-31T23:59:59.750Z")
    }
}

struct ValueTests {
    @Test func secretsNeverPrint() {
        let s = Secret("hunter2")
        #expect("\(s)" == "<redacted>" && String(reflecting: s) == "<redacted>")
        #expect(!"\([s])".contains("hunter2"))
    }

    @Test func base64URLRoundTrip() {
        let data = Data([0xfb, 0xff, 0xfe, 0x00, 0x41])
        #expect(Base64URL.encode(data) == "-__-AEE")
        #expect(Base64URL.decode("-__-AEE") == data)
        #expect(Base64URL.decode("a") == nil)
    }

    @Test func jsonValueKeepsUnknownKeys() throws {
        let text = #"{"token":"x","other":{"n":1,"list":[true,null,"s"]}}"#
        let v = try JSON.decode(JSONValue.self, from: Data(text.utf8))
        #expect(String(decoding: try JSON.encode(v), as: UTF8.self) == #"{"other":{"list":[true,null,"s"],"n":1},"token":"x"}"#)
    }

    @Test func environmentTreatsEmptyAsUnset() {
        let env = Environment(["A": "", "B": "TRUE", "C": "0"])
        #expect(env["A"] == nil && env.bool("B") == true && env.bool("C") == false && env.bool("D") == nil)
    }

    @Test func jsonLogLinesAreOneObjectWithSortedMetadata() throws {
        let line = LineLogHandler.render(
            format: .json, level: .info, message: "pass \"done\"\n",
            metadata: ["b-key": "2", "a-key": .array(["x"])], date: Date(timeIntervalSince1970: 0))
        #expect(line == #"{"ts":"1970-01-01T00:00:00.000Z","level":"info","msg":"pass \"done\"\n","a-key":["x"],"b-key":"2"}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
    }

    @Test func textLogLinesStayOneLineWhateverAValueHolds() {
        let line = LineLogHandler.render(
            format: .text, level: .error, message: "call failed\nforged line",
            metadata: ["error": "a\r\nb\u{1B}[2J"], date: Date(timeIntervalSince1970: 0))
        #expect(line == "1970-01-01T00:00:00.000Z ERROR call failed forged line error=a b [2J")
    }
}

struct PrintableLineTests {
    @Test(arguments: [
        ("plain text", "plain text"),
        ("  two\n\nlines\r\n ", "two lines"),
        ("tab\there", "tab here"),
        ("esc\u{1B}[31mred", "esc [31mred"),
        ("nel\u{85}ls\u{2028}ps\u{2029}end", "nel ls ps end"),
        ("bidi\u{202E}txet\u{2066}x\u{2069}", "bidi txet x"),
        ("nul\u{0}del\u{7F}", "nul del"),
        ("caf\u{E9} \u{1F600} ok", "caf\u{E9} \u{1F600} ok"),
        ("", ""),
        ("\n\r\t", ""),
    ])
    func controlsBecomeOneSpace(_ input: String, _ expected: String) {
        #expect(input.printableLine() == expected)
        #expect(input.printableLine().isPrintableLine)
    }

    @Test func longTextIsCutAtTheLimit() {
        #expect(String(repeating: "a", count: 10).printableLine(limit: 10) == String(repeating: "a", count: 10))
        #expect(String(repeating: "a", count: 11).printableLine(limit: 10) == String(repeating: "a", count: 10) + "...")
        #expect("ab  \n  cd".printableLine(limit: 3) == "ab...")
        #expect(!"a\nb".isPrintableLine && "a b".isPrintableLine)
    }
}
