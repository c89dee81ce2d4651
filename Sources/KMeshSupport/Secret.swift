/// A credential or token. Its description is always `<redacted>`, so string interpolation into a
/// log line, an error message or test output can never leak it; code that really needs the value
/// asks for `.value` by name.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
