import Foundation

/// A tenant always keeps an active master key: the last one cannot be revoked. Every ``KeyStore``
/// enforces it atomically in its own transaction (see ``KeyStore/revokeKey(id:at:event:)``); this is
/// where the rule, and the answer to breaking it, are stated.
public enum MasterKeyRule {
    /// Whether revoking `key` at `now` needs another active master key of its tenant to remain:
    /// true for an active master key (a revoked or expired one no longer counts).
    public static func protects(_ key: APIKeyRecord, at now: Date) -> Bool {
        key.role == .master && key.isActive(at: now)
    }

    /// Whether `other` keeps the tenant of `key` served if `key` goes: another of its master keys,
    /// active at `now`.
    public static func isReplacement(_ other: APIKeyRecord, for key: APIKeyRecord, at now: Date) -> Bool {
        other.id != key.id && other.tenantID == key.tenantID && protects(other, at: now)
    }

    /// 409 `LAST_MASTER_KEY`: what a revocation the rule refused answers.
    public static let refusal = CoordinatorError(
        .conflict, code: .lastMasterKey,
        message: "This is the tenant's last active master key; create another master key first")
}
