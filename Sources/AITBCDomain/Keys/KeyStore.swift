import Foundation

/// What a revocation found.
public enum RevokeOutcome: Sendable, Equatable {
    /// Revoked now.
    case revoked(APIKeyRecord)
    /// It was revoked before; nothing changed.
    case alreadyRevoked(APIKeyRecord)
    /// Refused by the ``MasterKeyRule``: it is the tenant's last active master key.
    case lastMasterKey
    case notFound
}

/// Storage of API keys. Every write is durable when the call returns.
public protocol KeyStore: Sendable {
    /// Stores a new key and its audit event in one transaction.
    func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws
    /// Stores a development key, replacing any earlier one with the same id (and reactivating it).
    func upsertKey(_ key: APIKeyRecord) async throws
    /// The key whose current or previous secret has `digest`.
    func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord?
    /// The key with public id `id`.
    func key(id: String) async throws -> APIKeyRecord?
    /// Keys newest first, of one tenant or (nil) of all, after `cursor`.
    func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord]
    /// Revokes a key and records `event`, keeping the ``MasterKeyRule``: when the rule protects the key
    /// at `now`, the revocation happens only if another master key of its tenant is active at `now`,
    /// decided atomically with the write (two concurrent revocations of a tenant's last two master
    /// keys, even from two instances, revoke one); otherwise nothing is written and the answer is
    /// ``RevokeOutcome/lastMasterKey``, which the domain turns into ``MasterKeyRule/refusal``.
    func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome
    /// Gives a key a new secret, keeping the old one valid until `previousValidUntil` (nil: not at all).
    func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord?
    /// Writes name, scopes, expiry, limit and metadata of `key` (matched by id) and records `event`,
    /// unless it is revoked; returns the stored key as it is now, or nil (revoked or gone).
    func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord?
    /// Whether any key exists (without counting them: start-up must not scan the table).
    func hasAnyKey() async throws -> Bool
}
