import Foundation
import KMeshSupport
import LambdaRuntime
import Logging
import TestSupport
import Testing

/// The loop against an in-memory Runtime API: the loop's logic only.
struct LambdaLoopTests {
    final class FakeAPI: LambdaRuntimeAPI {
        let pending: Locked<[Result<Invocation, RuntimeAPIError>]>
        let posted = Locked<[(String, String, String)]>([])  // (kind, request id, payload)
        init(_ events: [Result<Invocation, RuntimeAPIError>]) { pending = Locked(events) }
        func next() async throws -> Invocation {
            let item = pending.withLock { $0.isEmpty ? .failure(RuntimeAPIError(message: "no more events")) : $0.removeFirst() }
            return try item.get()
        }
        func respond(requestId: String, body: Data) async throws {
            posted.withLock { $0.append(("response", requestId, String(decoding: body, as: UTF8.self))) }
        }
        func fail(requestId: String, error: FunctionError) async throws {
            posted.withLock { $0.append(("error", requestId, error.errorType)) }
        }
        func initFailed(_ error: FunctionError) async throws { posted.withLock { $0.append(("init", "", error.errorType)) } }
    }

    struct EchoHandler: LambdaHandler {
        func handle(_ invocation: Invocation, logger: Logger) async -> Result<Data, FunctionError> {
            logger.info("handling")
            switch String(decoding: invocation.body, as: UTF8.self) {
            case "fail": return .failure(FunctionError(type: "Function.Test", message: "asked to fail"))
            case "huge": return .success(Data(count: LambdaLoop.maxResponseBytes + 1))
            case let text: return .success(Data("echo:\(text)".utf8))
            }
        }
    }

    func invocation(_ id: String, _ body: String, trace: String? = nil) -> Result<Invocation, RuntimeAPIError> {
        .success(Invocation(requestId: id, deadlineMs: nil, traceId: trace, body: Data(body.utf8)))
    }

    @Test func respondsFailsAndGoesOnThenStopsWhenTheAPIIsGone() async {
        let api = FakeAPI([
            invocation("r1", "a", trace: "Root=1"), invocation("r2", "fail"), invocation("r3", "huge"),
            .failure(RuntimeAPIError(message: "blip")), invocation("r4", "b"),
        ])
        let logs = LogCapture()
        let traces = Locked<[String?]>([])
        await LambdaLoop.run(
            api: api, handler: EchoHandler(), logger: logs.logger(), setTraceId: { id in traces.withLock { $0.append(id) } })
        let posted = api.posted.withLock { $0 }
        #expect(posted.map { $0.0 } == ["response", "error", "error", "response"])
        #expect(posted[0].2 == "echo:a" && posted[3].2 == "echo:b")
        #expect(posted[1].2 == "Function.Test" && posted[2].2 == "Function.ResponseSizeTooLarge")
        #expect(traces.withLock { $0 } == ["Root=1", nil, nil, nil])
        // The request id is on every line logged while handling an invocation.
        let handling = logs.all.filter { $0.message == "handling" }
        #expect(handling.map { $0.metadata["request-id"] } == ["r1", "r2", "r3", "r4"])
        #expect(logs.all.filter { $0.message == "cannot get the next invocation" }.count == 4, "one blip, then three failures end the loop")
    }
}

struct LambdaEventTests {
    /// The sender chooses detail-type and source: the unsupported-event line prints them tamed.
    @Test func anUnsupportedEventIsDescribedOnOneShortLine() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fuzz/Corpus/FuzzEvents/regression-control-characters")
        guard case .success(let event) = LambdaEvent.object(try Data(contentsOf: url)) else {
            Issue.record("the regression input is a JSON object")
            return
        }
        #expect(LambdaEvent.describe(event) == #"detail-type "A B [2J" from source "aws. ecs""#)
        let huge = try JSONSerialization.data(withJSONObject: ["detail-type": String(repeating: "d", count: 10_000)])
        guard case .success(let big) = LambdaEvent.object(huge) else {
            Issue.record("a JSON object")
            return
        }
        #expect(LambdaEvent.describe(big).count == #"detail-type "" from source (none)"#.count + 103)
    }
}
