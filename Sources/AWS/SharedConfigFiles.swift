import FoundationEssentials
import KMeshSupport

/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`),
/// INI files. In the config file profiles are `[profile name]` except `[default]`.
public struct SharedConfigFiles: Sendable {
    public var credentials: [String: [String: String]]
    public var config: [String: [String: String]]
    public var profile: String

    public init(credentials: [String: [String: String]], config: [String: [String: String]], profile: String) {
        self.credentials = credentials
        self.config = config
        self.profile = profile
    }

    public static func load(environment: Environment) -> SharedConfigFiles {
        let home = environment["HOME"] ?? "/root"
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let configPath = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        return SharedConfigFiles(
            credentials: readFile(credentialsPath).map { parse($0, configStyle: false) } ?? [:],
            config: readFile(configPath).map { parse($0, configStyle: true) } ?? [:],
            profile: environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default")
    }

    /// A key of the selected profile: the credentials file first, then the config file.
    public func value(_ key: String) -> String? {
        credentials[profile]?[key] ?? config[profile]?[key]
    }

    public var profileExists: Bool { credentials[profile] != nil || config[profile] != nil }

    public static func parse(_ text: String, configStyle: Bool) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingASCIIWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingASCIIWhitespace()
                if configStyle {
                    if name.hasPrefix("profile ") {
                        name = String(name.dropFirst(8)).trimmingASCIIWhitespace()
                    } else if name != "default" {
                        current = nil
                        continue
                    }  // sso-session, services, ...
                }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            // Indented lines are sub-properties (e.g. `s3 =` blocks): not needed here.
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let key = String(line[..<eq]).trimmingASCIIWhitespace().lowercased()
            var value = String(line[line.index(after: eq)...]).trimmingASCIIWhitespace()
            if let hash = value.firstRange(of: " #") ?? value.firstRange(of: " ;") {
                value = String(value[..<hash.lowerBound]).trimmingASCIIWhitespace()
            }
            sections[section]![key] = value
        }
        return sections
    }

    static func readFile(_ path: String) -> String? {
        guard let data = FileReader.read(path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
