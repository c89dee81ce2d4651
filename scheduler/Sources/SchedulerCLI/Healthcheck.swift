import ArgumentParser
import FoundationEssentials
import KMeshSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `kmesh-scheduler healthcheck`: exit 0 when no job is late, else 1 — for a container health check
/// in an image without curl. Asks the running scheduler's /healthz, or reads its status file.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 when the running scheduler has no late job (from /healthz or the status file), else 1.")

    @Option(help: ArgumentHelp("The scheduler's HOST:PORT (env KMESH_SCHEDULER_LISTEN).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("The scheduler's status file, when it serves no port (env KMESH_SCHEDULER_STATUS_FILE).", valueName: "path"))
    var statusFile: String?

    @Option(
        help: ArgumentHelp(
            "Late after this many intervals without a success (env KMESH_SCHEDULER_UNHEALTHY_AFTER; default 2.0).", valueName: "factor"))
    var unhealthyAfter: String?

    func run() throws {
        let out = LogSink(fileDescriptor: 1)
        if let address = listen ?? env("KMESH_SCHEDULER_LISTEN") {
            let (status, body) = try get(address, "/healthz")
            out.write(line: body.trimmingASCIIWhitespace())
            if status != 200 { throw ExitCode(1) }
            return
        }
        guard let path = statusFile ?? env("KMESH_SCHEDULER_STATUS_FILE") else {
            throw fail(Exit.usage, "healthcheck needs --listen or --status-file (or KMESH_SCHEDULER_LISTEN / KMESH_SCHEDULER_STATUS_FILE)")
        }
        guard let data = FileReader.read(path), let doc = try? JSON.decode(JSONValue.self, from: data) else {
            out.write(line: "unhealthy: cannot read the status file \(path)")
            throw ExitCode(1)
        }
        let factor = Double(unhealthyAfter ?? env("KMESH_SCHEDULER_UNHEALTHY_AFTER") ?? "2.0") ?? 2.0
        let now = Date().timeIntervalSince1970
        let started = doc["startedAt"]?.stringValue.flatMap { UTCTime.parseISO8601($0) }?.timeIntervalSince1970 ?? now
        var late: [String] = []
        if case .array(let jobs)? = doc["jobs"] {
            for job in jobs {
                guard case .number(let interval)? = job["intervalSeconds"] else { continue }
                let since = job["lastSuccess"]?.stringValue.flatMap { UTCTime.parseISO8601($0) }?.timeIntervalSince1970 ?? started
                if now - since > factor * interval { late.append(job["name"]?.stringValue ?? "?") }
            }
        }
        if late.isEmpty {
            out.write(line: "ok: no job is late")
            return
        }
        out.write(line: "late: " + late.joined(separator: ", "))
        throw ExitCode(1)
    }

    /// A plain HTTP/1.1 GET over a loopback socket: (status, body).
    func get(_ address: String, _ path: String) throws -> (Int, String) {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw fail(Exit.usage, "--listen \"\(address)\" is not HOST:PORT") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &addr.sin_addr) == 1 else {
            throw fail(Exit.usage, "--listen \"\(address)\" is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            LogSink(fileDescriptor: 1).write(line: "unhealthy: nothing answers on \(address)")
            throw ExitCode(1)
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while response.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.firstRange(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
