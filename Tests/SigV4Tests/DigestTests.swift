import Hashing
import Testing

/// SHA-256 (FIPS 180-4 examples) and HMAC-SHA256 (RFC 4231), the primitives under every signature.
struct DigestTests {
    @Test func sha256MatchesThePublishedExamples() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(Digest.sha256([UInt8]())) == Digest.emptyPayloadHash)
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(Digest.hex(Digest.sha256(long.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // A non-contiguous collection goes through the same digest.
        #expect(Digest.sha256(long.utf8.reversed().reversed()) == Digest.sha256(Array(long.utf8)))
    }

    @Test(arguments: [
        // RFC 4231 test cases 1, 2, 6 and 7: a short key, a text key, and keys longer than a block.
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (
            Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131),
            Array(
                "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                    .utf8),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func hmacMatchesRFC4231(_ key: [UInt8], _ message: [UInt8], _ expected: String) {
        #expect(Digest.hex(Digest.hmacSHA256(key: key, message)) == expected)
    }

    @Test func aKeyOfExactlyOneBlockIsUsedAsItIs() {
        // 64 bytes: padded with nothing, not hashed (a key one byte longer is hashed first).
        let block = [UInt8](repeating: 0x61, count: 64)
        #expect(Digest.hmacSHA256(key: block, [1, 2, 3]) != Digest.hmacSHA256(key: Digest.sha256(block), [1, 2, 3]))
        let longer = [UInt8](repeating: 0x61, count: 65)
        #expect(Digest.hmacSHA256(key: longer, [1, 2, 3]) == Digest.hmacSHA256(key: Digest.sha256(longer), [1, 2, 3]))
    }
}
