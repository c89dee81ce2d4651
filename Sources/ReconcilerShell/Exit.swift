/// The exit codes every executable uses (sysexits.h where one fits).
public enum ShellExit {
    /// The pass converged, with or without changes.
    public static let converged: Int32 = 0
    /// Something failed, or a guard refused to act; the report says what.
    public static let failed: Int32 = 1
    /// EX_USAGE: an unknown flag, or a flag with a bad value.
    public static let usage: Int32 = 64
    /// EX_CONFIG: a setting from the environment is missing or malformed, or a file or secret
    /// named in the settings cannot be read.
    public static let configuration: Int32 = 78
}

/// A setting from the environment (or a file or secret it names) that is missing or malformed:
/// exit 78 with one line naming the variable and what to set.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A flag given on the command line with a value that cannot be used: exit 64.
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
