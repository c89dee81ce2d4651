import HTTPTransport
import KMeshSupport

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
    private let available: Locked<Int>

    init(capacity: Int) {
        self.capacity = capacity
        available = Locked(capacity)
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

/// A sliding one-second window: at most `limit` grants in any window of `window`. Pure: it is
/// given the time and says when a request may go, so it is tested without a clock. Grants are
/// reserved in order, and a request waits only while the window is full (the limiter never idles).
public struct RateWindow: Sendable {
    public let limit: Int
    public let window: Duration
    /// The last `limit` grants, oldest first (some may lie in the future: reserved, not yet sent).
    private var grants: [ContinuousClock.Instant] = []

    public init(limit: Int, window: Duration = .seconds(1)) {
        precondition(limit >= 1, "a rate window admits at least one request")
        self.limit = limit
        self.window = window
    }

    /// The last `limit` requests that went, at the instants they went, oldest first.
    private var sent: [ContinuousClock.Instant] = []

    /// Reserves the earliest instant at or after `now` at which one more request keeps every window
    /// within the limit, and returns it.
    public mutating func reserve(at now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        var slot = max(now, grants.last ?? now)
        if grants.count >= limit { slot = max(slot, grants[grants.count - limit] + window) }
        grants.append(slot)
        if grants.count > limit { grants.removeFirst(grants.count - limit) }
        return slot
    }

    /// Reservations assume that each request goes at its slot, but a wait can end late (a busy
    /// machine, a Lambda environment thawed), and then a later slot can bring more than `limit`
    /// requests into one window. The earliest instant at or after `now` at which one more request
    /// keeps every window of the requests that really went within the limit.
    public func earliestBySent(at now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        sent.count < limit ? now : max(now, sent[sent.count - limit] + window)
    }

    /// Notes a request that went at `instant`.
    public mutating func recordSent(at instant: ContinuousClock.Instant) {
        let at = sent.lastIndex { $0 <= instant }.map { $0 + 1 } ?? 0
        sent.insert(instant, at: at)
        if sent.count > limit { sent.removeFirst(sent.count - limit) }
    }
}

/// Holds every request of one service to `perSecond` in any one-second window (Route 53 allows 5
/// requests per second per account). Called before every attempt, so retries count too. The window
/// is a second plus a small guard: AWS counts arrivals, and transit jitter can bring two requests
/// sent exactly a second apart closer than that.
actor RateLimiter {
    static let guardTime: Duration = .milliseconds(50)
    private var window: RateWindow

    init(perSecond: Double) {
        window = RateWindow(limit: max(1, Int(perSecond.rounded(.down))), window: .seconds(1) + Self.guardTime)
    }

    /// Waits, through `http` (the transport's cheapest wait), until a request may go out: until its
    /// reserved slot, then for as long as the requests that really went before it still fill the
    /// window. A cancelled task returns at once without counting (its request is not sent).
    func acquire(waitingWith http: any HTTPClient) async {
        var now = ContinuousClock.now
        var until = max(window.reserve(at: now), window.earliestBySent(at: now))
        while until > now {
            do { try await http.sleep(for: until - now) } catch { return }
            now = ContinuousClock.now
            until = window.earliestBySent(at: now)
        }
        window.recordSent(at: now)
    }
}
