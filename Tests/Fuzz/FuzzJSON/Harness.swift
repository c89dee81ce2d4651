import FoundationEssentials
import FuzzSupport

@testable import KMeshSupport

/// `JSONValue.parse`, the reader of secret values, JWT payloads, events and error bodies, checked
/// against JSONDecoder: whatever JSONDecoder reads, the parser reads as the same value, so the fast
/// path changes no answer, but for what JSONDecoder takes beyond RFC 8259 (see `jsonDecoderLeniency`).
/// The other way round does not hold either: JSONDecoder refuses some valid JSON, such as `-0.0e1`;
/// there a value the parser reads must survive a round trip through the encoder. JSONDecoder is
/// reached through `JSON.decode`, as everywhere in the package, whose guard keeps it from trapping on
/// 513 `[` (the crash this harness found in FoundationEssentials; seed `regression-513-open-arrays`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parsed = try? JSONValue.parse(bytes)
    if let decoded = try? JSON.decode(JSONValue.self, from: Data(bytes)) {
        do {
            let strict = try JSONValue.parse(bytes, refusingRepeatedKeys: true)
            precondition(strict == decoded && parsed == strict, "the parser reads differently what JSONDecoder reads")
        } catch {
            precondition(jsonDecoderLeniency(bytes, error), "the parser refuses what JSONDecoder reads: \(error)")
        }
    }
    if let parsed, let again = try? JSON.encode(parsed) {
        precondition((try? JSONValue.parse(again)) == parsed, "the round trip through the encoder changed the value")
    }
    return 0
}

/// What JSONDecoder takes and the parser (like Go's encoding/json, which reads the same secrets in
/// the ECS agent) refuses, found by this harness:
/// - a repeated key (JSONDecoder keeps the first value and does not even check the later ones;
///   the parser keeps the last, as Go does);
/// - a trailing comma, `[1,]`;
/// - NUL bytes: JSONDecoder reads UTF-16 and UTF-32 (told by where the NULs are), and stops at a
///   NUL after the value; every document here is UTF-8 (RFC 8259 requires it on a network);
/// - a UTF-8 byte order mark before the value.
func jsonDecoderLeniency(_ bytes: [UInt8], _ error: JSONParseError) -> Bool {
    if error.reason == "a repeated key" || bytes.contains(0) || bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return true }
    let at = error.offset
    guard at < bytes.count, bytes[at] == UInt8(ascii: "]") || bytes[at] == UInt8(ascii: "}") else { return false }
    return bytes[..<at].last { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: ",")
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzJSON_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
