import FuzzSupport
import KMeshSupport
import Kuma

/// Kuma token claims read from an unverified JWT.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? KumaTokenClaims.decode(Secret(text))
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzJWT_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
