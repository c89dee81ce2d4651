import FuzzSupport
import KMeshSupport

/// Go durations: whatever parses prints back to the same number of seconds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let d = GoDuration(text) {
        precondition(GoDuration(d.description)?.seconds == d.seconds, "\(d.description) does not read back")
    }
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzDuration_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
