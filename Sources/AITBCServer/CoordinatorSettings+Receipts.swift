import AITBCDomain
import Foundation

extension CoordinatorSettings {
    /// The seed in `AITBC_RECEIPT_SIGNING_KEY_HEX`, or nil when it is unset; the error never repeats the value.
    static func parseReceiptSigningSeed(_ raw: String?) throws -> ReceiptSigningSeed? {
        guard let raw else { return nil }
        guard let seed = ReceiptSigningSeed(hex: raw.trimmingCharacters(in: .whitespaces)) else {
            throw Invalid(
                description: "AITBC_RECEIPT_SIGNING_KEY_HEX must be 64 hex digits (a 32-byte Ed25519 seed), "
                    + "got \(raw.utf8.count) characters")
        }
        return seed
    }
}
