import AITBCWire
import Crypto
import Foundation

/// Verifies a receipt as AITBC's verifier does, independently of the SDK's: Ed25519 by the key its
/// `signature.key_id` names, over the canonical JSON of the receipt without `signature`.
enum ReceiptCheck {
    static func verifies(_ receipt: JSONValue, keyID expected: String? = nil) -> Bool {
        guard var payload = receipt.objectValue else { return false }
        guard case .object(let signature)? = payload.removeValue(forKey: "signature"), signature["alg"] == "Ed25519", let keyID = signature["key_id"]?.stringValue,
            let sig = signature["sig"]?.stringValue.flatMap(Base64URL.decode), let keyBytes = Base64URL.decode(keyID),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { return false }
        if let expected, expected != keyID { return false }
        return key.isValidSignature(sig, for: CanonicalJSON.bytes(.object(payload)))
    }
}
