import Foundation
import HTTPTransport
import KMeshSupport
import Testing

@testable import AWS

struct ErrorDecodingTests {
    func decode(_ service: AWSService, _ status: Int, _ body: String, headers: HTTPHeaders = [:]) -> AWSServiceError {
        AWSClient.decodeError(
            AWSClient.Call(service: service, operation: "Op"),
            HTTPResponse(status: status, headers: headers, body: Data(body.utf8)))
    }

    @Test func awsJsonTypeIsStrippedOfNamespaceAndSuffix() {
        let e = decode(
            .ecs, 400, #"{"__type":"com.amazonaws.ecs#ThrottlingException:http://internal","message":"Rate exceeded"}"#,
            headers: ["x-amzn-RequestId": "req-1"])
        #expect(e.code == "ThrottlingException")
        #expect(e.message == "Rate exceeded")
        #expect(e.requestId == "req-1")
        #expect(e.isThrottling && e.isRetryable)
        #expect(decode(.secretsManager, 400, #"{"__type":"ResourceNotFoundException","Message":"nope"}"#).message == "nope")
    }

    @Test func restXMLAndMotoShapes() {
        let r53 = decode(
            .route53, 400,
            """
            <?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>PriorRequestNotComplete</Code><Message>The request was rejected because Route 53 was still processing a prior request.</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>
            """)
        #expect(r53.code == "PriorRequestNotComplete" && r53.requestId == "abc-123" && r53.isRetryable)
        let moto = decode(
            .ecs, 403,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message></Error></Errors></ErrorResponse>"
        )
        #expect(moto.code == "SignatureDoesNotMatch")
        #expect(!moto.isRetryable)
    }

    @Test func unknownBodiesStillGiveAUsefulError() {
        let e = decode(.ecs, 502, "<html>Bad Gateway</html")
        #expect(e.code == "HTTP502")
        #expect(e.isTransient)
        #expect(decode(.ecs, 400, "", headers: ["x-amzn-ErrorType": "ValidationException:http://x"]).code == "ValidationException")
    }

    @Test func descriptionIsOneActionableLine() {
        let e = AWSServiceError(
            service: "Secrets Manager", operation: "PutSecretValue", status: 400, code: "AccessDeniedException",
            message: "User arn:aws:iam::1:user/x is not authorized\nto perform this", requestId: "r-9")
        #expect(
            e.description
                == "Secrets Manager PutSecretValue failed: AccessDeniedException (HTTP 400): User arn:aws:iam::1:user/x is not authorized to perform this; the IAM policy of the caller does not allow secretsmanager:PutSecretValue [request id r-9]"
        )
        #expect(!e.isRetryable)
    }

    /// Found by FuzzAWSError (Tests/Fuzz/Corpus/FuzzAWSError/regression-newline-in-code): a newline
    /// in the error code itself split the error line in two.
    @Test func thePeersTextCannotSplitTheLineOrReachTheTerminal() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fuzz/Corpus/FuzzAWSError/regression-newline-in-code")
        let found = AWSClient.decodeError(
            AWSClient.Call(service: .route53, operation: "Op"), HTTPResponse(status: 404, headers: [:], body: try Data(contentsOf: url)))
        #expect(found.code == "NoSuchH e")
        #expect(!found.description.contains("\n") && !found.description.contains("\0"))
        let hostile = decode(
            .ecs, 400, #"{"__type":"Throttling\r\nException","message":"a\u001b[2Jb\u2028c\u202ed\te"}"#,
            headers: ["x-amzn-RequestId": "id\u{85}1"])
        #expect(hostile.code == "Throttling Exception")
        #expect(hostile.message == "a [2Jb c d e")
        #expect(hostile.requestId == "id 1")
        #expect(hostile.description.isPrintableLine)
        let long = decode(.ecs, 400, "{\"__type\":\"\(String(repeating: "X", count: 5000))\"}")
        #expect(long.code.count == 103 && long.code.hasSuffix("..."))
    }
}
