import FoundationEssentials
import FuzzSupport
import HTTPTransport
import KMeshSupport

@testable import AWS

/// Error answers in every shape AWS and moto use (awsJson, REST-XML, query), read into one line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let body = Data(UnsafeBufferPointer(start: data, count: size))
    for (service, status) in [(AWSService.ecs, 400), (.route53, 404), (.sts, 403), (.secretsManager, 500)] {
        let call = AWSClient.Call(service: service, operation: "Op")
        let e = AWSClient.decodeError(call, HTTPResponse(status: status, headers: HTTPHeaders(), body: body))
        precondition(e.description.isPrintableLine, "an error is one printable line")
    }
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzAWSError_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
