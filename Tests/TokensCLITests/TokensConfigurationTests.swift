import Foundation
import KMeshSupport
import Testing

@testable import Reconcilers
@testable import TokensCLI

struct TokensConfigurationTests {
    let base = ["KUMA_API_SERVER_URL": "https://cp:5682", "KUMA_API_TOKEN": "jwt"]

    func resolve(_ env: [String: String], _ edit: (inout TokensConfiguration.Flags) -> Void = { _ in }) throws -> TokensConfiguration {
        var flags = TokensConfiguration.Flags()
        edit(&flags)
        return try TokensConfiguration.resolve(flags, environment: Environment(env))
    }

    @Test func defaults() throws {
        let c = try resolve(base)
        #expect(c.reconciler.secretNamePrefix == "kong-mesh-ecs/" && c.reconciler.defaultMesh == "default")
        #expect(c.reconciler.tokenValidFor.seconds == 8760 * 3600 && c.reconciler.renewBefore.seconds == 720 * 3600)
        #expect(c.reconciler.concurrency == 16 && !c.reconciler.dryRun && c.reconciler.clusters.isEmpty)
        #expect(c.output == .text && c.logLevel == .info && c.logFormat == .json && c.task == nil)
        #expect(c.token == .value(Secret("jwt")))
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
        #expect(fromEnv.reconciler.concurrency == 4 && fromEnv.reconciler.dryRun && fromEnv.output == .json)
        #expect(fromEnv.logLevel == .debug && fromEnv.logFormat == .text)
        #expect(fromEnv.token == .secret(id: "kuma/token"), "a secret id wins over the token value")
        let flags = try resolve(env) { f in
            f.secretNamePrefix = "flag/"
            f.clusters = ["x"]
            f.concurrency = 2
            f.output = "text"
            f.apiTokenSecretId = "other"
        }
        #expect(flags.reconciler.secretNamePrefix == "flag/" && flags.reconciler.clusters == ["x"])
        #expect(flags.reconciler.concurrency == 2 && flags.output == .text && flags.token == .secret(id: "other"))
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
        let c = try resolve(base) {
            $0.clusters = ["prod"]
            $0.task = "arn:aws:ecs:eu-west-1:1:task/prod/abc"
        }
        #expect(c.task?.cluster == "prod" && c.task?.arn.hasSuffix("/abc") == true)
        #expect(throws: ConfigurationError.self) { try resolve(base) { $0.task = "arn" } }
    }

    @Test func clientRequestTokenIsStablePerVersionAndInRange() {
        let a = TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v1")
        #expect(a == TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v1"))
        #expect(a != TokenReconciler.clientRequestToken(secret: "arn:s", replacing: "v2"))
        #expect(a != TokenReconciler.clientRequestToken(secret: "arn:t", replacing: "v1"))
        #expect((32...64).contains(a.count) && a.hasPrefix("kmesh-"))
    }
}
