import FoundationEssentials
import FuzzSupport
import KMeshSupport
import LambdaRuntime

/// What every Lambda handler does with an event before it looks at it: the size limit, the JSON
/// object check, full-pass events, the unsupported-event description.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    if case .success(let event) = LambdaEvent.object(Data(UnsafeBufferPointer(start: data, count: size))) {
        _ = LambdaEvent.isFullPass(event)
        let description = LambdaEvent.describe(event)
        precondition(description.isPrintableLine && description.count < 300, "the description is one short printable line")
        _ = event["detail"]?["taskArn"]?.stringValue
    }
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzEvents_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
