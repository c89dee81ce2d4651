import FoundationEssentials
import KMeshSupport
import LambdaRuntime
import Logging
import ReconcileCore
import Reconcilers
import Synchronization

/// reconcile-tokens as a Lambda function fed by EventBridge:
/// - "ECS Task State Change" -> a single-task pass for that task (skipped when the task is stopping
///   or a repeat of an event this warm instance already handled);
/// - "Scheduled Event" or `{}` -> a full pass;
/// - anything else -> error `Function.UnsupportedEvent`.
/// The response is the JSON report; a failed service makes the invocation an error, so that
/// EventBridge's retries and the dead-letter queue see it.
public struct TokensLambdaHandler: LambdaHandler {
    /// EventBridge events are at most 256 KiB.
    public static let maxEventBytes = 256 * 1024
    /// Stop starting writes this long before the invocation's deadline, to report in time.
    public static let deadlineMargin: Duration = .seconds(3)

    let reconciler: TokenReconciler
    let handled = HandledEvents()
    let now: @Sendable () -> Date

    public init(reconciler: TokenReconciler, now: @escaping @Sendable () -> Date = { Date() }) {
        self.reconciler = reconciler
        self.now = now
    }

    enum Work: Equatable {
        case full
        case task(cluster: String, arn: String, dedupeKey: String?)
        case skip(String)
    }

    public func handle(_ invocation: Invocation, logger: Logger) async -> Result<Data, FunctionError> {
        let work: Work
        switch classify(invocation.body) {
        case .success(let w): work = w
        case .failure(let e): return .failure(e)
        }
        let scope: TokenReconciler.Scope
        var dedupeKey: String?
        switch work {
        case .skip(let reason):
            logger.info("event skipped", metadata: ["reason": "\(reason)"])
            return .success(Data(#"{"skipped":\#(JSON.quote(reason))}"#.utf8))
        case .full:
            scope = .all
        case .task(let cluster, let arn, let key):
            scope = .task(cluster: cluster, taskArn: arn)
            dedupeKey = key
        }

        var deadline: ContinuousClock.Instant?
        if let ms = invocation.deadlineMs {
            let left = Double(ms) / 1000 - now().timeIntervalSince1970
            deadline = ContinuousClock.now + .milliseconds(Int64(left * 1000)) - Self.deadlineMargin
        }
        let report = await reconciler.run(scope, deadline: deadline)
        let body = Data(report.json().utf8)
        guard report.failed else {
            if let dedupeKey { handled.withLock { $0.insert(dedupeKey) } }
            return .success(body)
        }
        // Not remembered: EventBridge's retry of this event must run again.
        let failures = report.services.filter { $0.action == .failed }.map { "\($0.service): \($0.reason)" } + report.errors
        let summary =
            "\(failures.count) failure\(failures.count == 1 ? "" : "s") (\(report.services.count) services): "
            + failures.prefix(3).joined(separator: "; ")
        return .failure(FunctionError(type: "Function.ReconcileFailed", message: String(summary.prefix(4000))))
    }

    func classify(_ body: Data) -> Result<Work, FunctionError> {
        guard body.count <= Self.maxEventBytes else {
            return .failure(
                FunctionError(
                    type: "Function.PayloadTooLarge",
                    message: "the event is \(body.count) bytes; EventBridge events are at most \(Self.maxEventBytes)"))
        }
        guard let json = try? JSON.decode(JSONValue.self, from: body), let object = json.objectValue else {
            return .failure(FunctionError(type: "Function.MalformedEvent", message: "the event is not a JSON object"))
        }
        if object.isEmpty { return .success(.full) }
        let detailType = object["detail-type"]?.stringValue
        let source = object["source"]?.stringValue
        switch (detailType, source) {
        case ("Scheduled Event", _):
            return .success(.full)
        case ("ECS Task State Change", "aws.ecs"):
            guard let detail = object["detail"]?.objectValue, let taskArn = detail["taskArn"]?.stringValue, !taskArn.isEmpty,
                let clusterArn = detail["clusterArn"]?.stringValue, !clusterArn.isEmpty
            else {
                return .failure(
                    FunctionError(
                        type: "Function.MalformedEvent", message: "ECS Task State Change without detail.taskArn and detail.clusterArn"))
            }
            let last = detail["lastStatus"]?.stringValue
            let desired = detail["desiredStatus"]?.stringValue
            if last == "STOPPED" || last == "DEPROVISIONING" || desired == "STOPPED" {
                return .success(.skip("task \(taskArn) is stopping (lastStatus \(last ?? "-"), desiredStatus \(desired ?? "-"))"))
            }
            var key: String?
            if case .number(let v)? = detail["version"] {
                key = "\(taskArn)#\(Int64(v))"
                if handled.withLock({ $0.contains(key!) }) {
                    return .success(.skip("repeat of an event already handled (\(taskArn), version \(Int64(v)))"))
                }
            }
            return .success(.task(cluster: clusterArn, arn: taskArn, dedupeKey: key))
        default:
            return .failure(
                FunctionError(
                    type: "Function.UnsupportedEvent",
                    message:
                        "unsupported event: detail-type \(detailType.map { "\"\($0)\"" } ?? "(none)") from source \(source.map { "\"\($0)\"" } ?? "(none)"); expected \"ECS Task State Change\" from aws.ecs, \"Scheduled Event\", or {}"
                ))
        }
    }
}

/// Events this warm instance has handled successfully, shared across invocations.
final class HandledEvents: Sendable {
    private let keys = Mutex(RecentKeys(capacity: 10_000))
    func withLock<R>(_ body: (inout RecentKeys) -> R) -> R { keys.withLock { body(&$0) } }
}

/// A bounded set that forgets its oldest keys first.
struct RecentKeys {
    let capacity: Int
    private var order: [String] = []
    private var head = 0
    private var keys: Set<String> = []

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ key: String) -> Bool { keys.contains(key) }

    mutating func insert(_ key: String) {
        guard keys.insert(key).inserted else { return }
        order.append(key)
        if keys.count > capacity {
            keys.remove(order[head])
            head += 1
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
    }
}

/// The process entry when `AWS_LAMBDA_RUNTIME_API` is set: configuration from the environment
/// (the same variables the command line documents), wiring once, then the loop. Credentials and
/// the Kuma API token stay cached across invocations and are reloaded when they expire or are
/// rejected.
public enum TokensLambdaMain {
    public static func run(environment: Environment) async -> Int32 {
        let http = TokensRunner.runtimeHTTP()
        let api = LiveLambdaRuntimeAPI(endpoint: environment["AWS_LAMBDA_RUNTIME_API"] ?? "", http: http)
        let wiring: TokensRunner.Wiring
        do {
            let configuration = try TokensConfiguration.resolve(TokensConfiguration.Flags(), environment: environment)
            TokensRunner.bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
            wiring = try await TokensRunner.wire(configuration, environment: environment)
        } catch {
            LogSink.standardError.write(line: "reconcile-tokens: start-up failed: \(error)")
            try? await api.initFailed(FunctionError(type: "Runtime.ConfigurationError", message: "\(error)"))
            return 1
        }
        await LambdaLoop.run(api: api, handler: TokensLambdaHandler(reconciler: wiring.reconciler), logger: wiring.logger)
        return 1
    }
}
