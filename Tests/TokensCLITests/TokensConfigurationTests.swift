import Foundation
import KMeshSupport
import ReconcilerShell
import Testing

@testable import Reconcilers
@testable import TokensCLI

struct TokensConfigurationTests {
    let base = ["KUMA_API_SERVER_URL": "https://cp:5682", "KUMA_API_TOKEN": "jwt"]

    /// Parses `arguments` as the command line does, then resolves them with `env`.
    func resolve(_ env: [String: String], _ arguments: [String] = []) throws -> ReconcileTokensCommand.Configuration {
        try ReconcileTokensCommand.parse(arguments).configuration(environment: Environment(env))
    }

    @Test func defaults() throws {
        let c = try resolve(base)
        #expect(c.reconciler.secretNamePrefix == "kong-mesh-ecs/" && c.reconciler.defaultMesh == "default")
        #expect(c.reconciler.tokenValidFor.seconds == 8760 * 3600 && c.reconciler.renewBefore.seconds == 720 * 3600)
        #expect(c.reconciler.concurrency == 16 && !c.reconciler.dryRun && c.reconciler.clusters.isEmpty)
        #expect(c.pass.output == .text && c.pass.logLevel == .info && c.pass.logFormat == .json && c.task == nil)
        #expect(c.kuma.token == .value(Secret("jwt")))
    }

    @Test func environmentFillsInAndFlagsWin() throws {
        let env = base.merging([
            "KMESH_SECRET_NAME_PREFIX": "env/", "KMESH_CLUSTERS": "a, b,,c", "KMESH_DEFAULT_MESH": "m",
            "KMESH_TOKEN_VALID_FOR": "48h", "KMESH_RENEW_BEFORE": "1h", "KMESH_CONCURRENCY": "4",
            "KMESH_DRY_RUN": "true", "KMESH_OUTPUT": "json", "LOG_LEVEL": "debug", "KMESH_LOG_FORMAT": "text",
            "KUMA_API_TOKEN_SECRET_ID": "kuma/token",
        ]) { _, b in b }
        let fromEnv = try resolve(env)
        #expect(fromEnv.reconciler.secretNamePrefix == "env/" && fromEnv.reconciler.clusters == ["a", "b", "c"])
        #expect(fromEnv.reconciler.tokenValidFor.seconds == 48 * 3600 && fromEnv.reconciler.renewBefore.seconds == 3600)
        #expect(fromEnv.reconciler.concurrency == 4 && fromEnv.reconciler.dryRun && fromEnv.pass.output == .json)
        #expect(fromEnv.pass.logLevel == .debug && fromEnv.pass.logFormat == .text)
        #expect(fromEnv.kuma.token == .secret(id: "kuma/token"), "a secret id wins over the token value")
        let flags = try resolve(
            env,
            [
                "--secret-name-prefix", "flag/", "--cluster", "x", "--concurrency", "2", "--output", "text",
                "--api-token-secret-id", "other",
            ])
        #expect(flags.reconciler.secretNamePrefix == "flag/" && flags.reconciler.clusters == ["x"])
        #expect(flags.reconciler.concurrency == 2 && flags.pass.output == .text && flags.kuma.token == .secret(id: "other"))
    }

    @Test(
        arguments: [
            (["KUMA_API_TOKEN": "t"], "KUMA_API_SERVER_URL"),
            (["KUMA_API_SERVER_URL": "cp:5681", "KUMA_API_TOKEN": "t"], "must start with http"),
            (["KUMA_API_SERVER_URL": "http://cp"], "no Kuma API token"),
            (
                ["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_TOKEN_VALID_FOR": "1y"],
                "KMESH_TOKEN_VALID_FOR is \"1y\""
            ),
            (
                ["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_RENEW_BEFORE": "9000h"],
                "must be shorter than --token-valid-for"
            ),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_CONCURRENCY": "many"], "KMESH_CONCURRENCY"),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_CONCURRENCY": "0"], "between 1 and 256"),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_OUTPUT": "yaml"], "not text or json"),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "LOG_LEVEL": "loud"], "log level"),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KUMA_API_CA_BYTES": "not a pem"], "not a PEM certificate"),
            (["KUMA_API_SERVER_URL": "http://cp", "KUMA_API_TOKEN": "t", "KMESH_SECRET_NAME_PREFIX": "a/../b/"], "must not contain"),
        ] as [([String: String], String)])
    func configurationErrorsNameTheSetting(_ env: [String: String], _ mention: String) {
        let error = #expect(throws: ConfigurationError.self) { try resolve(env) }
        #expect(error?.message.contains(mention) == true, "\(String(describing: error))")
        #expect(error.map { !$0.message.contains("\n") } == true)
    }

    @Test func singleTaskModeNeedsExactlyOneCluster() throws {
        let c = try resolve(base, ["--cluster", "prod", "--task", "arn:aws:ecs:eu-west-1:1:task/prod/abc"])
        #expect(c.task?.cluster == "prod" && c.task?.arn.hasSuffix("/abc") == true)
        #expect(throws: (any Error).self) { try resolve(base, ["--task", "arn"]) }
        #expect(throws: (any Error).self) { try resolve(base.merging(["KMESH_CLUSTERS": "a,b"]) { a, _ in a }, ["--task", "arn"]) }
    }

    @Test func clientRequestTokenIsStablePerVersionAndInRange() {
        let a = TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v1")
        #expect(a == TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v1"))
        #expect(a != TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v2"))
        #expect(a != TokenReconciler.clientRequestToken(secret: "arn:t", replacing: "v1"))
        #expect((32...64).contains(a.count) && a.hasPrefix("kmesh-"))
    }

    /// A bad value is a usage error (64) on the command line and a configuration error (78) in the
    /// environment, whatever else is missing.
    @Test(
        arguments: [
            (["--output", "yaml"], "--output is \"yaml\""),
            (["--log-level", "loud"], "--log-level is \"loud\""),
            (["--log-format", "xml"], "--log-format is \"xml\""),
            (["--concurrency", "0"], "between 1 and 256"),
            (["--renew-before", "30d"], "--renew-before is \"30d\""),
            (["--token-valid-for", "1y"], "--token-valid-for is \"1y\""),
            (["--api-server-url", "cp:5681"], "must start with http"),
        ] as [([String], String)])
    func badFlagValuesAreUsageErrors(_ arguments: [String], _ mention: String) {
        // No URL and no token in the environment: the flag is still what is reported.
        do {
            _ = try ReconcileTokensCommand.parse(arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            #expect(ReconcileTokensCommand.exitCode(for: error).rawValue == ShellExit.usage)
            #expect(ReconcileTokensCommand.message(for: error).contains(mention), "\(ReconcileTokensCommand.message(for: error))")
        }
    }

    @Test func dryRunVariableMustBeABoolean() {
        let error = #expect(throws: ConfigurationError.self) { try resolve(base.merging(["KMESH_DRY_RUN": "perhaps"]) { a, _ in a }) }
        #expect(error?.message == "KMESH_DRY_RUN is \"perhaps\": expected true or false")
    }
}
