import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    static let keyColumns = """
        id, tenant_id, name, role, scopes, digest, previous_digest, previous_valid_until, hint, created_at, \
        expires_at, revoked_at, rate_limit, metadata, last_used_at, last_used_from, credits, allowed_ips
        """

    public func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws {
        let notify = try await transaction { session in
            try await session.rows(Self.insertQuery(of: key, onConflict: ""))
            try await session.rows(Self.insertQuery(of: event))
            return try await self.insertWebhookEventIfSubscribed(.keyCreated, tenantID: key.tenantID, on: session) {
                .key(.keyCreated, key, at: event.createdAt)
            }
        }
        if notify { webhookOutbox.eventWritten() }
    }

    public func upsertKey(_ key: APIKeyRecord) async throws {
        // Replaces every column, as SQLite's delete-and-insert does, without a window in which a
        // second instance registering the same development key could insert it twice.
        try await transaction { session in
            try await session.rows(
                "DELETE FROM api_keys WHERE digest = \(Self.bytes(key.digest)) AND id <> \(key.id)")
            try await session.rows(
                Self.insertQuery(
                    of: key,
                    onConflict: """
                        ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, \
                        role = excluded.role, scopes = excluded.scopes, digest = excluded.digest, \
                        previous_digest = excluded.previous_digest, previous_valid_until = excluded.previous_valid_until, \
                        hint = excluded.hint, created_at = excluded.created_at, expires_at = excluded.expires_at, \
                        revoked_at = excluded.revoked_at, rate_limit = excluded.rate_limit, metadata = excluded.metadata, \
                        last_used_at = excluded.last_used_at, last_used_from = excluded.last_used_from, \
                        credits = excluded.credits, allowed_ips = excluded.allowed_ips
                        """))
        }
    }

    public func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        let bytes = Self.bytes(digest)
        return try await read { session in
            try await session.rows(
                """
                (SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE digest = \(bytes)) UNION ALL
                (SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE previous_digest = \(bytes)) LIMIT 1
                """
            ).first.flatMap(Self.key(from:))
        }
    }

    public func key(id: String) async throws -> APIKeyRecord? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)")
                .first.flatMap(Self.key(from:))
        }
    }

    public func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        let query = Self.pageQuery(columns: Self.keyColumns, table: "api_keys", tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.key(from:))
        }
    }

    public func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        guard Self.isStorable(id) else { return .notFound }
        let outcome = try await transaction { session -> RevokeOutcome in
            guard
                let key = try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id) FOR UPDATE")
                    .first.flatMap(Self.key(from:))
            else { return .notFound }
            if key.revokedAt != nil { return .alreadyRevoked(key) }
            if MasterKeyRule.protects(key, at: now) {
                // The tenant row serializes revocations of its master keys, on every instance: a
                // concurrent revoke of the other master key waits here, then reads again (a new
                // statement, a new snapshot) and finds that one gone.
                try await session.rows("SELECT id FROM tenants WHERE id = \(key.tenantID) FOR UPDATE")
                let masters = try await session.rows(
                    """
                    SELECT \(unescaped: Self.keyColumns) FROM api_keys
                    WHERE tenant_id = \(key.tenantID) AND role = 'master' AND id <> \(id) AND revoked_at IS NULL
                    """
                ).compactMap(Self.key(from:))
                let instant = PostgresInstant(now).date
                guard masters.contains(where: { MasterKeyRule.isReplacement($0, for: key, at: instant) }) else {
                    return .lastMasterKey
                }
            }
            try await session.rows("UPDATE api_keys SET revoked_at = \(PostgresInstant(now)) WHERE id = \(id)")
            try await session.rows(Self.insertQuery(of: event))
            var revoked = key
            revoked.revokedAt = PostgresInstant(now).date
            _ = try await self.insertWebhookEventIfSubscribed(.keyRevoked, tenantID: key.tenantID, on: session) {
                .key(.keyRevoked, revoked, at: now)
            }
            return .revoked(revoked)
        }
        if case .revoked = outcome { webhookOutbox.eventWritten() }
        return outcome
    }

    public func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord? {
        guard Self.isStorable(id) else { return nil }
        let replaced = try await transaction { session -> APIKeyRecord? in
            guard
                let key = try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id) FOR UPDATE")
                    .first.flatMap(Self.key(from:))
            else { return nil }
            let previous = previousValidUntil == nil ? nil : Self.bytes(key.digest)
            let until = previousValidUntil.map(PostgresInstant.init)
            try await session.rows(
                """
                UPDATE api_keys SET digest = \(Self.bytes(digest)), hint = \(hint), previous_digest = \(previous),
                previous_valid_until = \(until) WHERE id = \(id)
                """)
            try await session.rows(Self.insertQuery(of: event))
            var updated = key
            updated.digest = digest
            updated.hint = hint
            updated.previousDigest = previousValidUntil == nil ? nil : key.digest
            updated.previousValidUntil = until?.date
            _ = try await self.insertWebhookEventIfSubscribed(.keyRegenerated, tenantID: key.tenantID, on: session) {
                .key(.keyRegenerated, updated, at: event.createdAt)
            }
            return updated
        }
        if replaced != nil { webhookOutbox.eventWritten() }
        return replaced
    }

    public func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? {
        guard Self.isStorable(key.id) else { return nil }
        return try await transaction { session in
            guard
                let stored = try await session.rows(
                    """
                    UPDATE api_keys SET name = \(key.name),
                    scopes = \(key.scopes.map { $0.map(\.rawValue).sorted().joined(separator: " ") }),
                    expires_at = \(key.expiresAt.map { PostgresInstant($0) }), rate_limit = \(key.rateLimitPerMinute),
                    metadata = \(JSONText.encode(key.metadata)), credits = \(key.credits?.storageText), allowed_ips = \(key.allowedIPs?.storedText)
                    WHERE id = \(key.id) AND revoked_at IS NULL RETURNING \(unescaped: Self.keyColumns)
                    """
                ).first.flatMap(Self.key(from:))
            else { return nil }
            try await session.rows(Self.insertQuery(of: event))
            return stored
        }
    }

    public func hasAnyKey() async throws -> Bool {
        try await read { session in
            try await session.rows("SELECT EXISTS (SELECT 1 FROM api_keys) AS found").first
                .map { try PostgresRecord($0)("found", as: Bool.self) } ?? false
        }
    }
}
