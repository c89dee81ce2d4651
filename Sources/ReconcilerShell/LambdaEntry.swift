import FoundationEssentials
import HTTPTransport
import KMeshSupport
import LambdaRuntime
import Logging
import ReconcileCore

/// What an event asks a reconciler to do.
public enum EventRoute<Scope: Sendable>: Sendable {
    /// A pass over `scope`. `dedupe`: the event's identity (`key`, and how to name it to people);
    /// after a successful pass a repeat of it is skipped by this warm instance.
    case pass(Scope, dedupe: (key: String, description: String)?)
    /// Nothing to do, and why (the response body says it).
    case skip(String)
    /// The event is one of ours but cannot be used (`Function.MalformedEvent`, ...).
    case reject(FunctionError)
}

/// A reconciler that can serve as a Lambda function. The shell's handler does what every function
/// needs (the size limit, the JSON-object check, `{}` and "Scheduled Event" as a full pass, the
/// deadline, dedupe, a failed report as `Function.ReconcileFailed`); this says only what the
/// reconciler's own events mean.
public protocol EventDrivenReconciler: Reconciler {
    /// The scope of a full pass (`{}`, "Scheduled Event").
    var fullScope: Scope { get }
    /// What any other event asks for; nil when the event is not one this function serves.
    func route(_ event: [String: JSONValue]) -> EventRoute<Scope>?
    /// The events `route` serves, for the unsupported-event message (`"ECS Task State Change"
    /// from aws.ecs`); nil when it serves only `{}` and schedules.
    static var servedEvents: String? { get }
}

/// A pass that must end by a given instant (a Lambda invocation's deadline, `--max-duration`):
/// no new work starts `deadlineMargin` before it, and what is still in flight `cancelMargin`
/// before it is cancelled (requests stop at once: the transport removes them from libcurl), so
/// that the report, which says what was not reached, is out in time and nothing runs on.
public enum DeadlinePass {
    public static let deadlineMargin: Duration = .seconds(3)
    public static let cancelMargin: Duration = .seconds(1)

    /// `end` nil: no deadline. `what` names the deadline in the warning. The pass and its guard
    /// are child tasks (not unstructured ones), so they keep the caller's executor preference.
    public static func run<R: Reconciler>(_ reconciler: R, _ scope: R.Scope, end: Date?, logger: Logger, what: String) async
        -> R.Report
    {
        func before(_ margin: Duration) -> Date? {
            let m = margin.components
            return end.map { $0.addingTimeInterval(-(Double(m.seconds) + Double(m.attoseconds) / 1e18)) }
        }
        let softDeadline = before(deadlineMargin)
        let hard = before(cancelMargin)
        return await withTaskGroup(of: R.Report?.self) { group in
            group.addTask { await reconciler.run(scope, deadline: softDeadline) }
            if let hard {
                group.addTask {
                    let left = hard.timeIntervalSince(Date())
                    if left > 0 { try? await CurlHTTPClient.sleep(for: .milliseconds(Int64(left * 1000))) }
                    if !Task.isCancelled { logger.warning("\(what) is near: cancelling the requests still in flight") }
                    return nil
                }
            }
            // The pass's report, whichever child ends first: the guard's end cancels the pass
            // (which then reports what it did not reach); the pass's end cancels the guard.
            while let next = await group.next() {
                group.cancelAll()
                if let report = next { return report }
            }
            preconditionFailure("the pass ended without a report")
        }
    }
}

/// The Lambda handler for any `EventDrivenReconciler`; the response is the JSON report.
public struct ReconcilerLambdaHandler<R: EventDrivenReconciler>: LambdaHandler {
    /// Stop starting writes this long before the invocation's deadline, to report in time.
    public static var deadlineMargin: Duration { DeadlinePass.deadlineMargin }
    /// Cancel what is still in flight this long before the deadline (see `DeadlinePass`).
    public static var cancelMargin: Duration { DeadlinePass.cancelMargin }

    let reconciler: R
    let handled: HandledEvents

    public init(reconciler: R, handled: HandledEvents = HandledEvents()) {
        self.reconciler = reconciler
        self.handled = handled
    }

    public func handle(_ invocation: Invocation, logger: Logger) async -> Result<Data, FunctionError> {
        let scope: R.Scope
        var dedupe: (key: String, description: String)?
        switch route(invocation.body) {
        case .failure(let error): return .failure(error)
        case .success(.reject(let error)): return .failure(error)
        case .success(.skip(let reason)):
            logger.info("event skipped", metadata: ["reason": "\(reason)"])
            return .success(Data(#"{"skipped":\#(JSON.quote(reason))}"#.utf8))
        case .success(.pass(let s, let d)):
            if let d, handled.contains(d.key) {
                let reason = "repeat of an event already handled (\(d.description))"
                logger.info("event skipped", metadata: ["reason": "\(reason)"])
                return .success(Data(#"{"skipped":\#(JSON.quote(reason))}"#.utf8))
            }
            scope = s
            dedupe = d
        }
        let end = invocation.deadlineMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        let report = await DeadlinePass.run(reconciler, scope, end: end, logger: logger, what: "the invocation's deadline")
        let body = Data(report.json().utf8)
        guard report.failed else {
            if let dedupe { handled.insert(dedupe.key) }
            return .success(body)
        }
        // Not remembered: EventBridge's retry of this event must run again.
        let failures = report.failures
        let summary = "\(failures.count) failure\(failures.count == 1 ? "" : "s"): " + failures.prefix(3).joined(separator: "; ")
        return .failure(FunctionError(type: "Function.ReconcileFailed", message: String(summary.prefix(4000))))
    }

    /// The event's route, or the error to answer with.
    public func route(_ body: Data) -> Result<EventRoute<R.Scope>, FunctionError> {
        let event: [String: JSONValue]
        switch LambdaEvent.object(body) {
        case .success(let e): event = e
        case .failure(let error): return .failure(error)
        }
        if LambdaEvent.isFullPass(event) { return .success(.pass(reconciler.fullScope, dedupe: nil)) }
        if let route = reconciler.route(event) { return .success(route) }
        let served = R.servedEvents.map { "\($0), " } ?? ""
        return .failure(
            FunctionError(
                type: "Function.UnsupportedEvent",
                message: "unsupported event: \(LambdaEvent.describe(event)); expected \(served)\"Scheduled Event\", or {}"))
    }
}

/// The process entry under the custom runtime: configuration from the environment (the variables
/// the command line documents; no flags), wiring once, then the loop. Credentials and the Kuma API
/// token stay cached across invocations and are fetched again when they expire or are rejected.
public enum LambdaEntry {
    /// The Runtime API is plain HTTP on a link-local address: no TLS, no proxy.
    public static func runtimeHTTP() -> CurlHTTPClient {
        var c = CurlHTTPClient.Configuration(tls: TLSConfiguration(caBundlePath: nil))
        c.connectTimeout = .seconds(2)
        return CurlHTTPClient(configuration: c)
    }

    public static func run<C: ReconcilerCommand>(_: C.Type, environment: Environment) async -> Int32 {
        let api = LiveLambdaRuntimeAPI(endpoint: environment["AWS_LAMBDA_RUNTIME_API"] ?? "", http: runtimeHTTP())
        let reconciler: C.Wired
        let logger: Logger
        do {
            let configuration = try C.parse([]).configuration(environment: environment)
            ReconcilerRunner.bootstrapLogging(configuration.pass)
            logger = ReconcilerRunner.logger(C.self, configuration.pass)
            reconciler = try await C.wire(
                configuration, WiringContext(environment: environment, logger: logger, timeouts: configuration.pass.timeouts))
        } catch {
            LogSink.standardError.write(line: "\(C.toolName): start-up failed: \("\(error)".printableLine(limit: 2000))")
            try? await api.initFailed(FunctionError(type: "Runtime.ConfigurationError", message: "\(error)"))
            return ShellExit.failed
        }
        await LambdaLoop.run(api: api, handler: ReconcilerLambdaHandler(reconciler: reconciler), logger: logger)
        return ShellExit.failed
    }
}
