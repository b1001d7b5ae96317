import AITBCDomain
import Foundation
import NIOCore
import SQLiteNIO

extension SQLiteStore {
    public func insertAccount(_ account: Account, tenant: Tenant, masterKey: APIKeyRecord, events: [AuditEvent])
        async throws -> Bool
    {
        try await transaction { connection in
            let taken = try connection.query("SELECT id FROM accounts WHERE email = ?", [.text(account.email)])
            guard taken.isEmpty else { return false }
            _ = try connection.query(
                "INSERT INTO tenants (\(Self.tenantColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                Self.binds(of: tenant))
            _ = try connection.query(
                "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (\(Self.keyPlaceholders))",
                Self.binds(of: masterKey))
            _ = try connection.query(
                "INSERT INTO accounts (id, email, password_hash, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(account.id), .text(account.email), .text(account.passwordHash), .text(account.tenantID),
                 .integer(Int(account.createdAt.unixMilliseconds))])
            for event in events { try Self.insert(event, on: connection) }
            return true
        }
    }

    public func account(email: String) async throws -> Account? {
        try await read { connection in
            try connection.query(
                "SELECT id, email, password_hash, tenant_id, created_at FROM accounts WHERE email = ?", [.text(email)]
            ).first.flatMap(Self.account(from:))
        }
    }

    public func account(id: String) async throws -> Account? {
        try await read { connection in
            try connection.query(
                "SELECT id, email, password_hash, tenant_id, created_at FROM accounts WHERE id = ?", [.text(id)]
            ).first.flatMap(Self.account(from:))
        }
    }

    public func insertSession(_ session: DashboardSession) async throws {
        try await transaction { connection in
            _ = try connection.query(
                """
                INSERT INTO dashboard_sessions (digest, account_id, csrf_token, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?)
                """,
                [.blob(ByteBuffer(bytes: session.digest)), .text(session.accountID), .text(session.csrfToken),
                 .integer(Int(session.createdAt.unixMilliseconds)), .integer(Int(session.expiresAt.unixMilliseconds))])
        }
    }

    public func session(digest: [UInt8]) async throws -> DashboardSession? {
        try await read { connection in
            try connection.query(
                """
                SELECT digest, account_id, csrf_token, created_at, expires_at FROM dashboard_sessions WHERE digest = ?
                """,
                [.blob(ByteBuffer(bytes: digest))]
            ).first.flatMap(Self.session(from:))
        }
    }

    public func deleteSession(digest: [UInt8]) async throws {
        try await transaction { connection in
            _ = try connection.query(
                "DELETE FROM dashboard_sessions WHERE digest = ?", [.blob(ByteBuffer(bytes: digest))])
        }
    }

    public func deleteSessions(accountID: String) async throws {
        try await transaction { connection in
            _ = try connection.query("DELETE FROM dashboard_sessions WHERE account_id = ?", [.text(accountID)])
        }
    }

    public func deleteSessions(expiredBefore now: Date) async throws {
        try await transaction { connection in
            _ = try connection.query(
                "DELETE FROM dashboard_sessions WHERE expires_at <= ?", [.integer(Int(now.unixMilliseconds))])
        }
    }

    static func account(from row: SQLiteStoredRow) -> Account? {
        guard let id = row.column("id")?.string, let email = row.column("email")?.string,
            let hash = row.column("password_hash")?.string, let tenantID = row.column("tenant_id")?.string,
            let createdAt = date(row.column("created_at"))
        else { return nil }
        return Account(id: id, email: email, passwordHash: hash, tenantID: tenantID, createdAt: createdAt)
    }

    static func session(from row: SQLiteStoredRow) -> DashboardSession? {
        guard let digest = row.column("digest")?.blob, let accountID = row.column("account_id")?.string,
            let csrf = row.column("csrf_token")?.string, let createdAt = date(row.column("created_at")),
            let expiresAt = date(row.column("expires_at"))
        else { return nil }
        return DashboardSession(
            digest: Array(digest.readableBytesView), accountID: accountID, csrfToken: csrf, createdAt: createdAt,
            expiresAt: expiresAt)
    }
}
