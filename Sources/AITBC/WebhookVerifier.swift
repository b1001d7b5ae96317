import Crypto
import Foundation

/// Checks a webhook the coordinator sent: its `AITBC-Signature` header
/// (`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=…]`) against the endpoint's
/// secret, over the raw body exactly as received, and the timestamp within `tolerance` of now (so a
/// captured request cannot be replayed later). Any one `v1` may match: during a secret rotation the
/// coordinator signs with both the new and the old secret.
public enum WebhookVerifier {
    /// Why a webhook does not verify.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No `t=` or no `v1=` in the header.
        case malformedHeader
        /// The timestamp is further than the tolerance from now.
        case timestampOutsideTolerance
        /// No `v1` signature matches the body under this secret.
        case noMatchingSignature

        public var description: String {
            switch self {
            case .malformedHeader: "the AITBC-Signature header has no t= or no v1="
            case .timestampOutsideTolerance: "the webhook's timestamp is outside the tolerance"
            case .noMatchingSignature: "no v1 signature matches the payload under this secret"
            }
        }
    }

    /// Throws a ``Failure`` unless `header` signs `payload` with `secret` at a time within `tolerance` of `now`.
    public static func verify(
        payload: some DataProtocol, header: String, secret: String, tolerance: TimeInterval = 300, now: Date = Date()
    ) throws {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1].lowercased()) }
        }
        guard let timestamp, !signatures.isEmpty else { throw Failure.malformedHeader }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else {
            throw Failure.timestampOutsideTolerance
        }
        var signed = Data("\(timestamp).".utf8)
        signed.append(contentsOf: payload)
        let expected = Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))))
        var matched = false
        for signature in signatures {
            // Every candidate is compared in full, in constant time, whichever matched.
            if let bytes = hexBytes(signature), constantTimeEqual(bytes, expected) { matched = true }
        }
        guard matched else { throw Failure.noMatchingSignature }
    }

    /// `verify` over a body given as text (its UTF-8 bytes).
    public static func verify(
        payload: String, header: String, secret: String, tolerance: TimeInterval = 300, now: Date = Date()
    ) throws {
        try verify(payload: Data(payload.utf8), header: header, secret: secret, tolerance: tolerance, now: now)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
