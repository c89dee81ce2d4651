/// Starts a peer the first time a test asks for it and shares it with every later test of the
/// process (peers start in about a second; moto in two or three). Concurrent first callers share
/// one start: the actor keeps the start task, not just its result, so re-entrancy cannot start two.
public actor PeerHandle {
    private let factory: @Sendable () async throws -> PeerProcess
    private var starting: Task<PeerProcess, any Error>?

    public init(_ factory: @escaping @Sendable () async throws -> PeerProcess) { self.factory = factory }

    public func get() async throws -> PeerProcess {
        if let starting { return try await starting.value }
        let task = Task { try await factory() }
        starting = task
        return try await task.value
    }
}
