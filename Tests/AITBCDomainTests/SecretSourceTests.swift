import Testing

@testable import AITBCDomain

/// The system's randomness as base62: the length asked for, every character equally likely.
@Suite struct SecretSourceTests {
    @Test func base62HasTheLengthAskedForAndUsesEveryCharacterEqually() {
        let source = SystemSecretSource()
        for count in [0, 1, 7, 8, 9, 20, 43] {
            #expect(source.base62(count: count).utf8.count == count)
        }
        var seen: [UInt8: Int] = [:]
        var ids = Set<String>()
        for _ in 0..<4_000 {
            let id = source.base62(count: 31)
            ids.insert(id)
            for byte in id.utf8 { seen[byte, default: 0] += 1 }
        }
        #expect(ids.count == 4_000)
        #expect(Set(seen.keys) == Set(Base62.alphabet))
        // 124,000 characters, 2,000 of each expected: a character off by 15% is ~6.7 standard deviations out.
        for (byte, count) in seen {
            #expect((1_700...2_300).contains(count), "\(UnicodeScalar(byte)) appeared \(count) times")
        }
    }
}
