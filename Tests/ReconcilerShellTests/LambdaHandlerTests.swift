import Foundation
import KMeshSupport
import LambdaRuntime
import Logging
import ReconcileCore
import TestSupport
import Testing

@testable import ReconcilerShell

/// The shell's Lambda handler over a scripted reconciler: what every function does before and after
/// its own pass.
struct LambdaHandlerTests {
    struct Report: PassReport, Encodable {
        var items: [String]
        var problems: [String] = []
        var failed: Bool { !problems.isEmpty }
        func json() -> String { String(decoding: try! JSONEncoder().encode(self), as: UTF8.self) }
        func text() -> String { summary + "\n" }
        var summary: String { "\(items.count) items" }
        var failures: [String] { problems }
    }

    /// Records every pass it is asked for.
    final class Scripted: EventDrivenReconciler, Sendable {
        enum Scope: Sendable, Equatable {
            case all
            case one(String)
        }
        let state = Locked<(passes: [(Scope, Date?)], fail: Bool)>(([], false))
        var passes: [(Scope, Date?)] { state.withLock { $0.passes } }
        func failing(_ on: Bool) { state.withLock { $0.fail = on } }
        var fullScope: Scope { .all }
        static var servedEvents: String? { #""Widget Changed" from acme"# }

        func route(_ event: [String: JSONValue]) -> EventRoute<Scope>? {
            guard event["detail-type"]?.stringValue == "Widget Changed" else { return nil }
            guard let id = event["detail"]?["id"]?.stringValue else {
                return .reject(FunctionError(type: "Function.MalformedEvent", message: "no detail.id"))
            }
            if id == "gone" { return .skip("widget gone") }
            return .pass(.one(id), dedupe: (key: "w#\(id)", description: "widget \(id)"))
        }

        func run(_ scope: Scope, deadline: Date?) async -> Report {
            if case .one("slow") = scope {
                // A request that would outlive the invocation: only cancellation ends it early, and
                // then the sleep throws instead of running its 20 s.
                do {
                    try await Task.sleep(for: .seconds(20))
                    return Report(items: ["slow"], problems: [])
                } catch {
                    return Report(items: ["slow"], problems: ["slow: cancelled at the deadline, its 20 s sleep interrupted"])
                }
            }
            return state.withLock { s in
                s.passes.append((scope, deadline))
                return Report(items: ["a"], problems: s.fail ? ["a: broken", "b: broken too"] : [])
            }
        }
    }

    func invoke(_ handler: ReconcilerLambdaHandler<Scripted>, _ body: String, deadlineMs: Int64? = nil) async -> Result<Data, FunctionError>
    {
        await handler.handle(Invocation(requestId: "r1", deadlineMs: deadlineMs, body: Data(body.utf8)), logger: LogCapture().logger())
    }

    @Test func emptyAndScheduledEventsAreFullPassesAndTheDeadlineKeepsAMargin() async throws {
        let r = Scripted()
        let handler = ReconcilerLambdaHandler(reconciler: r)
        _ = await invoke(handler, "{}")
        _ = await invoke(handler, #"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#, deadlineMs: 1_800_000_010_000)
        #expect(r.passes.map(\.0) == [.all, .all])
        #expect(r.passes[0].1 == nil)
        #expect(r.passes[1].1 == Date(timeIntervalSince1970: 1_800_000_007), "the deadline less the 3 s margin")
    }

    @Test func badEventsAreErrorsNamedByType() async throws {
        let r = Scripted()
        let handler = ReconcilerLambdaHandler(reconciler: r)
        let cases: [(String, String)] = [
            ("[1,2]", "Function.MalformedEvent"), ("{nope", "Function.MalformedEvent"),
            (String(repeating: " ", count: 300_000) + "{}", "Function.PayloadTooLarge"),
            (#"{"detail-type":"Other","source":"x"}"#, "Function.UnsupportedEvent"),
            (#"{"detail-type":"Widget Changed","detail":{}}"#, "Function.MalformedEvent"),
        ]
        for (body, type) in cases {
            guard case .failure(let e) = await invoke(handler, body) else {
                Issue.record("\(type) answered")
                continue
            }
            #expect(e.errorType == type)
        }
        guard case .failure(let unsupported) = await invoke(handler, #"{"detail-type":"Other","source":"x"}"#) else { return }
        #expect(
            unsupported.errorMessage
                == #"unsupported event: detail-type "Other" from source "x"; expected "Widget Changed" from acme, "Scheduled Event", or {}"#
        )
        #expect(r.passes.isEmpty)
    }

    @Test func whatIsStillInFlightAtTheDeadlineIsCancelled() async throws {
        let handler = ReconcilerLambdaHandler(reconciler: Scripted())
        let started = ContinuousClock.now
        let deadline = Int64((Date().timeIntervalSince1970 + 1.5) * 1000)  // the cancel margin is 1 s
        let result = await invoke(handler, #"{"detail-type":"Widget Changed","detail":{"id":"slow"}}"#, deadlineMs: deadline)
        // Left alone the pass sleeps 20 s and succeeds; cancelled, its sleep is interrupted. That, not
        // a wall-clock bound, is what is checked: under TSan, with CPU-heavy suites holding both
        // threads of the cooperative pool, the guard's wake-up itself came 19 s late once.
        guard case .failure(let error) = result else {
            Issue.record("the pass ran on instead of being cancelled")
            return
        }
        #expect(error.errorType == "Function.ReconcileFailed" && error.errorMessage.contains("its 20 s sleep interrupted"))
        // ... and not before the guard's time, the deadline less the 1 s cancel margin.
        #expect(ContinuousClock.now - started >= .milliseconds(450), "cancelled before the deadline's margin")
    }

    @Test func aRepeatIsSkippedOnlyAfterASuccess() async throws {
        let r = Scripted()
        let handler = ReconcilerLambdaHandler(reconciler: r)
        let event = #"{"detail-type":"Widget Changed","detail":{"id":"7"}}"#
        r.failing(true)
        guard case .failure(let failed) = await invoke(handler, event) else {
            Issue.record("a failed pass answered")
            return
        }
        #expect(failed.errorType == "Function.ReconcileFailed" && failed.errorMessage == "2 failures: a: broken; b: broken too")
        r.failing(false)
        guard case .success = await invoke(handler, event) else {
            Issue.record("the retry failed")
            return
        }
        guard case .success(let body) = await invoke(handler, event) else { return }
        #expect(String(decoding: body, as: UTF8.self) == #"{"skipped":"repeat of an event already handled (widget 7)"}"#)
        guard case .success(let skipped) = await invoke(handler, #"{"detail-type":"Widget Changed","detail":{"id":"gone"}}"#) else {
            return
        }
        #expect(String(decoding: skipped, as: UTF8.self) == #"{"skipped":"widget gone"}"#)
        #expect(r.passes.map(\.0) == [.one("7"), .one("7")])
    }
}

struct SettingTests {
    let s = Setting(flag: "--ttl", variable: "KMESH_DNS_TTL")

    @Test func flagsWinAndBadValuesNameTheirSource() throws {
        let env = Environment(["KMESH_DNS_TTL": "30"])
        #expect(try s.value("90", env, expected: "seconds") { Int($0) } == 90)
        #expect(try s.value(nil, env, expected: "seconds") { Int($0) } == 30)
        #expect(try s.value(nil, Environment(), expected: "seconds") { Int($0) } == nil)
        #expect(throws: UsageError("--ttl is \"x\": seconds")) { try s.value("x", env, expected: "seconds") { Int($0) } }
        #expect(throws: ConfigurationError("KMESH_DNS_TTL is \"y\": seconds")) {
            try s.value(nil, Environment(["KMESH_DNS_TTL": "y"]), expected: "seconds") { Int($0) }
        }
        #expect(s.list([], Environment(["KMESH_DNS_TTL": "a, b,,c"])) == ["a", "b", "c"])
        #expect(s.list(["z"], Environment(["KMESH_DNS_TTL": "a"])) == ["z"])
    }

    @Test func httpTimeoutsAndTheMaxDurationComeFromFlagsThenVariablesThenTheDefaults() throws {
        #expect(try PassOptions.parse([]).resolve(Environment()).timeouts == .standard)
        let env = Environment(["KMESH_CONNECT_TIMEOUT": "2s", "KMESH_REQUEST_TIMEOUT": "1m"])
        let fromEnv = try PassOptions.parse([]).resolve(env).timeouts
        #expect(fromEnv == HTTPTimeouts(connect: GoDuration(seconds: 2), request: GoDuration(seconds: 60)))
        let fromFlags = try PassOptions.parse(["--connect-timeout", "1s", "--request-timeout", "45s"]).resolve(env).timeouts
        #expect(fromFlags == HTTPTimeouts(connect: GoDuration(seconds: 1), request: GoDuration(seconds: 45)))
        #expect(try PassOptions.parse([]).resolve(Environment()).maxDuration == nil)
        #expect(try PassOptions.parse(["--max-duration", "1m"]).resolve(Environment()).maxDuration == GoDuration(seconds: 60))
        #expect(try PassOptions.parse([]).resolve(Environment(["KMESH_MAX_DURATION": "5s"])).maxDuration == GoDuration(seconds: 5))
        #expect(throws: (any Error).self) { try PassOptions.parse(["--max-duration", "4s"]) }
        for bad in ["0s", "500ms", "2h", "10", "soon"] {
            #expect(throws: (any Error).self) { try PassOptions.parse(["--request-timeout", bad]) }
            #expect(throws: ConfigurationError("KMESH_CONNECT_TIMEOUT is \"\(bad)\": \(PassOptions.timeoutExpected)")) {
                try PassOptions.parse([]).resolve(Environment(["KMESH_CONNECT_TIMEOUT": bad]))
            }
        }
    }
}
