import Foundation
import TestSupport
import Testing

/// reconcile-dns as a Lambda custom runtime: scheduled events and `{}` are full passes through the
/// shell's entry; anything else is unsupported; the loop survives bad events.
struct ReconcileDNSLambdaTests {
    @Test func scheduledEventsArePassesAndOtherEventsAreUnsupported() async throws {
        let w = try await DNSWorld.make()
        defer { w.stop() }
        let runtime = try await RuntimeStandin.start()
        defer { runtime.process.stop() }
        let zone = try await w.seed.createHostedZone("e2e-lambda.mesh.local")
        try await w.kuma.addResources([DNSWorld.item("redis", vip: "127.4.0.1", hostnames: ["redis.e2e-lambda.mesh.local"])])
        let function = try BackgroundBinary(
            "reconcile-dns", environment: w.environment(zones: [zone], extra: ["AWS_LAMBDA_RUNTIME_API": runtime.endpoint]))
        defer { function.stop() }

        let scheduled: [String: Any] = [
            "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events", "detail": [:],
        ]
        let first = try #require(try await runtime.result(try await runtime.enqueue(scheduled)), "no answer: \(function.stop().output)")
        #expect(first["kind"] as? String == "response")
        #expect(((first["body"] as? [String: Any])?["totals"] as? [String: Int])?["created"] == 1)
        #expect(try await w.a(zone, "redis.e2e-lambda.mesh.local") == "127.4.0.1")

        let empty = try #require(try await runtime.result(try await runtime.enqueue([String: Any]())))
        #expect(((empty["body"] as? [String: Any])?["totals"] as? [String: Int])?["unchanged"] == 1)

        let ecs: [String: Any] = ["detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": [:]]
        let unsupported = try #require(try await runtime.result(try await runtime.enqueue(ecs)))
        #expect(unsupported["error_type"] as? String == "Function.UnsupportedEvent")
        #expect(
            ((unsupported["body"] as? [String: Any])?["errorMessage"] as? String)?.hasSuffix(#"expected "Scheduled Event", or {}"#) == true)

        // A guard refusal is a failed invocation, so the schedule's failures are seen.
        try await w.kuma.replaceResources([])
        let refused = try #require(try await runtime.result(try await runtime.enqueue(scheduled)))
        #expect(refused["error_type"] as? String == "Function.ReconcileFailed")
        #expect(((refused["body"] as? [String: Any])?["errorMessage"] as? String)?.contains("--allow-empty-source") == true)
        #expect(try await w.a(zone, "redis.e2e-lambda.mesh.local") == "127.4.0.1")
    }
}
