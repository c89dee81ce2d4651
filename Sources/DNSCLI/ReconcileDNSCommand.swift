import AWS
import ArgumentParser
import FoundationEssentials
import KMeshSupport
import LambdaRuntime
import ReconcileCore
import ReconcilerShell
import Reconcilers

/// `reconcile-dns`: its flags, how they resolve, and its wiring. The shell does the rest.
public struct ReconcileDNSCommand: ReconcilerCommand {
    public static let toolName = "reconcile-dns"
    public static let configuration = CommandConfiguration(
        commandName: toolName,
        abstract: "Keep Route 53 private hosted zones in step with the mesh's service addresses.",
        discussion: """
            Reads every MeshService, MeshExternalService and MeshMultiZoneService (all meshes, or --mesh) \
            and publishes each status.addresses[].hostname as an A record of status.vips[0].ip, in the zone \
            its HostnameGenerator's Route53 extension names, else in the --hosted-zone-id zone whose name is \
            the longest suffix of the hostname. Only private zones are written. Each record it manages has a \
            TXT companion _kmesh.<name> = "heritage=kmesh-reconcile-dns,owner=<owner-id>"; a record without \
            it is never changed or deleted. Do not run it and Kong Mesh's own Route 53 writer on one zone.

            Every option can also come from the environment variable named in its help (flags win). AWS \
            credentials, region and endpoints come from the usual AWS variables. With \
            AWS_LAMBDA_RUNTIME_API set the same binary serves scheduled events ("Scheduled Event" or {}).

            EXIT CODES: 0 converged (with or without changes); 1 something failed, or a guard refused the \
            deletes (the line says what to do); 64 usage error; 78 configuration error.
            """)

    static let zoneSetting = Setting(flag: "--hosted-zone-id", variable: "KMESH_RUNTIME_AWS_ROUTE53_HOSTED_ZONE_ID")
    static let ownerSetting = Setting(flag: "--owner-id", variable: "KMESH_DNS_OWNER_ID")
    static let ttlSetting = Setting(flag: "--ttl", variable: "KMESH_DNS_TTL")
    static let policySetting = Setting(flag: "--policy", variable: "KMESH_DNS_POLICY")
    static let fractionSetting = Setting(flag: "--max-delete-fraction", variable: "KMESH_DNS_MAX_DELETE_FRACTION")
    static let emptySetting = Setting(flag: "--allow-empty-source", variable: "KMESH_DNS_ALLOW_EMPTY_SOURCE")
    static let rpsSetting = Setting(flag: "--max-requests-per-second", variable: "KMESH_ROUTE53_RPS")
    static let meshSetting = Setting(flag: "--mesh", variable: "KMESH_MESHES")

    @OptionGroup(title: "Kuma control plane") var kuma: KumaConnectionOptions

    @Option(
        name: .customLong("hosted-zone-id"),
        help: Self.zoneSetting.help(
            "Private hosted zone for names whose generator names none; repeat for several.", variableNote: ", comma-separated",
            default: "none", valueName: "id"))
    var zones: [String] = []

    @Option(
        help: Self.ownerSetting.help(
            "Owner recorded in each TXT companion; instances with different owners never touch each other's records.", default: "default",
            valueName: "id"))
    var ownerId: String?

    @Option(
        help: Self.ttlSetting.help("TTL of the records written, in seconds.", default: "60", valueName: "seconds"))
    var ttl: String?

    @Option(
        help: Self.policySetting.help(
            "sync (create, update, delete), upsert-only (never delete) or create-only.", default: "sync", valueName: "policy"))
    var policy: String?

    @Option(
        help: Self.fractionSetting.help(
            "Refuse every delete when a pass would delete more than this share of the owned records (and more than 5).", default: "0.5",
            valueName: "fraction"))
    var maxDeleteFraction: String?

    @Flag(
        help: Self.emptySetting.help("Allow deletes when the mesh yields no records at all.", variableNote: "=true", default: "off"))
    var allowEmptySource = false

    @Flag(help: "Override the mass-delete guard for this run.")
    var force = false

    @Option(
        help: Self.rpsSetting.help("Route 53 requests in any one second, retries included.", default: "5", valueName: "n"))
    var maxRequestsPerSecond: String?

    @Option(
        name: .customLong("mesh"),
        help: Self.meshSetting.help(
            "Mesh to read; repeat for several.", variableNote: ", comma-separated", default: "every mesh", valueName: "mesh"))
    var meshes: [String] = []

    @OptionGroup(title: "Pass") var pass: PassOptions

    public init() {}

    static func parseOwner(_ s: String) -> String? {
        !s.isEmpty && s.count <= 64
            && s.utf8.allSatisfy {
                ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 || $0 == 46
            } ? s : nil
    }
    static func parseTTL(_ s: String) -> Int? { Int(s).flatMap { (0...2_147_483_647).contains($0) ? $0 : nil } }
    static func parseFraction(_ s: String) -> Double? { Double(s).flatMap { $0 >= 0 && $0 <= 1 ? $0 : nil } }
    static func parseRPS(_ s: String) -> Double? { Double(s).flatMap { $0 >= 1 && $0 <= 1000 ? $0 : nil } }
    static let ownerExpected = "the owner id is 1 to 64 letters, digits, '-', '_' or '.'"
    static let ttlExpected = "the TTL is a whole number of seconds"
    static let policyExpected = "the policy is sync, upsert-only or create-only"
    static let fractionExpected = "the fraction is a number from 0 to 1"
    static let rpsExpected = "the rate is a number of requests per second from 1 to 1000"

    public func validate() throws {
        try Self.ownerSetting.check(ownerId, expected: Self.ownerExpected, Self.parseOwner)
        try Self.ttlSetting.check(ttl, expected: Self.ttlExpected, Self.parseTTL)
        try Self.policySetting.check(policy, expected: Self.policyExpected) { DNSPolicy(rawValue: $0) }
        try Self.fractionSetting.check(maxDeleteFraction, expected: Self.fractionExpected, Self.parseFraction)
        try Self.rpsSetting.check(maxRequestsPerSecond, expected: Self.rpsExpected, Self.parseRPS)
    }

    public struct Configuration: ShellConfiguration {
        public var kuma: KumaConnection
        public var pass: PassSettings
        public var reconciler: DNSReconciler.Options
        public var requestsPerSecond: Double
    }

    public func configuration(environment env: Environment) throws -> Configuration {
        let kuma = try self.kuma.resolve(env)
        let pass = try self.pass.resolve(env)
        var options = DNSReconciler.Options()
        options.zones = Self.zoneSetting.list(zones, env).map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        options.meshes = Self.meshSetting.list(meshes, env)
        options.plan.owner = try Self.ownerSetting.value(ownerId, env, expected: Self.ownerExpected, Self.parseOwner) ?? "default"
        options.plan.ttl = try Self.ttlSetting.value(ttl, env, expected: Self.ttlExpected, Self.parseTTL) ?? 60
        options.plan.policy = try Self.policySetting.value(policy, env, expected: Self.policyExpected) { DNSPolicy(rawValue: $0) } ?? .sync
        options.plan.maxDeleteFraction =
            try Self.fractionSetting.value(maxDeleteFraction, env, expected: Self.fractionExpected, Self.parseFraction) ?? 0.5
        options.plan.allowEmptySource = try Self.emptySetting.bool(allowEmptySource, env)
        options.plan.force = force
        options.dryRun = pass.dryRun
        let rps = try Self.rpsSetting.value(maxRequestsPerSecond, env, expected: Self.rpsExpected, Self.parseRPS) ?? 5
        return Configuration(kuma: kuma, pass: pass, reconciler: options, requestsPerSecond: rps)
    }

    public static func wire(_ configuration: Configuration, _ context: WiringContext) async throws -> DNSReconciler {
        let aws = try AWSWiring.make(context, rateLimits: [AWSService.route53.name: configuration.requestsPerSecond])
        let tokens = try await KumaWiring.tokenSource(configuration.kuma.token, secrets: aws.secretsManager)
        let kuma = try KumaWiring.client(configuration.kuma, tokens: tokens, context)
        return DNSReconciler(route53: aws.route53, kuma: kuma, options: configuration.reconciler, logger: context.logger)
    }

    public func scope(_ configuration: Configuration) -> DNSReconciler.Scope { .all }
}

/// reconcile-dns as a Lambda function: scheduled events and `{}` are full passes (the shell's);
/// no other event is served.
extension DNSReconciler: EventDrivenReconciler {
    public var fullScope: Scope { .all }
    public static var servedEvents: String? { nil }
    public func route(_ event: [String: JSONValue]) -> EventRoute<Scope>? { nil }
}
