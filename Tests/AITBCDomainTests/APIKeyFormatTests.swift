import Foundation
import AITBCDomain
import Testing

/// Generated keys: prefix, role, randomness, checksum, hint.
@Suite struct APIKeyFormatTests {
    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func generatedKeysHaveTheContractShape() {
        for role in Role.allCases {
            let key = APIKeyFormat.generate(role: role, using: SystemSecretSource())
            #expect(key.hasPrefix("aitbc_\(role.rawValue)_"))
            let tail = key.dropFirst("aitbc_\(role.rawValue)_".count)
            #expect(tail.count == 34)
            #expect(tail.utf8.allSatisfy(Base62.isDigit))
            #expect(APIKeyFormat.shape(of: key) == .wellFormed(role))
            // The checksum is the CRC32 of everything before it.
            let body = String(key.dropLast(6))
            #expect(String(key.suffix(6)) == Base62.encode(UInt64(CRC32.checksum(Array(body.utf8))), width: 6))
        }
    }

    @Test func randomPartCarriesAtLeast160Bits() {
        // 28 base62 characters: 28 × log2(62) ≈ 166.7 bits.
        #expect(Double(APIKeyFormat.randomLength) * log2(62.0) >= 160)
        let keys = Set((0..<1000).map { _ in APIKeyFormat.generate(role: .client, using: SystemSecretSource()) })
        #expect(keys.count == 1000)
    }

    @Test func anySingleCharacterChangeBreaksTheChecksum() {
        let key = APIKeyFormat.generate(role: .miner, using: SystemSecretSource())
        var characters = Array(key)
        let start = "aitbc_miner_".count
        for index in start..<characters.count {
            let original = characters[index]
            characters[index] = original == "x" ? "y" : "x"
            #expect(APIKeyFormat.shape(of: String(characters)) == .corrupt, "position \(index)")
            characters[index] = original
        }
    }

    @Test func shapesOfOtherStrings() {
        #expect(APIKeyFormat.shape(of: "test-client-key") == .foreign)
        #expect(APIKeyFormat.shape(of: "aitbc_client_short") == .corrupt)
        #expect(APIKeyFormat.shape(of: "aitbc_wizard_" + String(repeating: "a", count: 34)) == .corrupt)
        #expect(APIKeyFormat.shape(of: "aitbc_client_" + String(repeating: "-", count: 34)) == .corrupt)
    }

    @Test func hintShowsPrefixAndLastFour() {
        let key = APIKeyFormat.generate(role: .client, using: SystemSecretSource())
        #expect(APIKeyFormat.hint(for: key) == "aitbc_client_…" + key.suffix(4))
        #expect(APIKeyFormat.hint(for: "abcdefghijklmnop") == "…mnop")
        #expect(APIKeyFormat.hint(for: "dev-master-key-0001") == "…0001")
        #expect(APIKeyFormat.hint(for: "short") == "…t")
        #expect(!APIKeyFormat.hint(for: "short").contains("hor"))
    }

    @Test func digestIsSHA256AndRoundTripsThroughBytes() {
        let digest = APIKeyDigest(of: "abc")
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKeyDigest(bytes: digest.bytes) == digest)
        #expect(digest.constantTimeEquals(APIKeyDigest(of: "abc")))
        #expect(!digest.constantTimeEquals(APIKeyDigest(of: "abd")))
    }

    @Test func listCursorRoundTripsAndRejectsJunk() {
        let cursor = ListCursor(createdAtMilliseconds: 1_795_000_000_123, id: "key_abc")
        #expect(ListCursor(token: cursor.token) == cursor)
        #expect(ListCursor(token: "%%%") == nil)
        #expect(ListCursor(token: "bm90LWEtY3Vyc29y") == nil)
    }
}
