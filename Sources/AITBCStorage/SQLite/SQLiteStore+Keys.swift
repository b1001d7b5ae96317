import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static let keyColumns = """
        id, tenant_id, name, role, scopes, digest, previous_digest, previous_valid_until, hint, created_at, \
        expires_at, revoked_at, rate_limit, metadata, last_used_at, last_used_from, credits, allowed_ips
        """
    /// One `?` per column of ``keyColumns``.
    static let keyPlaceholders = Array(repeating: "?", count: keyColumns.split(separator: ",").count).joined(separator: ", ")

    public func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws {
        let notify = try await transaction { connection in
            _ = try connection.query(
                "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (\(Self.keyPlaceholders))",
                Self.binds(of: key))
            try Self.insert(event, on: connection)
            return try self.insertWebhookEventIfSubscribed(.keyCreated, tenantID: key.tenantID, on: connection) {
                .key(.keyCreated, key, at: event.createdAt)
            }
        }
        if notify { webhookOutbox.eventWritten() }
    }

    public func upsertKey(_ key: APIKeyRecord) async throws {
        try await transaction { connection in
            _ = try connection.query("DELETE FROM api_keys WHERE id = ? OR digest = ?", [.text(key.id), Self.blob(key.digest)])
            _ = try connection.query(
                "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (\(Self.keyPlaceholders))",
                Self.binds(of: key))
        }
    }

    public func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        let blob = Self.blob(digest)
        return try await read { connection in
            try connection.query(
                "SELECT \(Self.keyColumns) FROM api_keys WHERE digest = ? UNION ALL "
                    + "SELECT \(Self.keyColumns) FROM api_keys WHERE previous_digest = ? LIMIT 1",
                [blob, blob]
            ).first.flatMap(Self.key(from:))
        }
    }

    public func key(id: String) async throws -> APIKeyRecord? {
        try await read { connection in
            try connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                .first.flatMap(Self.key(from:))
        }
    }

    public func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        let (sql, binds) = Self.pageQuery(
            columns: Self.keyColumns, table: "api_keys", tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { connection in
            try connection.query(sql, binds).compactMap(Self.key(from:))
        }
    }

    public func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        let outcome = try await transaction { connection -> RevokeOutcome in
            guard
                let key = try connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                    .first.flatMap(Self.key(from:))
            else { return .notFound }
            if key.revokedAt != nil { return .alreadyRevoked(key) }
            if MasterKeyRule.protects(key, at: now) {
                // Decided inside the write transaction (BEGIN IMMEDIATE): no other revocation, from
                // this connection or another on the same file, can come between the read and the write.
                let masters = try connection.query(
                    """
                    SELECT \(Self.keyColumns) FROM api_keys
                    WHERE tenant_id = ? AND role = 'master' AND id != ? AND revoked_at IS NULL
                    """,
                    [.text(key.tenantID), .text(id)]
                ).compactMap(Self.key(from:))
                let instant = Date(unixMilliseconds: now.unixMilliseconds)
                guard masters.contains(where: { MasterKeyRule.isReplacement($0, for: key, at: instant) }) else {
                    return .lastMasterKey
                }
            }
            _ = try connection.query(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?", [.integer(Int(now.unixMilliseconds)), .text(id)])
            try Self.insert(event, on: connection)
            var revoked = key
            revoked.revokedAt = Date(unixMilliseconds: now.unixMilliseconds)
            _ = try self.insertWebhookEventIfSubscribed(.keyRevoked, tenantID: key.tenantID, on: connection) {
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
        let replaced = try await transaction { connection -> APIKeyRecord? in
            guard
                let key = try connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                    .first.flatMap(Self.key(from:))
            else { return nil }
            let previous: SQLiteData = previousValidUntil == nil ? .null : Self.blob(key.digest)
            let until: SQLiteData = previousValidUntil.map { .integer(Int($0.unixMilliseconds)) } ?? .null
            _ = try connection.query(
                "UPDATE api_keys SET digest = ?, hint = ?, previous_digest = ?, previous_valid_until = ? WHERE id = ?",
                [Self.blob(digest), .text(hint), previous, until, .text(id)])
            try Self.insert(event, on: connection)
            var updated = key
            updated.digest = digest
            updated.hint = hint
            updated.previousDigest = previousValidUntil == nil ? nil : key.digest
            updated.previousValidUntil = previousValidUntil.map { Date(unixMilliseconds: $0.unixMilliseconds) }
            _ = try self.insertWebhookEventIfSubscribed(.keyRegenerated, tenantID: key.tenantID, on: connection) {
                .key(.keyRegenerated, updated, at: event.createdAt)
            }
            return updated
        }
        if replaced != nil { webhookOutbox.eventWritten() }
        return replaced
    }

    public func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? {
        try await transaction { connection in
            _ = try connection.query(
                """
                UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?, rate_limit = ?, metadata = ?, credits = ?, allowed_ips = ?
                WHERE id = ? AND revoked_at IS NULL
                """,
                [
                    .text(key.name), key.scopes.map { .text($0.map(\.rawValue).sorted().joined(separator: " ")) } ?? .null,
                    Self.optionalDate(key.expiresAt), Self.optionalInt(key.rateLimitPerMinute),
                    .text(JSONText.encode(key.metadata)), key.credits.map { .text($0.storageText) } ?? .null, key.allowedIPs.map { .text($0.storedText) } ?? .null, .text(key.id),
                ])
            guard
                let stored = try connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(key.id)])
                    .first.flatMap(Self.key(from:)), stored.revokedAt == nil
            else { return nil }
            try Self.insert(event, on: connection)
            return stored
        }
    }

    public func hasAnyKey() async throws -> Bool {
        try await read { connection in
            try connection.query("SELECT EXISTS (SELECT 1 FROM api_keys) AS found").first?.column("found")?.integer == 1
        }
    }
}
