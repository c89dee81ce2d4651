import FuzzSupport
import KMeshSupport

@testable import SigV4

/// SigV4's canonical URI and query, and the percent-encoder under them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let encoded = URIEncoding.encode(text)
    precondition(encoded.utf8.allSatisfy { URIEncoding.isUnreserved($0) || $0 == 37 }, "an unencoded byte")
    precondition(URIEncoding.decode(encoded) == text, "encode and decode do not round-trip")
    _ = SigV4Signer.canonicalQuery(text)
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzSigV4_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
