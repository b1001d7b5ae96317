import Crypto

/// The SHA-256 digest of a key: the only form of a secret that is ever stored or cached.
public struct APIKeyDigest: Hashable, Sendable {
    // Four words instead of an array: hashing and comparing stay allocation-free on the hot path.
    public let word0: UInt64
    public let word1: UInt64
    public let word2: UInt64
    public let word3: UInt64

    /// The digest of the secret `key`.
    public init(of key: String) {
        var key = key
        let digest = key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        self = digest.withUnsafeBytes { raw in
            APIKeyDigest(
                word0: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                word1: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                word2: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                word3: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
    }

    private init(word0: UInt64, word1: UInt64, word2: UInt64, word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// A digest read back from 32 stored bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        for byte in bytes {
            switch index / 8 {
            case 0: words.0 = (words.0 << 8) | UInt64(byte)
            case 1: words.1 = (words.1 << 8) | UInt64(byte)
            case 2: words.2 = (words.2 << 8) | UInt64(byte)
            default: words.3 = (words.3 << 8) | UInt64(byte)
            }
            index += 1
        }
        self.word0 = words.0
        self.word1 = words.1
        self.word2 = words.2
        self.word3 = words.3
    }

    /// The 32 bytes, big-endian, for storage.
    public var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(32)
        for word in [word0, word1, word2, word3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                result.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return result
    }

    /// A digest read back from ``hex``.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes: bytes)
    }

    /// Lowercase hex, for PostgreSQL and debugging (never the secret itself).
    public var hex: String { Hex.lowercase(bytes) }

    /// Compares two digests in time independent of where they differ.
    @inlinable
    public func constantTimeEquals(_ other: APIKeyDigest) -> Bool {
        ((word0 ^ other.word0) | (word1 ^ other.word1) | (word2 ^ other.word2) | (word3 ^ other.word3)) == 0
    }
}
