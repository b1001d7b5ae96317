import Foundation
import Testing

@testable import AITBCDomain

@Suite struct HexTests {
    @Test func everyByteIsTwoLowercaseDigits() {
        #expect(Hex.lowercase([UInt8]()) == "")
        #expect(Hex.lowercase([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.lowercase(all) == all.map { String(format: "%02x", $0) }.joined())
        // What stored digests were written as before: the same text.
        let digest = APIKeyDigest(of: "aitbc_client_example")
        #expect(digest.hex == digest.bytes.map { String(format: "%02x", $0) }.joined())
        #expect(APIKeyDigest(hex: digest.hex) == digest)
    }
}
