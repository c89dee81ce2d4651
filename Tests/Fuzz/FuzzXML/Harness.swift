import AWS
import FoundationEssentials
import FuzzSupport

/// The XML parser that reads Route 53, STS and EC2 metadata answers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    if let root = try? XMLParser.parse(Data(UnsafeBufferPointer(start: data, count: size))) {
        _ = root.find("Error")?.value("Code")
        _ = root.child("ResourceRecordSets")?.children("ResourceRecordSet").map { $0.value("Name") }
    }
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzXML_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
