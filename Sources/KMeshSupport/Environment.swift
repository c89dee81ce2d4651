#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A snapshot of environment variables. The process environment is read once, at start-up, into
/// one of these; everything else receives values. Tests build one from a dictionary, so they never
/// call `setenv` and stay safe to run in parallel.
public struct Environment: Sendable, Equatable {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) { self.values = values }

    /// The process environment as it was when first asked for: read once per process.
    public static let processSnapshot = process()

    /// Reads the real process environment.
    public static func process() -> Environment {
        var values: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let eq = pair.firstIndex(of: "=") {
                values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            cursor += 1
        }
        return Environment(values)
    }

    /// The value of `name`, or nil when it is unset or empty (the AWS SDKs treat both alike).
    public subscript(name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }

    /// `true`/`false` (any case), `1`/`0`, `yes`/`no`; nil when unset or unrecognised.
    public func bool(_ name: String) -> Bool? {
        switch self[name]?.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: return nil
        }
    }

    public func with(_ name: String, _ value: String?) -> Environment {
        var copy = self
        copy.values[name] = value
        return copy
    }
}
