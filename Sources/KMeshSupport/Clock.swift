import FoundationEssentials

/// The current time, injected so that expiry decisions can be tested at any instant.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
