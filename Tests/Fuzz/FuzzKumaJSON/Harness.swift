import FoundationEssentials
import FuzzSupport
import HTTPTransport
import KMeshSupport

@testable import Kuma

/// Kuma's error bodies (JSON, plain text, empty) and list pages, as the client reads them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let body = Data(UnsafeBufferPointer(start: data, count: size))
    let e = KumaAPIError.from(
        method: "GET", path: "/meshes", response: HTTPResponse(status: 400 + size % 200, headers: HTTPHeaders(), body: body))
    precondition(e.description.isPrintableLine, "an error is one printable line")
    do {
        for r in try LiveKuma.Page(body).items {
            _ = r.hostnames
            _ = r.vips
        }
    } catch {
        precondition(error.description.isPrintableLine, "an error is one printable line")
    }
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzKumaJSON_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
