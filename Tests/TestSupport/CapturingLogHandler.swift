import KMeshSupport
import Logging

/// Collects log records so tests can assert on them (and on the absence of secrets in them).
public final class LogCapture: Sendable {
    public struct Record: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
        public var rendered: String { "\(level) \(message) \(metadata.sorted { $0.key < $1.key })" }
    }

    private let records = Locked<[Record]>([])
    public init() {}

    public var all: [Record] { records.withLock { $0 } }
    public var text: String { all.map(\.rendered).joined(separator: "\n") }

    public func logger(_ label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ r: Record) { records.withLock { $0.append(r) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            for (k, v) in event.metadata ?? [:] { all[k] = v }
            capture.append(
                Record(
                    level: event.level, message: event.message.description,
                    metadata: all.mapValues { "\($0)" }))
        }
    }
}
