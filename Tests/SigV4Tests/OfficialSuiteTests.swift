import Foundation
import KMeshSupport
import Testing

@testable import SigV4

/// The 38 cases of AWS's published SigV4 suite (aws-c-auth's copy, in ../shared beside the
/// project). A user's clone has no ../shared: the test then records why it did not run.
struct OfficialSuiteTests {
    static let suiteRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/aws-signing-test-suite/v4")

    static var caseNames: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: suiteRoot.path).sorted()) ?? []
    }

    static var suitePresent: Bool { !caseNames.isEmpty }

    @Test(
        "the suite holds all 38 cases",
        .enabled(if: suitePresent, "../shared/data/aws-signing-test-suite is absent (a user's clone): skipped"))
    func suiteIsComplete() {
        #expect(Self.caseNames.count == 38)
    }

    @Test(
        "official SigV4 case", .enabled(if: suitePresent, "../shared/data/aws-signing-test-suite is absent (a user's clone): skipped"),
        arguments: caseNames)
    func officialCase(_ name: String) throws {
        let dir = Self.suiteRoot.appendingPathComponent(name)
        func read(_ file: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) }
        let context = try JSONSerialization.jsonObject(with: Data(read("context.json").utf8)) as! [String: Any]
        let creds = context["credentials"] as! [String: String]
        let parsed = try ParsedRequest(text: read("request.txt"))

        var options = SigV4Signer.Options()
        options.normalizePath = context["normalize"] as? Bool ?? true
        options.addContentSHA256Header = context["sign_body"] as? Bool ?? false
        options.omitSessionTokenFromSignature = context["omit_session_token"] as? Bool ?? false
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyId: creds["access_key_id"]!,
                secretAccessKey: Secret(creds["secret_access_key"]!),
                sessionToken: creds["token"].map(Secret.init)),
            region: context["region"] as! String, service: context["service"] as! String, options: options)
        let date = try #require(UTCTime.parseISO8601(context["timestamp"] as! String))

        let result = signer.sign(
            SigV4Request(
                method: parsed.method, path: parsed.path, query: parsed.query,
                headers: parsed.headers, body: Array(parsed.body.utf8)), date: date)
        #expect(result.canonicalRequest == (try read("header-canonical-request.txt")))
        #expect(result.stringToSign == (try read("header-string-to-sign.txt")))
        #expect(result.signature == (try read("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))

        // The signed request the suite shows carries the same Authorization header.
        let signedRequest = try read("header-signed-request.txt")
        let authorization = result.headersToAdd.first { $0.name == "Authorization" }!.value
        #expect(signedRequest.contains("Authorization:\(authorization)"))
    }
}

/// `request.txt`: request line, headers (a line starting with whitespace continues the previous
/// header), a blank line, the body.
struct ParsedRequest {
    var method = "", path = "", query = ""
    var headers: [(name: String, value: String)] = []
    var body = ""

    init(text: String) throws {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ")!
        method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<requestLine.range(of: " HTTP/", options: .backwards)!.lowerBound]
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = String(target)
        }
        while !lines.isEmpty {
            let line = lines.removeFirst()
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        body = lines.joined(separator: "\n")
    }
}
