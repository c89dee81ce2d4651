import FoundationEssentials

/// The one clock a pass reads: the current time for expiry decisions, deadlines (a Lambda
/// invocation's is wall-clock epoch milliseconds) and durations. Injected, so that tests can set
/// it to any instant and move it forward.
public protocol WallClock: Sendable {
    /// The current time. Successive calls never go backwards within one pass.
    func now() -> Date
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down (for log fields such as `retry-in-ms`).
    public var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
