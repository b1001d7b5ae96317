import AITBCWire
import Crypto
import Foundation

/// Signs receipt payloads as AITBC's `aitbc_crypto.signing.ReceiptSigner` does: Ed25519 over the
/// payload's canonical JSON (``CanonicalJSON``), the signature as
/// `{alg: "Ed25519", key_id: base64url(public key), sig: base64url(signature)}`, unpadded.
public struct ReceiptSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey
    /// The public key, unpadded base64url: the signature's `key_id`.
    public let keyID: String

    public init(seed: ReceiptSigningSeed) throws {
        key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed.bytes)
        keyID = Base64URL.encode(key.publicKey.rawRepresentation)
    }

    /// The signature object of `payload` (which must not hold a `signature` member).
    public func signature(of payload: JSONValue) throws -> [String: JSONValue] {
        let signature = try key.signature(for: CanonicalJSON.bytes(payload))
        return ["alg": "Ed25519", "key_id": .string(keyID), "sig": .string(Base64URL.encode(signature))]
    }

    /// `payload` with its `signature` member attached.
    public func signed(_ payload: [String: JSONValue]) throws -> [String: JSONValue] {
        var receipt = payload
        receipt["signature"] = .object(try signature(of: .object(payload)))
        return receipt
    }
}
