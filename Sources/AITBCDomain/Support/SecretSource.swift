/// Randomness for secrets and ids; injected so tests can make it predictable.
public protocol SecretSource: Sendable {
    /// `count` random base62 characters.
    func base62(count: Int) -> String
}

/// Cryptographically secure randomness from the operating system.
public struct SystemSecretSource: SecretSource {
    public init() {}

    /// Every byte of each 64-bit word the system gives is used: one `getrandom` per eight bytes,
    /// not per byte (a job id and a receipt id each cost a few system calls, not sixty).
    public func base62(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var characters = [UInt8]()
        characters.reserveCapacity(count)
        var word: UInt64 = 0
        var bytesLeft = 0
        while characters.count < count {
            if bytesLeft == 0 {
                word = generator.next()
                bytesLeft = 8
            }
            let byte = UInt8(truncatingIfNeeded: word)
            word >>= 8
            bytesLeft -= 1
            // Rejection sampling: 248 = 4 × 62 keeps every character equally likely.
            if byte < 248 { characters.append(Base62.alphabet[Int(byte % 62)]) }
        }
        return String(decoding: characters, as: UTF8.self)
    }
}

/// The base62 alphabet and fixed-width encoding used by keys and ids.
public enum Base62 {
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `value` as exactly `width` base62 digits, most significant first.
    public static func encode(_ value: UInt64, width: Int) -> String {
        var digits = [UInt8](repeating: alphabet[0], count: width)
        var rest = value
        for index in stride(from: width - 1, through: 0, by: -1) {
            digits[index] = alphabet[Int(rest % 62)]
            rest /= 62
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Whether `byte` is one of the 62 characters.
    @inlinable
    public static func isDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
}
