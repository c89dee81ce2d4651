import FoundationEssentials
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go: one `write(2)` per line to a file descriptor (stderr by default). Swift 6
/// rejects the global `stderr` stream, and one write per line keeps concurrent lines whole.
public final class LogSink: Sendable {
    public static let standardError = LogSink(fileDescriptor: 2)
    /// The descriptor, behind the lock that keeps lines whole. (A `Locked(())` would do, but
    /// ThreadSanitizer reports the modify access of a zero-sized value as a race.)
    private let fd: Locked<Int32>

    public init(fileDescriptor: Int32) { fd = Locked(fileDescriptor) }

    public func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        fd.withLock { fd in
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0, errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

public enum LogFormat: String, Sendable, CaseIterable {
    case json, text
}

/// swift-log handler that prints one JSON object per line (`ts`, `level`, `msg`, then metadata with
/// kebab-case keys), or a compact text line for people (`--log-format text`).
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let sink: LogSink

    public init(label: String, format: LogFormat, level: Logger.Level, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error { all["error"] = .string("\(error)") }
        sink.write(
            line: Self.render(
                format: format, level: event.level, message: event.message.description,
                metadata: all, date: Date()))
    }

    static func render(
        format: LogFormat, level: Logger.Level, message: String,
        metadata: Logger.Metadata, date: Date
    ) -> String {
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var s =
                "{\"ts\":\(JSON.quote(UTCTime.iso8601(date, milliseconds: true))),\"level\":\(JSON.quote(level.rawValue)),\"msg\":\(JSON.quote(message))"
            for k in keys { s += ",\(JSON.quote(k)):\(json(metadata[k]!))" }
            return s + "}"
        case .text:
            // JSON escapes what it must; text keeps each line one line whatever a value holds.
            var s = "\(UTCTime.iso8601(date, milliseconds: true)) \(level.rawValue.uppercased()) \(message.printableLine(limit: 4000))"
            for k in keys { s += " \(k)=\("\(metadata[k]!)".printableLine(limit: 2000))" }
            return s
        }
    }

    static func json(_ v: Logger.MetadataValue) -> String {
        switch v {
        case .string(let s): return JSON.quote(s)
        case .stringConvertible(let c): return JSON.quote(c.description)
        case .array(let a): return "[" + a.map(json).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { "\(JSON.quote($0)):\(json(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}
