import FoundationEssentials
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The invocation being handled, for every logger of the process: bootstrap swift-log with
/// `LambdaContext.metadataProvider` and each line logged while handling carries `request-id`
/// (child tasks inherit it).
public enum LambdaContext {
    @TaskLocal public static var requestId: String?

    public static let metadataProvider = Logger.MetadataProvider {
        requestId.map { ["request-id": .string($0)] } ?? [:]
    }
}

/// Handles one invocation: a response body, or a `FunctionError`.
public protocol LambdaHandler: Sendable {
    /// The answer to one invocation. Never throws: a failure is `.failure`, which the loop posts
    /// as the invocation's error before it asks for the next one.
    func handle(_ invocation: Invocation, logger: Logger) async -> Result<Data, FunctionError>
}

/// The custom-runtime loop: next -> handle -> respond or fail, forever. A malformed or failing
/// invocation becomes an error response and the loop goes on; only the Runtime API itself going
/// away ends it.
public enum LambdaLoop {
    /// Lambda rejects responses above 6 MiB with 413: fail the invocation clearly instead.
    public static let maxResponseBytes = 6 * 1024 * 1024

    /// Runs until `api.next()` throws `maxConsecutiveFailures` times in a row (the Runtime API is
    /// gone), or `maxInvocations` have been handled (tests).
    public static func run(
        api: any LambdaRuntimeAPI, handler: any LambdaHandler, logger base: Logger,
        maxInvocations: Int? = nil, setTraceId: @Sendable (String?) -> Void = LambdaLoop.exportTraceId
    ) async {
        var handled = 0
        var failures = 0
        while maxInvocations.map({ handled < $0 }) ?? true {
            let invocation: Invocation
            do {
                invocation = try await api.next()
                failures = 0
            } catch {
                failures += 1
                base.error("cannot get the next invocation", metadata: ["error": "\(error)"])
                if failures >= 3 { return }
                try? await Task.sleep(for: .milliseconds(100 * failures))
                continue
            }
            setTraceId(invocation.traceId)
            var logger = base
            logger[metadataKey: "request-id"] = "\(invocation.requestId)"
            var result = await LambdaContext.$requestId.withValue(invocation.requestId) {
                await handler.handle(invocation, logger: logger)
            }
            if case .success(let body) = result, body.count > maxResponseBytes {
                result = .failure(
                    FunctionError(
                        type: "Function.ResponseSizeTooLarge",
                        message: "the response is \(body.count) bytes; Lambda accepts at most \(maxResponseBytes)"))
            }
            do {
                switch result {
                case .success(let body): try await api.respond(requestId: invocation.requestId, body: body)
                case .failure(let error):
                    logger.error("invocation failed", metadata: ["error-type": "\(error.errorType)", "error": "\(error.errorMessage)"])
                    try await api.fail(requestId: invocation.requestId, error: error)
                }
            } catch {
                logger.error("cannot post the invocation's result", metadata: ["error": "\(error)"])
            }
            handled += 1
        }
    }

    /// `_X_AMZN_TRACE_ID` for X-Ray, as the managed runtimes set it.
    public static func exportTraceId(_ id: String?) {
        if let id { setenv("_X_AMZN_TRACE_ID", id, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
    }
}
