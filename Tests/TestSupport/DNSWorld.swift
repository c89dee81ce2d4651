import AWS
import Foundation
import KMeshSupport
import Kuma

/// One isolated world for an end-to-end test of reconcile-dns: moto's Route 53 (global, so each
/// test makes its own zones) behind its own fault proxy, and its own Kuma stand-in.
public struct DNSWorld: Sendable {
    public let moto: MotoPeer
    public let proxy: FaultProxy
    public let kuma: KumaPeer
    public let seed: AWSSeeder
    public let route53: LiveRoute53

    public static func make(meshes: [String] = ["default"]) async throws -> DNSWorld {
        let moto = try await MotoPeer.get()
        async let proxy = FaultProxy.start(upstream: moto.baseURL)
        async let kuma = KumaPeer.start(meshes: meshes)
        let client = TestAWS.client(endpoint: moto.baseURL, credentials: moto.admin, region: "us-east-1")
        return DNSWorld(
            moto: moto, proxy: try await proxy, kuma: try await kuma, seed: AWSSeeder(client: client),
            route53: LiveRoute53(client: client))
    }

    public func stop() {
        proxy.process.stop()
        kuma.process.stop()
    }

    public func environment(zones: [String], extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "AWS_ACCESS_KEY_ID": moto.admin.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.admin.secretAccessKey.value,
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": proxy.baseURL, "AWS_EC2_METADATA_DISABLED": "true",
            "KUMA_API_SERVER_URL": kuma.baseURL, "KUMA_API_TOKEN": kuma.adminToken.value, "LOG_LEVEL": "info",
            "KMESH_RUNTIME_AWS_ROUTE53_HOSTED_ZONE_ID": zones.joined(separator: ","),
            "KMESH_ROUTE53_RPS": "50",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    public func reconcile(zones: [String], _ arguments: [String] = [], extra: [String: String] = [:]) async throws -> BinaryRun {
        try await Binaries.run("reconcile-dns", ["--output", "json"] + arguments, environment: environment(zones: zones, extra: extra))
    }

    /// A mesh item with addresses and a VIP, as the control plane lists it.
    public static func item(
        _ name: String, type: String = "MeshService", mesh: String = "default", vip: String?, hostnames: [String],
        generator: String? = nil, kumaZone: String? = nil
    ) -> [String: Any] {
        var labels: [String: String] = ["kuma.io/display-name": name, "kuma.io/origin": "zone"]
        if let kumaZone { labels["kuma.io/zone"] = kumaZone }
        let addresses: [[String: Any]] = hostnames.map { h in
            var a: [String: Any] = ["hostname": h, "origin": "HostnameGenerator"]
            if let generator { a["hostnameGeneratorRef"] = ["coreName": generator] }
            return a
        }
        return [
            "type": type, "mesh": mesh, "name": name, "labels": labels, "spec": [:] as [String: Any],
            "status": ["addresses": addresses, "vips": vip.map { [["ip": $0]] } ?? []] as [String: Any],
        ]
    }

    /// A HostnameGenerator with a Route53 extension.
    public static func generator(_ name: String, zone: String? = nil, perKumaZone: [String: String] = [:]) -> [String: Any] {
        var config: [String: Any] = [:]
        if let zone { config["hostedZoneId"] = zone }
        if !perKumaZone.isEmpty { config["hostedZones"] = perKumaZone.map { ["name": $0.key, "hostedZoneId": $0.value] } }
        return [
            "type": "HostnameGenerator", "name": name, "labels": [:] as [String: String],
            "spec": [
                "selector": ["meshService": ["matchLabels": ["kuma.io/origin": "zone"]]], "template": "{{ .DisplayName }}.svc.mesh.local",
                "extension": ["type": "Route53", "config": config],
            ] as [String: Any],
        ]
    }

    /// The zone's record sets, straight from moto.
    public func records(_ zone: String) async throws -> [ResourceRecordSet] {
        try await route53.listResourceRecordSets(zoneId: zone, pageSize: 300)
    }

    /// The A value for `name` (compared case-insensitively, with or without the trailing dot).
    public func a(_ zone: String, _ name: String) async throws -> String? {
        let want = name.lowercased().hasSuffix(".") ? name.lowercased() : name.lowercased() + "."
        return try await records(zone).first { $0.type == "A" && ($0.name.lowercased() == want) }?.values.first
    }
}
