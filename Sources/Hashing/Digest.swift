import COpenSSL

/// SHA-256 and HMAC-SHA256 over libcrypto.
///
/// OpenSSL 3's one-shot `SHA256()` and `HMAC()` look the algorithm up by name on every call (a
/// provider fetch with its locks and property query), which costs more than hashing the few hundred
/// bytes a signature covers. The digest is fetched once for the process, and HMAC (RFC 2104) is
/// built on it: two hashes over the padded key and the message.
public enum Digest {
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let digest = bytes.withContiguousStorageIfAvailable({ sha256(UnsafeRawBufferPointer($0)) }) { return digest }
        return Array(bytes).withUnsafeBytes { sha256($0) }
    }

    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            let context = DigestContext()
            context.update(bytes)
            context.final(into: out.baseAddress!)
            count = 32
        }
    }

    public static func hmacSHA256(key: [UInt8], _ message: some Collection<UInt8>) -> [UInt8] {
        if let mac = message.withContiguousStorageIfAvailable({ hmacSHA256(key: key, UnsafeRawBufferPointer($0)) }) { return mac }
        return Array(message).withUnsafeBytes { hmacSHA256(key: key, $0) }
    }

    public static func hmacSHA256(key: [UInt8], _ message: UnsafeRawBufferPointer) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? sha256(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let context = DigestContext()
        var inner = [UInt8](repeating: 0, count: 32)
        block.withUnsafeMutableBytes { padded in
            for i in 0..<blockSize { padded[i] ^= 0x36 }
            context.update(UnsafeRawBufferPointer(padded))
            context.update(message)
            inner.withUnsafeMutableBufferPointer { context.final(into: $0.baseAddress!) }
            for i in 0..<blockSize { padded[i] ^= 0x36 ^ 0x5c }
            context.restart()
            context.update(UnsafeRawBufferPointer(padded))
        }
        return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            inner.withUnsafeBytes { context.update($0) }
            context.final(into: out.baseAddress!)
            count = 32
        }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, b) in bytes.enumerated() {
                out[2 * i] = digits.utf8Start[Int(b >> 4)]
                out[2 * i + 1] = digits.utf8Start[Int(b & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    /// Hex SHA-256 of the empty string: the payload hash of every request without a body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

/// SHA-256, fetched from the default provider once for the process (the pointer is immutable and
/// shared by every thread; libcrypto keeps a fetched algorithm alive while referenced).
private nonisolated(unsafe) let sha256Algorithm: OpaquePointer = {
    guard let md = EVP_MD_fetch(nil, "SHA2-256", nil) else { fatalError("libcrypto has no SHA2-256") }
    return md
}()

/// One `EVP_MD_CTX` for SHA-256, freed with the value.
private final class DigestContext {
    let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()!
        restart()
    }

    deinit { EVP_MD_CTX_free(context) }

    func restart() {
        precondition(EVP_DigestInit_ex(context, sha256Algorithm, nil) == 1, "EVP_DigestInit_ex failed")
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    func final(into out: UnsafeMutablePointer<UInt8>) {
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, out, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
    }
}
