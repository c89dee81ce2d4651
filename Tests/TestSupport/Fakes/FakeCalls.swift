import KMeshSupport

/// Counts calls per operation and injects failures, for the in-memory fakes.
public final class FakeCalls: Sendable {
    private struct State {
        var counts: [String: Int] = [:]
        var failures: [String: [any Error]] = [:]
        var always: [String: any Error] = [:]
        var lostAnswers: [String: [any Error]] = [:]
    }
    private let state = Locked(State())

    public init() {}

    /// Calls of `operation` so far.
    public func count(_ operation: String) -> Int { state.withLock { $0.counts[operation] ?? 0 } }
    /// Every call so far, by operation.
    public var all: [String: Int] { state.withLock { $0.counts } }
    /// Calls of anything but the listed read operations.
    public func total(_ operations: [String]) -> Int { state.withLock { s in operations.reduce(0) { $0 + (s.counts[$1] ?? 0) } } }

    /// The next call of `operation` throws `error` (queued: several calls fail in turn).
    public func failNext(_ operation: String, with error: any Error) {
        state.withLock { $0.failures[operation, default: []].append(error) }
    }

    /// Every call of `operation` throws `error` until `clear`.
    public func failAlways(_ operation: String, with error: (any Error)?) {
        state.withLock { $0.always[operation] = error }
    }

    /// The next call of `operation` is carried out, then throws `error`: an answer lost after the
    /// work was done, as the caller's retry would meet it (fakes that honour it call `answer`).
    public func loseAnswerNext(_ operation: String, with error: any Error) {
        state.withLock { $0.lostAnswers[operation, default: []].append(error) }
    }

    /// Called by a fake once the call's work is done: throws the lost answer injected, if any.
    public func answer(_ operation: String) throws {
        let lost: (any Error)? = state.withLock { s in
            guard var queue = s.lostAnswers[operation], !queue.isEmpty else { return nil }
            let e = queue.removeFirst()
            s.lostAnswers[operation] = queue
            return e
        }
        if let lost { throw lost }
    }

    /// Records the call; throws the failure injected for it, if any.
    public func record(_ operation: String) throws {
        let failure: (any Error)? = state.withLock { s in
            s.counts[operation, default: 0] += 1
            if var queue = s.failures[operation], !queue.isEmpty {
                let e = queue.removeFirst()
                s.failures[operation] = queue
                return e
            }
            return s.always[operation]
        }
        if let failure { throw failure }
    }
}
