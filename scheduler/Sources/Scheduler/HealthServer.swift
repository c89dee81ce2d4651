#if canImport(Glibc)
    import Glibc
#endif

/// The tiny HTTP server behind `--listen`: GET /healthz and /metrics, one connection at a time on
/// its own thread (a health probe and a Prometheus scrape need nothing more).
public final class HealthServer: Sendable {
    let fd: Int32
    public let port: Int

    public enum BindError: Error, CustomStringConvertible {
        case address(String)
        case system(String, Int32)
        public var description: String {
            switch self {
            case .address(let a): "\"\(a)\" is not HOST:PORT with an IPv4 address (e.g. 127.0.0.1:9090)"
            case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Binds `HOST:PORT` (an IPv4 address; port 0 picks a free one) now, so that a bad address is
    /// a start-up error.
    public static func bind(_ address: String) throws -> HealthServer {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw BindError.address(address) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &addr.sin_addr) == 1 else { throw BindError.address(address) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BindError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw BindError.system("cannot listen on \(address)", e)
        }
        guard listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw BindError.system("listen", e)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return HealthServer(fd: fd, port: Int(UInt16(bigEndian: actual.sin_port)))
    }

    init(fd: Int32, port: Int) {
        self.fd = fd
        self.port = port
    }

    /// Serves forever on a thread of its own: `handler(path)` -> (status, content type, body).
    func serve(_ handler: @escaping @Sendable (String) -> (Int, String, String)) {
        let fd = self.fd
        detachedThread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                var timeout = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var request: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while request.count < 16_384 {
                    let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    request += buffer[0..<n]
                    if request.firstRange(of: [13, 10, 13, 10]) != nil { break }
                }
                let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
                let (status, type, body): (Int, String, String)
                if line.count >= 2, line[0] == "GET" {
                    let path = String(line[1].split(separator: "?", maxSplits: 1).first ?? "")
                    (status, type, body) = handler(path)
                } else {
                    (status, type, body) = (405, "text/plain; charset=utf-8", "only GET\n")
                }
                let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? "Status"
                let bodyBytes = Array(body.utf8)
                let head =
                    "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n"
                let out = Array(head.utf8) + bodyBytes
                var offset = 0
                while offset < out.count {
                    let n = out[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    offset += n
                }
                close(client)
            }
        }
    }
}
