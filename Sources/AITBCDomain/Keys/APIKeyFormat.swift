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

    /// Classifies `key` without touching storage.
    public static func shape(of key: String) -> Shape {
        let utf8 = key.utf8
        guard utf8.starts(with: prefix.utf8) else { return .foreign }
        for role in Role.allCases {
            let rolePrefix = prefix + role.rawValue + "_"
            guard utf8.starts(with: rolePrefix.utf8) else { continue }
            guard utf8.count == rolePrefix.utf8.count + randomLength + checksumLength else { return .corrupt }
            let tail = utf8.dropFirst(rolePrefix.utf8.count)
            guard tail.allSatisfy(Base62.isDigit) else { return .corrupt }
            let bodyEnd = utf8.index(utf8.endIndex, offsetBy: -checksumLength)
            let body = utf8[utf8.startIndex..<bodyEnd]
            let expected = Base62.encode(UInt64(CRC32.checksum(body)), width: checksumLength)
            return utf8[bodyEnd...].elementsEqual(expected.utf8) ? .wellFormed(role) : .corrupt
        }
        return .corrupt
    }

    /// The display hint: the prefix up to the random part, an ellipsis, and the last four characters.
    public static func hint(for key: String) -> String {
        let last4 = String(key.suffix(4))
        if case .wellFormed(let role) = shape(of: key) {
            return prefix + role.rawValue + "_…" + last4
        }
        // Development keys may be short: show at most a quarter of them.
        let visible = max(0, min(4, key.count / 4))
        return String(key.prefix(visible)) + "…" + String(key.suffix(visible))
    }
}
