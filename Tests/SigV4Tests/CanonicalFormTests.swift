import KMeshSupport
import Testing

@testable import SigV4

struct CanonicalFormTests {
    @Test(arguments: [
        ("a b", "a%20b"), ("-._~", "-._~"), ("ሴ", "%E1%88%B4"), ("a+b=c&d", "a%2Bb%3Dc%26d"), ("/x", "%2Fx"),
    ])
    func uriEncoding(_ input: String, _ expected: String) {
        #expect(URIEncoding.encode(input) == expected)
        #expect(URIEncoding.decode(expected) == input)
    }

    @Test(arguments: [
        ("//example//", "/example/"), ("/example/..", "/"), ("/./example", "/example"), ("/a/b/../../c/", "/c/"), ("", "/"),
    ])
    func pathNormalisation(_ input: String, _ expected: String) {
        #expect(SigV4Signer.normalize(input) == expected)
    }

    @Test func queryIsDecodedReencodedAndSortedByNameThenValue() {
        #expect(SigV4Signer.canonicalQuery("b=2&a=z&a=y&c&d=%7e+") == "a=y&a=z&b=2&c=&d=~%2B")
        #expect(SigV4Signer.canonicalQuery("") == "")
    }

    @Test func headersAreLowercasedTrimmedCollapsedAndUnsignableOnesDropped() {
        let (lines, names) = SigV4Signer.canonicalHeaders([
            ("Host", "h"), ("X-B", "  a   b \n c "), ("x-b", "d"), ("User-Agent", "curl"), ("Expect", ""),
        ])
        #expect(lines == "host:h\nx-b:a b c,d\n")
        #expect(names == "host;x-b")
    }

    @Test func signingKeyCacheReturnsTheSameKeyAsTheChain() {
        let creds = SigV4Credentials(accessKeyId: "AK", secretAccessKey: Secret("s"))
        let cache = SigningKeyCache()
        let direct = SigV4Signer.signingKey(secret: creds.secretAccessKey, day: "20260101", region: "r", service: "ecs")
        #expect(cache.key(for: creds, day: "20260101", region: "r", service: "ecs") == direct)
        #expect(cache.key(for: creds, day: "20260102", region: "r", service: "ecs") != direct)
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let creds = SigV4Credentials(accessKeyId: "AK", secretAccessKey: Secret("topsecret"), sessionToken: Secret("tok"))
        let printed = "\(creds) \(String(describing: creds)) \(String(reflecting: creds))"
        #expect(!printed.contains("topsecret"))
        #expect(!printed.contains("tok\""))
    }
}
