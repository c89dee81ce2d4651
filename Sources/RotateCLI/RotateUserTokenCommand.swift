import ArgumentParser
import FoundationEssentials
import KMeshSupport
import Kuma
import LambdaRuntime
import ReconcilerShell
import Reconcilers

/// `rotate-user-token`: its flags, how they resolve, and its wiring. The shell does the rest.
public struct RotateUserTokenCommand: ReconcilerCommand {
    public static let toolName = "rotate-user-token"
    public static let configuration = CommandConfiguration(
        commandName: toolName,
        abstract: "Renew the Kuma API user token the reconcilers use, before it expires, without a moment with no working token.",
        discussion: """
            Reads the token in the secret's AWSCURRENT version. When it expires within --rotate-before (or its \
            name or groups are not the wanted ones, or --force), mints a new one with it (POST /tokens/user), \
            stores it as a new version staged AWSPENDING only, tests it with GET /who-am-i, and then moves \
            AWSCURRENT to it (AWSPREVIOUS keeps the old one). A failure at any step leaves AWSCURRENT as it \
            was. Once AWSCURRENT is older than --revoke-after, the token in AWSPREVIOUS is revoked (added to \
            the global secret user-token-revocations). When the current token can no longer authenticate, \
            the token in --admin-token-secret-id mints the new one.

            With AWS_LAMBDA_RUNTIME_API set the same binary is a Secrets Manager rotation function \
            ({"Step","SecretId","ClientRequestToken"}) and serves scheduled events as the one-shot pass.

            EXIT CODES: 0 nothing to do, or rotated; 1 failed (the current token is untouched; the line names \
            the step); 64 usage error; 78 configuration error.
            """)

    static let secretSetting = Setting(flag: "--token-secret-id", variable: "KUMA_API_TOKEN_SECRET_ID")
    static let adminSetting = Setting(flag: "--admin-token-secret-id", variable: "KMESH_ADMIN_TOKEN_SECRET_ID")
    static let nameSetting = Setting(flag: "--name", variable: "KMESH_USER_TOKEN_NAME")
    static let groupSetting = Setting(flag: "--group", variable: "KMESH_USER_TOKEN_GROUPS")
    static let validSetting = Setting(flag: "--valid-for", variable: "KMESH_USER_TOKEN_VALID_FOR")
    static let beforeSetting = Setting(flag: "--rotate-before", variable: "KMESH_ROTATE_BEFORE")
    static let revokeSetting = Setting(flag: "--revoke-after", variable: "KMESH_REVOKE_AFTER")

    @OptionGroup(title: "Kuma control plane") var kuma: KumaEndpointOptions

    @Option(
        help: Self.secretSetting.help(
            "The secret holding the token (a plain JWT, or JSON with a \"token\" key; the format is kept). Required.", valueName: "id"))
    var tokenSecretId: String?

    @Option(
        help: Self.adminSetting.help(
            "A secret holding an admin token, used only when the current token can no longer authenticate.", default: "none",
            valueName: "id"))
    var adminTokenSecretId: String?

    @Option(
        help: Self.nameSetting.help("User name of the new token.", default: "the current token's, else ecs-controller", valueName: "name"))
    var name: String?

    @Option(
        name: .customLong("group"),
        help: Self.groupSetting.help(
            "Group of the new token; repeat for several.", variableNote: ", comma-separated",
            default: "the current token's, else mesh-system:admin", valueName: "group"))
    var groups: [String] = []

    @Option(
        help: Self.validSetting.help("Lifetime of the new token, a Go duration.", default: "8766h", valueName: "duration"))
    var validFor: String?

    @Option(
        help: Self.beforeSetting.help("Rotate when the token expires within this.", default: "720h", valueName: "duration"))
    var rotateBefore: String?

    @Option(
        help: Self.revokeSetting.help(
            "Revoke the previous token once the current version is this old; 0 disables revocation.", default: "24h", valueName: "duration")
    )
    var revokeAfter: String?

    @Flag(help: "Rotate now, however long the token has left.")
    var force = false

    @OptionGroup(title: "Pass") var pass: PassOptions

    public init() {}

    public func validate() throws {
        try Self.validSetting.checkDuration(validFor)
        try Self.beforeSetting.checkDuration(rotateBefore)
        try Self.revokeSetting.checkDuration(revokeAfter)
    }

    public struct Configuration: ShellConfiguration {
        public var kuma: KumaConnection
        public var pass: PassSettings
        public var rotator: UserTokenRotator.Options
    }

    public func configuration(environment env: Environment) throws -> Configuration {
        let kuma = try self.kuma.resolve(env)
        let pass = try self.pass.resolve(env)
        guard let (secretId, _) = Self.secretSetting.text(tokenSecretId, env) else {
            throw ConfigurationError(
                "no token secret: name the secret holding the Kuma API token with --token-secret-id or KUMA_API_TOKEN_SECRET_ID")
        }
        var options = UserTokenRotator.Options(tokenSecretId: secretId)
        options.adminTokenSecretId = Self.adminSetting.text(adminTokenSecretId, env)?.text
        options.name = Self.nameSetting.text(name, env)?.text
        options.groups = Self.groupSetting.list(groups, env)
        options.validFor = try Self.validSetting.duration(validFor, env) ?? options.validFor
        options.rotateBefore = try Self.beforeSetting.duration(rotateBefore, env) ?? options.rotateBefore
        options.revokeAfter = try Self.revokeSetting.duration(revokeAfter, env) ?? options.revokeAfter
        guard options.validFor.seconds > 0 else {
            throw ConfigurationError("the token lifetime (\(Self.validSetting.names)) must be more than zero")
        }
        guard options.rotateBefore < options.validFor else {
            throw ConfigurationError(
                "--rotate-before (\(options.rotateBefore)) must be shorter than --valid-for (\(options.validFor)), or every run would rotate"
            )
        }
        options.force = force
        options.dryRun = pass.dryRun
        return Configuration(kuma: kuma, pass: pass, rotator: options)
    }

    public static func wire(_ configuration: Configuration, _ context: WiringContext) async throws -> UserTokenRotator {
        let aws = try AWSWiring.make(context)
        let clients = KumaWiring.factory(configuration.kuma, context)
        return UserTokenRotator(
            secrets: aws.secretsManager, kuma: { token in try clients(StaticKumaToken(token)) },
            options: configuration.rotator, logger: context.logger)
    }

    public func scope(_ configuration: Configuration) -> UserTokenRotator.Scope { .scheduled }
}

/// rotate-user-token as a Lambda function: Secrets Manager's rotation events run one step;
/// scheduled events and `{}` are the one-shot pass (the shell's).
extension UserTokenRotator: EventDrivenReconciler {
    public var fullScope: Scope { .scheduled }
    public static var servedEvents: String? { #"a Secrets Manager rotation step {"Step","SecretId","ClientRequestToken"}"# }

    public func route(_ event: [String: JSONValue]) -> EventRoute<Scope>? {
        guard let stepName = event["Step"]?.stringValue else { return nil }
        guard let step = RotationStep(rawValue: stepName) else {
            return .reject(
                FunctionError(
                    type: "Function.UnsupportedStep",
                    message: "unknown rotation step \"\(stepName)\": expected createSecret, setSecret, testSecret or finishSecret"))
        }
        guard let secretId = event["SecretId"]?.stringValue, !secretId.isEmpty, let token = event["ClientRequestToken"]?.stringValue,
            !token.isEmpty
        else {
            return .reject(
                FunctionError(type: "Function.MalformedEvent", message: "a rotation step without SecretId and ClientRequestToken"))
        }
        return .pass(.step(step, secretId: secretId, clientRequestToken: token), dedupe: nil)
    }
}
