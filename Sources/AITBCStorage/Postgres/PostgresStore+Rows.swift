import AITBCDomain
import AITBCWire
import Foundation
import PostgresNIO

extension PostgresStore {
    static func bytes(_ digest: APIKeyDigest) -> ByteBuffer {
        ByteBuffer(bytes: digest.bytes)
    }

    static func digest(_ buffer: ByteBuffer?) -> APIKeyDigest? {
        buffer.flatMap { APIKeyDigest(bytes: $0.readableBytesView) }
    }

    /// Whether PostgreSQL text can hold `text`: it cannot hold U+0000, so no stored id contains one
    /// and a lookup by such an id finds nothing without asking the database.
    static func isStorable(_ text: String) -> Bool {
        !text.utf8.contains(0)
    }

    static func insertQuery(of key: APIKeyRecord, onConflict: String) -> PostgresQuery {
        """
        INSERT INTO api_keys (\(unescaped: keyColumns)) VALUES (
        \(key.id), \(key.tenantID), \(key.name), \(key.role.rawValue),
        \(key.scopes.map { $0.map(\.rawValue).sorted().joined(separator: " ") }), \(bytes(key.digest)),
        \(key.previousDigest.map(bytes)), \(key.previousValidUntil.map { PostgresInstant($0) }), \(key.hint),
        \(PostgresInstant(key.createdAt)), \(key.expiresAt.map { PostgresInstant($0) }),
        \(key.revokedAt.map { PostgresInstant($0) }), \(key.rateLimitPerMinute), \(JSONText.encode(key.metadata)),
        \(key.lastUsedAt.map { PostgresInstant($0) }), \(key.lastUsedFrom), \(key.credits?.storageText), \(key.allowedIPs?.storedText)) \(unescaped: onConflict)
        """
    }

    static func key(from row: PostgresRow) throws -> APIKeyRecord? {
        let record = PostgresRecord(row)
        guard let role = Role(rawValue: try record("role", as: String.self)),
            let digest = digest(try record("digest", as: ByteBuffer?.self))
        else { return nil }
        let scopes = try record("scopes", as: String?.self).map {
            Set($0.split(separator: " ").map { Permission(rawValue: String($0)) })
        }
        return APIKeyRecord(
            id: try record("id"), tenantID: try record("tenant_id"), name: try record("name"), role: role, scopes: scopes,
            digest: digest, previousDigest: Self.digest(try record("previous_digest")),
            previousValidUntil: try record("previous_valid_until", as: PostgresInstant?.self)?.date, hint: try record("hint"),
            createdAt: try record("created_at", as: PostgresInstant.self).date,
            expiresAt: try record("expires_at", as: PostgresInstant?.self)?.date,
            revokedAt: try record("revoked_at", as: PostgresInstant?.self)?.date,
            rateLimitPerMinute: try record("rate_limit"), metadata: JSONText.decodeObject(try record("metadata")),
            lastUsedAt: try record("last_used_at", as: PostgresInstant?.self)?.date,
            lastUsedFrom: try record("last_used_from"),
            credits: try record("credits", as: String?.self).flatMap(KeyCredits.init(storageText:)),
            allowedIPs: IPAllowList(stored: try record("allowed_ips", as: String?.self)))
    }

    static func tenant(from row: PostgresRow) throws -> Tenant? {
        let record = PostgresRecord(row)
        return Tenant(
            id: try record("id"), name: try record("name"), plan: try record("plan"),
            customRateLimitPerMinute: try record("custom_rate_limit"),
            customQuota: RequestQuota(perDay: try record("quota_per_day"), perMonth: try record("quota_per_month")),
            createdAt: try record("created_at", as: PostgresInstant.self).date)
    }

    static func insertQuery(of event: AuditEvent) -> PostgresQuery {
        """
        INSERT INTO audit_events (id, tenant_id, type, actor_key_id, target_id, created_at, data)
        VALUES (\(event.id), \(event.tenantID), \(event.kind.rawValue), \(event.actorKeyID), \(event.targetID),
        \(PostgresInstant(event.createdAt)), \(JSONText.encode(event.data)))
        """
    }

    static func event(from row: PostgresRow) throws -> AuditEvent? {
        let record = PostgresRecord(row)
        guard let kind = AuditEvent.Kind(rawValue: try record("type")) else { return nil }
        return AuditEvent(
            id: try record("id"), kind: kind, tenantID: try record("tenant_id"), actorKeyID: try record("actor_key_id"),
            targetID: try record("target_id"), createdAt: try record("created_at", as: PostgresInstant.self).date,
            data: JSONText.decodeObject(try record("data")))
    }
}
