import Foundation
import KMeshSupport

/// A clock tests set and move: every `now()` is the set instant, plus `step` per read when given
/// (so that a pass sees time pass, for deadlines).
public final class ManualClock: WallClock, Sendable {
    private let state: Locked<(now: Date, step: TimeInterval)>

    public init(_ now: Date = Date(timeIntervalSince1970: 1_800_000_000), step: TimeInterval = 0) {
        state = Locked((now, step))
    }

    public func now() -> Date {
        state.withLock { s in
            defer { s.now += s.step }
            return s.now
        }
    }

    public func advance(by seconds: TimeInterval) { state.withLock { $0.now += seconds } }
    public func set(step: TimeInterval) { state.withLock { $0.step = step } }
}
