import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    static let accountColumns = "id, email, password_hash, tenant_id, created_at"
    static let sessionColumns = "digest, account_id, csrf_token, created_at, expires_at"

    public func insertAccount(_ account: Account, tenant: Tenant, masterKey: APIKeyRecord, events: [AuditEvent])
        async throws -> Bool
    {
        try await transaction { session in
            // Two sign-ups with one email queue on this lock, so the second sees the first's account.
            try await session.rows("SELECT pg_advisory_xact_lock(hashtext(\(account.email)))")
            guard try await session.rows("SELECT id FROM accounts WHERE email = \(account.email)").isEmpty else {
                return false
            }
            try await session.rows(
                """
                INSERT INTO tenants (\(unescaped: Self.tenantColumns)) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt)), \(tenant.customQuota.perDay),
                \(tenant.customQuota.perMonth))
                """)
            try await session.rows(Self.insertQuery(of: masterKey, onConflict: ""))
            try await session.rows(
                """
                INSERT INTO accounts (\(unescaped: Self.accountColumns)) VALUES (\(account.id), \(account.email),
                \(account.passwordHash), \(account.tenantID), \(PostgresInstant(account.createdAt)))
                """)
            for event in events { try await session.rows(Self.insertQuery(of: event)) }
            return true
        }
    }

    public func account(email: String) async throws -> Account? {
        guard Self.isStorable(email) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.accountColumns) FROM accounts WHERE email = \(email)")
                .first.flatMap(Self.account(from:))
        }
    }

    public func account(id: String) async throws -> Account? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.accountColumns) FROM accounts WHERE id = \(id)")
                .first.flatMap(Self.account(from:))
        }
    }

    public func insertSession(_ dashboardSession: DashboardSession) async throws {
        try await transaction { session in
            try await session.rows(
                """
                INSERT INTO dashboard_sessions (\(unescaped: Self.sessionColumns)) VALUES (
                \(ByteBuffer(bytes: dashboardSession.digest)), \(dashboardSession.accountID), \(dashboardSession.csrfToken),
                \(PostgresInstant(dashboardSession.createdAt)), \(PostgresInstant(dashboardSession.expiresAt)))
                """)
        }
    }

    public func session(digest: [UInt8]) async throws -> DashboardSession? {
        try await read { session in
            try await session.rows(
                "SELECT \(unescaped: Self.sessionColumns) FROM dashboard_sessions WHERE digest = \(ByteBuffer(bytes: digest))"
            ).first.flatMap(Self.dashboardSession(from:))
        }
    }

    public func deleteSession(digest: [UInt8]) async throws {
        try await transaction { session in
            try await session.rows("DELETE FROM dashboard_sessions WHERE digest = \(ByteBuffer(bytes: digest))")
        }
    }

    public func deleteSessions(accountID: String) async throws {
        guard Self.isStorable(accountID) else { return }
        try await transaction { session in
            try await session.rows("DELETE FROM dashboard_sessions WHERE account_id = \(accountID)")
        }
    }

    public func deleteSessions(expiredBefore now: Date) async throws {
        try await transaction { session in
            try await session.rows("DELETE FROM dashboard_sessions WHERE expires_at <= \(PostgresInstant(now))")
        }
    }

    static func account(from row: PostgresRow) throws -> Account? {
        let record = PostgresRecord(row)
        return Account(
            id: try record("id"), email: try record("email"), passwordHash: try record("password_hash"),
            tenantID: try record("tenant_id"), createdAt: try record("created_at", as: PostgresInstant.self).date)
    }

    static func dashboardSession(from row: PostgresRow) throws -> DashboardSession? {
        let record = PostgresRecord(row)
        let digest = try record("digest", as: ByteBuffer.self)
        return DashboardSession(
            digest: Array(digest.readableBytesView), accountID: try record("account_id"),
            csrfToken: try record("csrf_token"), createdAt: try record("created_at", as: PostgresInstant.self).date,
            expiresAt: try record("expires_at", as: PostgresInstant.self).date)
    }
}
