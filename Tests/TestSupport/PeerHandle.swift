/// Starts a peer the first time a test asks for it and shares it with every later test of the
/// process (peers start in about a second; moto in two or three).
public actor PeerHandle {
    private let factory: @Sendable () async throws -> PeerProcess
    private var started: PeerProcess?

    public init(_ factory: @escaping @Sendable () async throws -> PeerProcess) { self.factory = factory }

    public func get() async throws -> PeerProcess {
        if let started { return started }
        let peer = try await factory()
        started = peer
        return peer
    }
}
