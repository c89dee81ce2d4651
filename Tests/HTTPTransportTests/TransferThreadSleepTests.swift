import Foundation
import HTTPTransport
import KMeshSupport
import TestSupport
import Testing

/// `CurlHTTPClient.sleep(for:)`: waits kept by the transfer thread's poll (retry backoff, rate
/// limits, the Lambda deadline guard).
@Suite(.serialized) struct TransferThreadSleepTests {
    @Test func aWaitEndsNoEarlierThanAskedAndWellBeforeTheIdlePoll() async throws {
        var took: [Duration] = []
        for ms in [0, 5, 40, 20, 20, 20, 20] {
            let started = ContinuousClock.now
            try await CurlHTTPClient.sleep(for: .milliseconds(ms))
            took.append(ContinuousClock.now - started)
            #expect(took.last! >= .milliseconds(ms), "a \(ms) ms wait ended after \(took.last!)")
        }
        // The thread's idle poll is a second long: a wait that is not the poll's timeout takes
        // that long each time. (The fastest, because a machine busy with other tests can be late
        // once or twice.)
        #expect(took.min()! < .milliseconds(900), "every wait took a second or more: \(took)")
    }

    @Test func concurrentWaitsEndInTheOrderTheyAreDue() async throws {
        let order = Locked<[Int]>([])
        let started = ContinuousClock.now
        let due = [90, 30, 60, 0, 120]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for ms in due {
                // On the transfer thread, each task goes on in the order its wait was ended. (On
                // the global pool, two waits ended while its one thread is busy go on in its order:
                // 90 before 60, on one core.)
                group.addTask(executorPreference: CurlHTTPClient.taskExecutor) {
                    try await CurlHTTPClient.sleep(for: .milliseconds(ms))
                    #expect(ContinuousClock.now - started >= .milliseconds(ms))
                    order.withLock { $0.append(ms) }
                }
            }
            try await group.waitForAll()
        }
        #expect(order.withLock { $0 } == due.sorted())

        // Many at once, each with its own deadline: every one ends, none early.
        let ended = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let from = ContinuousClock.now
                    try await CurlHTTPClient.sleep(for: .milliseconds(i % 37))
                    #expect(ContinuousClock.now - from >= .milliseconds(i % 37))
                    ended.withLock { $0 += 1 }
                }
            }
            try await group.waitForAll()
        }
        #expect(ended.withLock { $0 } == 200)
    }

    @Test func cancellingTheTaskEndsTheWaitAtOnce() async throws {
        let started = ContinuousClock.now
        let waiting = Task { try await CurlHTTPClient.sleep(for: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(20), "the wait ran on after the cancel")

        // Cancelled before it starts: it never waits.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await CurlHTTPClient.sleep(for: .seconds(60))
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(ContinuousClock.now - started < .seconds(40))

        // Cancelled at about the moment it is due, many times: each ends, either way, and exactly
        // once (a continuation resumed twice stops the process).
        var ended = 0
        for i in 0..<50 {
            let racing = Task { try await CurlHTTPClient.sleep(for: .microseconds(i * 40)) }
            if i % 2 == 0 { await Task.yield() }
            racing.cancel()
            switch await racing.result {
            case .success: ended += 1
            case .failure(let error): if error is CancellationError { ended += 1 }
            }
        }
        #expect(ended == 50)
    }

    @Test func transfersGoOnWhileAWaitIsPending() async throws {
        let peer = try await CurlHTTPClientTests.plain.get()
        let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))
        let waiting = Task { try await CurlHTTPClient.sleep(for: .seconds(60)) }
        defer { waiting.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        for _ in 0..<3 {
            #expect(try await http.send(HTTPRequest(method: "GET", url: peer.baseURL + "/echo")).status == 200)
        }
        #expect(ContinuousClock.now - started < .seconds(20))
        // The client's wait is the transfer thread's.
        let from = ContinuousClock.now
        try await http.sleep(for: .milliseconds(20))
        #expect(ContinuousClock.now - from >= .milliseconds(20))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
