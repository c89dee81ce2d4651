import FoundationEssentials
import KMeshSupport

/// What every reconciler's handler does with an event before it looks at what it says.
public enum LambdaEvent {
    /// EventBridge events are at most 256 KiB; anything larger is not one of ours.
    public static let maxBytes = 256 * 1024

    /// The event as a JSON object, or the error to answer with (`Function.PayloadTooLarge`,
    /// `Function.MalformedEvent`).
    public static func object(_ body: Data, maxBytes: Int = LambdaEvent.maxBytes) -> Result<[String: JSONValue], FunctionError> {
        guard body.count <= maxBytes else {
            return .failure(
                FunctionError(
                    type: "Function.PayloadTooLarge",
                    message: "the event is \(body.count) bytes; EventBridge events are at most \(maxBytes)"))
        }
        guard let json = try? JSONValue.parse(body), let object = json.objectValue else {
            return .failure(FunctionError(type: "Function.MalformedEvent", message: "the event is not a JSON object"))
        }
        return .success(object)
    }

    /// `{}` (a manual test invocation) and EventBridge's "Scheduled Event" both ask for a full pass.
    public static func isFullPass(_ event: [String: JSONValue]) -> Bool {
        event.isEmpty || event["detail-type"]?.stringValue == "Scheduled Event"
    }

    /// `detail-type "X" from source "Y"`, for the unsupported-event message (the sender's text,
    /// made printable and cut short).
    public static func describe(_ event: [String: JSONValue]) -> String {
        let detailType = event["detail-type"]?.stringValue.map { "\"\($0.printableLine(limit: 100))\"" } ?? "(none)"
        let source = event["source"]?.stringValue.map { "\"\($0.printableLine(limit: 100))\"" } ?? "(none)"
        return "detail-type \(detailType) from source \(source)"
    }
}

/// Events this warm instance has handled successfully, shared across invocations, so that a
/// repeat delivery (EventBridge delivers at least once) is skipped. Bounded: the oldest are
/// forgotten first.
public final class HandledEvents: Sendable {
    private let keys: Locked<RecentKeys>
    public init(capacity: Int = 10_000) { keys = Locked(RecentKeys(capacity: capacity)) }
    public func contains(_ key: String) -> Bool { keys.withLock { $0.contains(key) } }
    public func insert(_ key: String) { keys.withLock { $0.insert(key) } }
}

/// A bounded set that forgets its oldest keys first.
public struct RecentKeys: Sendable {
    public let capacity: Int
    private var order: [String] = []
    private var head = 0
    private var keys: Set<String> = []

    public init(capacity: Int) { self.capacity = capacity }

    public func contains(_ key: String) -> Bool { keys.contains(key) }

    public mutating func insert(_ key: String) {
        guard keys.insert(key).inserted else { return }
        order.append(key)
        if keys.count > capacity {
            keys.remove(order[head])
            head += 1
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
    }
}
