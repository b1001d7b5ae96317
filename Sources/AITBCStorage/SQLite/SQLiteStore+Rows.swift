import AITBCDomain
import Foundation
import NIOCore
import SQLiteNIO

extension SQLiteStore {
    static func blob(_ digest: APIKeyDigest) -> SQLiteData {
        .blob(ByteBuffer(bytes: digest.bytes))
    }

    static func digest(_ data: SQLiteData?) -> APIKeyDigest? {
        guard let buffer = data?.blob else { return nil }
        return APIKeyDigest(bytes: Array(buffer.readableBytesView))
    }

    static func date(_ data: SQLiteData?) -> Date? {
        guard let data, !data.isNull, let value = data.integer else { return nil }
        return Date(unixMilliseconds: Int64(value))
    }

    static func optionalInt(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }

    static func optionalDate(_ value: Date?) -> SQLiteData { value.map { .integer(Int($0.unixMilliseconds)) } ?? .null }

    static func binds(of key: APIKeyRecord) -> [SQLiteData] {
        [
            .text(key.id), .text(key.tenantID), .text(key.name), .text(key.role.rawValue),
            key.scopes.map { .text($0.map(\.rawValue).sorted().joined(separator: " ")) } ?? .null,
            blob(key.digest), key.previousDigest.map(blob) ?? .null, optionalDate(key.previousValidUntil),
            .text(key.hint), .integer(Int(key.createdAt.unixMilliseconds)), optionalDate(key.expiresAt),
            optionalDate(key.revokedAt), optionalInt(key.rateLimitPerMinute), .text(JSONText.encode(key.metadata)),
            optionalDate(key.lastUsedAt), key.lastUsedFrom.map { .text($0) } ?? .null,
            key.credits.map { .text($0.storageText) } ?? .null,
            key.allowedIPs.map { .text($0.storedText) } ?? .null,
        ]
    }

    static func key(from row: SQLiteStoredRow) -> APIKeyRecord? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let role = row.column("role")?.string.flatMap(Role.init(rawValue:)),
            let digest = digest(row.column("digest")), let createdAt = date(row.column("created_at"))
        else { return nil }
        let scopes = row.column("scopes").flatMap { $0.isNull ? nil : $0.string }.map {
            Set($0.split(separator: " ").map { Permission(rawValue: String($0)) })
        }
        return APIKeyRecord(
            id: id, tenantID: tenantID, name: row.column("name")?.string ?? "", role: role, scopes: scopes,
            digest: digest, previousDigest: Self.digest(row.column("previous_digest")),
            previousValidUntil: date(row.column("previous_valid_until")), hint: row.column("hint")?.string ?? "",
            createdAt: createdAt, expiresAt: date(row.column("expires_at")), revokedAt: date(row.column("revoked_at")),
            rateLimitPerMinute: row.column("rate_limit").flatMap { $0.isNull ? nil : $0.integer },
            metadata: JSONText.decodeObject(row.column("metadata")?.string),
            lastUsedAt: date(row.column("last_used_at")),
            lastUsedFrom: row.column("last_used_from").flatMap { $0.isNull ? nil : $0.string },
            credits: row.column("credits").flatMap { $0.isNull ? nil : $0.string }.flatMap(KeyCredits.init(storageText:)),
            allowedIPs: IPAllowList(stored: row.column("allowed_ips").flatMap { $0.isNull ? nil : $0.string }))
    }

    static func binds(of tenant: Tenant) -> [SQLiteData] {
        [
            .text(tenant.id), .text(tenant.name), .text(tenant.plan), optionalInt(tenant.customRateLimitPerMinute),
            .integer(Int(tenant.createdAt.unixMilliseconds)), optionalInt(tenant.customQuota.perDay),
            optionalInt(tenant.customQuota.perMonth),
        ]
    }

    static func tenant(from row: SQLiteStoredRow) -> Tenant? {
        guard let id = row.column("id")?.string, let createdAt = date(row.column("created_at")) else { return nil }
        return Tenant(
            id: id, name: row.column("name")?.string ?? "", plan: row.column("plan")?.string ?? "",
            customRateLimitPerMinute: row.column("custom_rate_limit").flatMap { $0.isNull ? nil : $0.integer },
            customQuota: RequestQuota(
                perDay: row.column("quota_per_day").flatMap { $0.isNull ? nil : $0.integer },
                perMonth: row.column("quota_per_month").flatMap { $0.isNull ? nil : $0.integer }),
            createdAt: createdAt)
    }

    static func insert(_ event: AuditEvent, on connection: SQLiteHandle) throws {
        _ = try connection.query(
            """
            INSERT INTO audit_events (id, tenant_id, type, actor_key_id, target_id, created_at, data)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(event.id), .text(event.tenantID), .text(event.kind.rawValue),
                event.actorKeyID.map { .text($0) } ?? .null, .text(event.targetID),
                .integer(Int(event.createdAt.unixMilliseconds)), .text(JSONText.encode(event.data)),
            ])
    }

    static func event(from row: SQLiteStoredRow) -> AuditEvent? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let kind = row.column("type")?.string.flatMap(AuditEvent.Kind.init(rawValue:)),
            let targetID = row.column("target_id")?.string, let createdAt = date(row.column("created_at"))
        else { return nil }
        return AuditEvent(
            id: id, kind: kind, tenantID: tenantID,
            actorKeyID: row.column("actor_key_id").flatMap { $0.isNull ? nil : $0.string }, targetID: targetID,
            createdAt: createdAt, data: JSONText.decodeObject(row.column("data")?.string))
    }
}
