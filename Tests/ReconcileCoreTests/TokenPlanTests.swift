import Foundation
import Testing

@testable import ReconcileCore

struct ServiceNameTests {
    @Test(arguments: ["backend", "demo-app", "api_v2", "svc.ns.svc", "A1", String(repeating: "a", count: 253)])
    func valid(_ name: String) { #expect(ServiceName.problem(with: name) == nil) }

    @Test(arguments: [
        ("", "empty"), ("a/b", "\"/\""), ("a..b", "\"..\""), ("..", "\"..\""), ("a b", "\" \""), ("ä", "\"ä\""),
        ("a\u{7}", "U+7"), (String(repeating: "a", count: 254), "longer than 253"),
    ])
    func invalid(_ name: String, _ mention: String) {
        let problem = ServiceName.problem(with: name)
        #expect(problem?.contains(mention) == true, "\(String(describing: problem))")
    }
}

struct TaskGroupingTests {
    @Test func groupsByMeshAndServiceDefaultingTheMesh() {
        let g = TaskGrouping.group(
            [
                MeshedTask(arn: "t2", cluster: "c1", service: "web", mesh: nil),
                MeshedTask(arn: "t1", cluster: "c2", service: "web", mesh: ""),
                MeshedTask(arn: "t3", cluster: "c1", service: "pay", mesh: "payments"),
            ], defaultMesh: "default")
        #expect(
            g.services == [
                ServiceKey(mesh: "default", service: "web"): ["t1", "t2"],
                ServiceKey(mesh: "payments", service: "pay"): ["t3"],
            ])
        #expect(g.invalid.isEmpty && g.conflicts.isEmpty)
    }

    @Test func aServiceInTwoMeshesIsAConflictAndGetsNothing() {
        let g = TaskGrouping.group(
            [
                MeshedTask(arn: "t1", cluster: "c", service: "web", mesh: "a"),
                MeshedTask(arn: "t2", cluster: "c", service: "web", mesh: nil),
                MeshedTask(arn: "t3", cluster: "c", service: "ok", mesh: nil),
            ], defaultMesh: "b")
        #expect(g.conflicts == [.init(service: "web", meshes: ["a", "b"], taskArns: ["t1", "t2"])])
        #expect(g.services.keys.map(\.service) == ["ok"])
    }

    @Test func invalidValuesAreSetAsideNeverGrouped() {
        let g = TaskGrouping.group([MeshedTask(arn: "t1", cluster: "c", service: "../etc", mesh: nil)], defaultMesh: "default")
        #expect(g.services.isEmpty)
        #expect(g.invalid.map(\.taskArn) == ["t1"])
    }
}

struct TokenPolicyTests {
    let key = ServiceKey(mesh: "default", service: "web")
    let now = Date(timeIntervalSince1970: 2_000_000_000)
    let renew: Int64 = 720 * 3600

    func token(mesh: String? = "default", services: [String] = ["web"], expiresIn: Double? = 365 * 86_400, jwt: Bool = true) -> StoredSecret
    {
        .object(
            token: TokenFacts(isJWT: jwt, mesh: mesh, services: services, expiresAt: expiresIn.map { now.addingTimeInterval($0) }),
            hasTokenKey: true)
    }

    @Test func table() {
        let cases: [(StoredSecret, TokenDecision)] = [
            (token(), .keep(reason: "valid for 365d0h more")),
            (token(expiresIn: 721 * 3600), .keep(reason: "valid for 30d1h more")),
            (token(expiresIn: 720 * 3600), .replace(reason: "the stored token expires in 30d0h")),
            (token(expiresIn: 3600), .replace(reason: "the stored token expires in 1h0m")),
            (token(expiresIn: -90), .replace(reason: "the stored token expired 1m ago")),
            (token(expiresIn: nil), .replace(reason: "the stored token has no expiry")),
            (token(mesh: "payments"), .replace(reason: "the stored token is for mesh \"payments\", not \"default\"")),
            (token(mesh: nil), .replace(reason: "the stored token is for mesh (none), not \"default\"")),
            (token(services: ["api"]), .replace(reason: "the stored token is for \"api\", not \"web\"")),
            (token(services: ["web", "api"]), .replace(reason: "the stored token is for \"web\", \"api\", not \"web\"")),
            (token(services: []), .replace(reason: "the stored token is for no service, not \"web\"")),
            (token(jwt: false), .replace(reason: "the stored token is not a JWT")),
            (.object(token: nil, hasTokenKey: false), .replace(reason: "no token yet")),
            (.object(token: nil, hasTokenKey: true), .replace(reason: "the token key is not a string")),
            (.noValue, .replace(reason: "the secret has no value yet")),
        ]
        for (stored, expected) in cases {
            #expect(TokenPolicy.decide(stored, for: key, now: now, renewBefore: renew) == expected)
        }
        guard case .fail(let missing) = TokenPolicy.decide(.missing, for: key, now: now, renewBefore: renew) else {
            Issue.record("missing")
            return
        }
        #expect(missing.contains("create it"))
        guard case .fail = TokenPolicy.decide(.notAJSONObject, for: key, now: now, renewBefore: renew) else {
            Issue.record("not json")
            return
        }
    }

    @Test func aValidTokenIsNeverReplacedTwice() {
        // Idempotency: what a pass writes (fresh token for this key) is kept by the next pass.
        let fresh = token(expiresIn: 8760 * 3600)
        #expect(TokenPolicy.decide(fresh, for: key, now: now, renewBefore: renew) == .keep(reason: "valid for 365d0h more"))
    }
}

struct TokenReportTests {
    @Test func totalsTextAndJSON() throws {
        let r = TokenReport(
            dryRun: false, clusters: 2, tasksSeen: 5,
            services: [
                .init(mesh: "default", service: "web", secret: "p/web", tasks: 3, action: .written, reason: "no token yet"),
                .init(mesh: "default", service: "api", secret: "p/api", tasks: 2, action: .failed, reason: "the secret does not exist"),
            ], errors: [], durationSeconds: 1.234)
        #expect(r.totals == ["unchanged": 0, "written": 1, "would-write": 0, "failed": 1, "skipped": 0])
        #expect(r.failed)
        #expect(r.services.map(\.service) == ["api", "web"])
        let text = r.text()
        #expect(text.hasSuffix("2 services, 5 tasks in 2 clusters: 0 unchanged, 1 written, 0 would-write, 1 failed, 0 skipped (1.23s)\n"))
        #expect(
            text.hasPrefix(
                "SERVICE  MESH     SECRET  TASKS  ACTION   REASON\napi      default  p/api   2      failed   the secret does not exist\n"))
        let decoded = try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as! [String: Any]
        #expect((decoded["services"] as? [[String: Any]])?.first?["action"] as? String == "failed")
        #expect(!TokenReport(dryRun: true, clusters: 1, tasksSeen: 0, services: [], durationSeconds: 0).failed)
        #expect(TokenReport(dryRun: false, clusters: 0, tasksSeen: 0, services: [], errors: ["x"], durationSeconds: 0).failed)
    }
}

struct TokenPlanTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let web = ServiceKey(mesh: "default", service: "web")
    let api = ServiceKey(mesh: "payments", service: "api")
    let options = TokenPlan.Options(secretNamePrefix: "p/", renewBefore: 720 * 3600, dryRun: false)

    func grouping(_ keys: [ServiceKey]) -> TaskGrouping {
        TaskGrouping.group(
            keys.map { MeshedTask(arn: "arn/\($0.service)", cluster: "c", service: $0.service, mesh: $0.mesh) },
            defaultMesh: "default")
    }

    func valid(_ key: ServiceKey) -> SecretRead {
        .read(
            .object(
                token: TokenFacts(isJWT: true, mesh: key.mesh, services: [key.service], expiresAt: now + 365 * 86400), hasTokenKey: true))
    }

    @Test func currentEqualsDesiredGivesNoChange() {
        let plan = TokenPlan.make(
            grouping: grouping([web, api]), waiting: [:], secrets: [web: valid(web), api: valid(api)],
            options: options, now: now)
        #expect(plan.writes.isEmpty)
        #expect(plan.entries.map(\.action) == [.unchanged, .unchanged] && plan.entries.map(\.service) == ["api", "web"])
    }

    @Test func writesWhatMustChangeAndDryRunOnlySaysSo() {
        let secrets: [ServiceKey: SecretRead] = [web: .read(.object(token: nil, hasTokenKey: false)), api: .unreadable("AccessDenied")]
        let plan = TokenPlan.make(grouping: grouping([web, api]), waiting: [web: 1], secrets: secrets, options: options, now: now)
        #expect(plan.writes == [TokenPlan.Write(key: web, reason: "no token yet")])
        #expect(plan.entries.map(\.action) == [.failed] && plan.entries.first?.reason == "AccessDenied")
        var dry = options
        dry.dryRun = true
        let dryPlan = TokenPlan.make(grouping: grouping([web, api]), waiting: [web: 1], secrets: secrets, options: dry, now: now)
        #expect(dryPlan.writes.isEmpty && dryPlan.entries.map(\.action) == [.failed, .wouldWrite])
        #expect(dryPlan.entries.last?.waiting == 1 && dryPlan.entries.last?.secret == "p/web")
        #expect(
            dryPlan == TokenPlan.make(grouping: grouping([web, api]), waiting: [web: 1], secrets: secrets, options: dry, now: now), "pure")
    }
}
