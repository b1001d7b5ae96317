import Crypto
import Foundation

/// The 32-byte Ed25519 seed receipts are signed with (AITBC's `receipt_signing_key_hex`).
///
/// It never prints: its description is redacted, so a settings dump or a log line cannot show it.
public struct ReceiptSigningSeed: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The seed's bytes.
    public let bytes: [UInt8]

    /// The seed in `hex` (64 hex digits), or nil when it is not one.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// The seed of `key`.
    public init(_ key: Curve25519.Signing.PrivateKey) {
        bytes = Array(key.rawRepresentation)
    }

    /// A new random seed (the operating system's randomness, through swift-crypto).
    public static func generate() -> ReceiptSigningSeed {
        ReceiptSigningSeed(Curve25519.Signing.PrivateKey())
    }

    /// The seed as 64 lowercase hex digits: for storage only.
    public var hex: String {
        Hex.lowercase(bytes)
    }

    public var description: String { "ReceiptSigningSeed(redacted)" }
    public var debugDescription: String { description }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
