import Synchronization

/// botocore's "standard" retry mode: throttling and transient errors are retried with full-jitter
/// exponential backoff, `rand(0,1) * min(base * 2^(attempt-1), maxBackoff)`, within a retry quota
/// shared by the client, so that a failing service is not hammered.
public struct RetryConfiguration: Sendable {
    /// Attempts in total, the first included (`AWS_MAX_ATTEMPTS`, default 3).
    public var maxAttempts = 3
    public var baseDelay: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(20)
    public var quotaCapacity = 500
    public init() {}

    func delay(forRetry attempt: Int, random: Double) -> Duration {
        let exponential = baseDelay * (1 << min(attempt - 1, 30))
        return min(exponential, maxBackoff) * random
    }
}

/// The token bucket that bounds retries: each retry costs 5 (10 after a timeout), each success
/// pays 1 back (or the retry's cost, when the success ended a retry).
final class RetryQuota: Sendable {
    static let retryCost = 5, timeoutCost = 10, successRefund = 1
    private let capacity: Int
    private let available: Mutex<Int>

    init(capacity: Int) {
        self.capacity = capacity
        available = Mutex(capacity)
    }

    func acquire(timeout: Bool) -> Int? {
        let cost = timeout ? Self.timeoutCost : Self.retryCost
        return available.withLock { a in
            guard a >= cost else { return nil }
            a -= cost
            return cost
        }
    }

    func release(_ amount: Int) {
        available.withLock { $0 = min(capacity, $0 + amount) }
    }

    var level: Int { available.withLock { $0 } }
}

/// Spaces requests evenly at `perSecond` (Route 53 allows 5 requests per second per account).
actor RateLimiter {
    private let interval: Duration
    private var next = ContinuousClock.now

    init(perSecond: Double) {
        interval = .nanoseconds(Int64(1_000_000_000 / max(perSecond, 0.001)))
    }

    func acquire() async {
        let now = ContinuousClock.now
        let slot = max(now, next)
        next = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
