import Foundation
import HTTPTransport

/// The fake Lambda Runtime API (scripts/peers/lambda_runtime_standin.py).
public struct RuntimeStandin: Sendable {
    public let process: PeerProcess
    /// `host:port`, as AWS_LAMBDA_RUNTIME_API carries it.
    public var endpoint: String { "127.0.0.1:\(process.port)" }

    public static func start() async throws -> RuntimeStandin {
        RuntimeStandin(process: try await PeerProcess.start("lambda_runtime_standin.py"))
    }

    static let http = CurlHTTPClient(configuration: .init(tls: TLSConfiguration(caBundlePath: nil)))

    func call(_ method: String, _ path: String, _ body: Any? = nil, timeout: Duration = .seconds(30)) async throws -> (Int, Any) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed]) } ?? Data()
        let r = try await Self.http.send(
            HTTPRequest(
                method: method, url: "http://\(endpoint)\(path)", headers: ["Content-Type": "application/json"],
                body: data, timeout: timeout))
        return (r.status, try JSONSerialization.jsonObject(with: r.body, options: [.fragmentsAllowed]))
    }

    /// Queues an event (a JSON value, or a raw string body); returns its request id.
    public func enqueue(_ body: Any, deadlineMs: Int = 60_000) async throws -> String {
        let (_, r) = try await call("POST", "/__fake/events", ["body": body, "deadline_ms": deadlineMs])
        return (r as! [String: Any])["request_id"] as! String
    }

    /// The invocation's recorded result: kind (response/error), error_type, body.
    public func result(_ requestId: String, wait: Double = 30) async throws -> [String: Any]? {
        let (status, r) = try await call("GET", "/__fake/result/\(requestId)?wait=\(wait)", timeout: .seconds(Int64(wait) + 5))
        return status == 200 ? r as? [String: Any] : nil
    }

    public func results() async throws -> [[String: Any]] { try await call("GET", "/__fake/results").1 as? [[String: Any]] ?? [] }
    public func nextTimes() async throws -> [Double] { try await call("GET", "/__fake/next-times").1 as? [Double] ?? [] }
}
