import Foundation
import KMeshSupport
import Testing

@testable import ReconcileCore

struct TokenSecretValueTests {
    @Test func plainAndJSONKeepTheirFormat() throws {
        let plain = try TokenSecretValue.parse("  a.b.c\n").get()
        #expect(plain.token == "a.b.c" && plain.format == .plain && plain.replacing(token: "x.y.z") == "x.y.z")
        let json = try TokenSecretValue.parse(#"{"token":"a.b.c","owner":"team","n":{"k":1}}"#).get()
        #expect(json.token == "a.b.c")
        let replaced = try JSONSerialization.jsonObject(with: Data(json.replacing(token: "x.y.z").utf8)) as? [String: Any]
        #expect(
            replaced?["token"] as? String == "x.y.z" && replaced?["owner"] as? String == "team"
                && (replaced?["n"] as? [String: Int]) == ["k": 1])
    }

    @Test(arguments: [
        ("", TokenSecretProblem.empty), ("{not json", .notJSON), (#"{"tok":"x"}"#, .noTokenKey), (#"{"token":1}"#, .noTokenKey),
    ])
    func problems(_ text: String, _ problem: TokenSecretProblem) {
        #expect(TokenSecretValue.parse(text) == .failure(problem))
    }
}

struct UserTokenPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    func facts(hours: Double, name: String = "ecs-controller", groups: [String] = ["mesh-system:admin"]) -> UserTokenFacts {
        UserTokenFacts(name: name, groups: groups, expiresAt: now + hours * 3600, id: "j1")
    }
    func decide(_ f: UserTokenFacts?, force: Bool = false) -> RotationDecision {
        UserTokenPolicy.decide(f, name: "ecs-controller", groups: ["mesh-system:admin"], now: now, rotateBefore: 720 * 3600, force: force)
    }

    @Test func keepsAFreshMatchingToken() {
        #expect(decide(facts(hours: 8000)) == .keep(reason: "valid for 333d8h more, more than 720h0m0s"))
    }

    @Test func rotatesWhenDueMismatchedOrForced() {
        guard case .rotate(let soon) = decide(facts(hours: 100)) else {
            Issue.record("not rotated")
            return
        }
        #expect(soon.contains("expires in 4d4h"))
        guard case .rotate(let expired) = decide(facts(hours: -1)) else {
            Issue.record("not rotated")
            return
        }
        #expect(expired.contains("expired 1h0m ago"))
        guard case .rotate(let name) = decide(facts(hours: 8000, name: "someone")) else {
            Issue.record("not rotated")
            return
        }
        #expect(name.contains("\"someone\""))
        guard case .rotate(let groups) = decide(facts(hours: 8000, groups: ["team"])) else {
            Issue.record("not rotated")
            return
        }
        #expect(groups.contains("team"))
        guard case .rotate(let forced) = decide(facts(hours: 8000), force: true) else {
            Issue.record("not rotated")
            return
        }
        #expect(forced.hasPrefix("--force"))
        guard case .rotate = decide(nil) else {
            Issue.record("an unreadable token was kept")
            return
        }
        #expect(
            decide(facts(hours: 8000, groups: ["mesh-system:admin", "mesh-system:admin"])) == decide(facts(hours: 8000)),
            "groups compare as sets")
    }
}

struct RevocationListTests {
    @Test func appendsOnceAndNeverReorders() {
        #expect(UserTokenRevocations.appending("c", to: "") == "c")
        #expect(UserTokenRevocations.appending("c", to: "a,b") == "a,b,c")
        #expect(UserTokenRevocations.appending("c", to: "a, b,") == "a, b,c")
        #expect(UserTokenRevocations.appending("b", to: "a,b,c") == nil)
        #expect(UserTokenRevocations.appending("b", to: "a, b ,c") == nil)
    }
}
