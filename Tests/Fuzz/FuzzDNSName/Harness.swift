import FuzzSupport
import ReconcileCore

/// DNS name canonicalisation: idempotent, always ends in a dot, only plain bytes and escapes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let c = DNSName.canonical(text)
    precondition(DNSName.canonical(c) == c, "canonical is not idempotent for \(Array(text.utf8))")
    precondition(c.hasSuffix("."), "no trailing dot")
    _ = DNSName.problem(with: c)
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzDNSName_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
