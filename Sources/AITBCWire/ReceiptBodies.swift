import Foundation

/// A key receipts are verified with, in `GET /v1/receipts/keys`.
public struct ReceiptKeyView: Codable, Sendable, Equatable {
    /// The public key, unpadded base64url: what a receipt's `signature.key_id` names.
    public var keyID: String
    /// Always `Ed25519`.
    public var alg: String
    /// The 32-byte Ed25519 public key, unpadded base64url (the same text as ``keyID``, as AITBC's key ids are).
    public var publicKey: String
    public var createdAt: Date
    /// Whether this instance signs new receipts with it.
    public var current: Bool

    public init(keyID: String, alg: String = "Ed25519", publicKey: String, createdAt: Date, current: Bool) {
        self.keyID = keyID
        self.alg = alg
        self.publicKey = publicKey
        self.createdAt = createdAt
        self.current = current
    }

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id"
        case alg
        case publicKey = "public_key"
        case createdAt = "created_at"
        case current
    }
}

/// `{"items": [...]}`: the receipts of a job (`GET /v1/jobs/{job_id}/receipts`), or the keys
/// receipts verify with (`GET /v1/receipts/keys`).
public struct ItemList<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var items: [Item]

    public init(items: [Item]) {
        self.items = items
    }
}
