import ArgumentParser
import FoundationEssentials
import KMeshSupport

/// One setting, from its flag if given, else its environment variable, else its default. A bad
/// flag value is a `UsageError` (64); a bad variable a `ConfigurationError` (78). Both name where
/// the value came from and what would be accepted.
public struct Setting: Sendable {
    public let flag: String
    public let variable: String?

    public init(flag: String, variable: String?) {
        self.flag = flag
        self.variable = variable
    }

    /// The raw text and where it came from.
    public func text(_ flagValue: String?, _ environment: Environment) -> (text: String, fromFlag: Bool)? {
        if let flagValue { return (flagValue, true) }
        if let variable, let value = environment[variable] { return (value, false) }
        return nil
    }

    /// The parsed value, or nil when neither the flag nor the variable is set.
    public func value<T>(
        _ flagValue: String?, _ environment: Environment, expected: String,
        _ parse: (String) -> T?
    ) throws -> T? {
        guard let (text, fromFlag) = text(flagValue, environment) else { return nil }
        if let value = parse(text) { return value }
        throw invalid(text, fromFlag: fromFlag, expected: expected)
    }

    /// The error for a value that does not fit: usage for a flag, configuration for a variable.
    public func invalid(_ text: String, fromFlag: Bool, expected: String) -> any Error {
        if fromFlag { return UsageError("\(flag) is \"\(text)\": \(expected)") }
        return ConfigurationError("\(variable ?? flag) is \"\(text)\": \(expected)")
    }

    /// Checks a flag's value alone, before anything is read from the environment, so that a bad
    /// flag is a usage error (64) whatever else is missing.
    public func check<T>(_ flagValue: String?, expected: String, _ parse: (String) -> T?) throws {
        guard let flagValue else { return }
        if parse(flagValue) == nil { throw ValidationError("\(flag) is \"\(flagValue)\": \(expected)") }
    }

    /// How to name this setting to people: `--flag / VARIABLE`.
    public var names: String { variable.map { "\(flag) / \($0)" } ?? flag }

    public static let durationExpected = "expected a Go duration such as 8760h, 720h or 90m (there is no d unit)"

    /// Checks a duration flag before anything else is read (see `check`).
    public func checkDuration(_ flagValue: String?) throws {
        try check(flagValue, expected: Self.durationExpected) { GoDuration($0) }
    }

    /// A Go duration (`8760h`, `90m`); there is no `d` unit.
    public func duration(_ flagValue: String?, _ environment: Environment) throws -> GoDuration? {
        try value(flagValue, environment, expected: Self.durationExpected) {
            GoDuration($0)
        }
    }

    /// A comma-separated list in the variable; the flag repeats.
    public func list(_ flagValues: [String], _ environment: Environment) -> [String] {
        if !flagValues.isEmpty { return flagValues }
        guard let variable, let text = environment[variable] else { return [] }
        return text.split(separator: ",").map { String($0).trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
    }

    /// A flag that is on when given, or when the variable is `true`/`1`/`yes`.
    public func bool(_ flagValue: Bool, _ environment: Environment) throws -> Bool {
        if flagValue { return true }
        guard let variable, let text = environment[variable] else { return false }
        guard let value = environment.bool(variable) else {
            throw ConfigurationError("\(variable) is \"\(text)\": expected true or false")
        }
        return value
    }
}

extension Setting {
    /// The help of this setting's flag, the same way for every flag: what it does, then its
    /// variable and its default in parentheses. The variable is named once, in the setting, for the
    /// help as for the lookup. `variableNote` follows its name (", comma-separated" for a list,
    /// "=true" for a flag).
    public func help(_ what: String, variableNote: String = "", default value: String? = nil, valueName: String? = nil) -> ArgumentHelp {
        var parts: [String] = []
        if let variable { parts.append("env \(variable)\(variableNote)") }
        if let value { parts.append("default \(value)") }
        return ArgumentHelp(parts.isEmpty ? what : "\(what) (\(parts.joined(separator: "; ")))", valueName: valueName)
    }
}
