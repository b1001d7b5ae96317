import AITBCWire
import Crypto
import Foundation

/// Checks signed receipts as AITBC's `aitbc_crypto.signing.ReceiptVerifier` does: Ed25519 over the
/// canonical JSON (``CanonicalJSON``) of the receipt without its `signature` (and `attestations`),
/// with a key the coordinator lists (`GET /v1/receipts/keys`), never one the receipt names alone.
public struct ReceiptVerifier: Sendable {
    private let keys: [String: Curve25519.Signing.PublicKey]

    /// A verifier trusting `keys` (as `client.receiptKeys()` lists them).
    public init(keys: [ReceiptKeyView]) {
        var trusted: [String: Curve25519.Signing.PublicKey] = [:]
        for key in keys where key.alg == "Ed25519" {
            if let bytes = Base64URL.decode(key.publicKey), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) {
                trusted[key.keyID] = publicKey
            }
        }
        self.keys = trusted
    }

    /// Why a receipt does not verify.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No `signature {alg, key_id, sig}`, or not Ed25519.
        case malformedSignature
        /// Signed with a key the coordinator does not list.
        case unknownKey(String)
        /// The signature does not match the receipt: it was changed, or signed by another key.
        case badSignature

        public var description: String {
            switch self {
            case .malformedSignature: "the receipt has no Ed25519 signature {alg, key_id, sig}"
            case .unknownKey(let id): "the receipt is signed with key \(id), which the coordinator does not list"
            case .badSignature: "the signature does not match the receipt"
            }
        }
    }

    /// Throws a ``Failure`` unless `receipt` carries a valid signature by one of the trusted keys.
    public func check(_ receipt: [String: JSONValue]) throws {
        guard case .object(let signature)? = receipt["signature"], signature["alg"] == "Ed25519",
            let keyID = signature["key_id"]?.stringValue, let sig = signature["sig"]?.stringValue.flatMap(Base64URL.decode)
        else { throw Failure.malformedSignature }
        guard let key = keys[keyID] else { throw Failure.unknownKey(keyID) }
        var payload = receipt
        payload["signature"] = nil
        payload["attestations"] = nil
        guard key.isValidSignature(sig, for: CanonicalJSON.bytes(.object(payload))) else { throw Failure.badSignature }
    }

    /// Whether `receipt` carries a valid signature by one of the trusted keys.
    public func verify(_ receipt: [String: JSONValue]) -> Bool {
        (try? check(receipt)) != nil
    }
}
