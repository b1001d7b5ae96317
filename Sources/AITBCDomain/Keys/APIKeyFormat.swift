/// The shape of generated keys: `aitbc_<role>_<28 random base62><6 base62 CRC32 checksum>`.
///
/// 28 base62 characters carry 166 bits of randomness. The fixed prefix lets secret scanners
/// find leaked keys, and the checksum lets the server refuse typos and forgeries without
/// a storage lookup.
public enum APIKeyFormat {
    public static let prefix = "aitbc_"
    public static let randomLength = 28
    public static let checksumLength = 6
    /// Longest credential the server will look at; anything longer is refused unread.
    public static let maximumLength = 256

    /// A new secret for a key of `role`.
    public static func generate(role: Role, using source: some SecretSource) -> String {
        let body = prefix + role.rawValue + "_" + source.base62(count: randomLength)
        return body + checksum(of: body)
    }

    /// The six-character checksum of `body`.
    public static func checksum(of body: String) -> String {
        Base62.encode(UInt64(CRC32.checksum(body.utf8)), width: checksumLength)
    }

    /// What a presented credential looks like before any lookup.
    public enum Shape: Equatable, Sendable {
        /// A generated key whose checksum holds, for `role`.
        case wellFormed(Role)
        /// Starts with `aitbc_` but is not a valid generated key.
        case corrupt
        /// Some other string (a development key may look like anything).
        case foreign
    }

    // The byte prefixes of each role, computed once: the hot path must not build strings.
    private static let rolePrefixes: [(role: Role, bytes: [UInt8])] = Role.allCases.map {
        ($0, Array((prefix + $0.rawValue + "_").utf8))
    }

    /// Classifies `key` without touching storage (and without allocating).
    public static func shape(of key: String) -> Shape {
        var key = key
        return key.withUTF8 { shape(ofBytes: $0) }
    }

    static func shape(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Shape {
        // "aitbc_"
        guard bytes.count >= 6, bytes[0] == 0x61, bytes[1] == 0x69, bytes[2] == 0x74, bytes[3] == 0x62,
            bytes[4] == 0x63, bytes[5] == 0x5F
        else { return .foreign }
        for (role, rolePrefix) in rolePrefixes {
            guard bytes.count >= rolePrefix.count, bytes.starts(with: rolePrefix) else { continue }
            guard bytes.count == rolePrefix.count + randomLength + checksumLength else { return .corrupt }
            for index in rolePrefix.count..<bytes.count where !Base62.isDigit(bytes[index]) { return .corrupt }
            let bodyEnd = bytes.count - checksumLength
            var value = UInt64(CRC32.checksum(UnsafeBufferPointer(rebasing: bytes[0..<bodyEnd])))
            for index in stride(from: bytes.count - 1, through: bodyEnd, by: -1) {
                guard bytes[index] == Base62.alphabet[Int(value % 62)] else { return .corrupt }
                value /= 62
            }
            return .wellFormed(role)
        }
        return .corrupt
    }

    /// The display hint: the prefix up to the random part, an ellipsis, and the last four characters.
    public static func hint(for key: String) -> String {
        let last4 = String(key.suffix(4))
        if case .wellFormed(let role) = shape(of: key) {
            return prefix + role.rawValue + "_…" + last4
        }
        // Development keys may be short and chosen by people: show no more than their last four
        // characters, and no more than a quarter of them.
        let visible = max(0, min(4, key.count / 4))
        return "…" + String(key.suffix(visible))
    }
}
