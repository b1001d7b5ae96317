import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static let tenantColumns = "id, name, plan, custom_rate_limit, created_at, quota_per_day, quota_per_month"

    public func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try await transaction { connection in
            let existing = try connection.query("SELECT id FROM tenants WHERE id = ?", [.text(tenant.id)])
            guard existing.isEmpty else { return false }
            _ = try connection.query(
                "INSERT INTO tenants (\(Self.tenantColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                Self.binds(of: tenant))
            if let event { try Self.insert(event, on: connection) }
            return true
        }
    }

    public func upsertTenant(_ tenant: Tenant) async throws {
        try await transaction { connection in
            _ = try connection.query(
                """
                INSERT INTO tenants (\(Self.tenantColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET plan = excluded.plan
                """,
                Self.binds(of: tenant))
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read { connection in
            try connection.query(
                "SELECT \(Self.tenantColumns) FROM tenants WHERE id = ?", [.text(id)]
            ).first.flatMap(Self.tenant(from:))
        }
    }

    public func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        let (sql, binds) = Self.pageQuery(
            columns: Self.tenantColumns, table: "tenants", tenantID: nil, cursor: cursor,
            limit: limit)
        return try await read { connection in
            try connection.query(sql, binds).compactMap(Self.tenant(from:))
        }
    }

    public func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws {
        try await transaction { connection in
            _ = try connection.query(
                "UPDATE tenants SET name = ?, plan = ?, custom_rate_limit = ?, quota_per_day = ?, quota_per_month = ? WHERE id = ?",
                [.text(tenant.name), .text(tenant.plan), Self.optionalInt(tenant.customRateLimitPerMinute),
                 Self.optionalInt(tenant.customQuota.perDay), Self.optionalInt(tenant.customQuota.perMonth), .text(tenant.id)])
            try Self.insert(event, on: connection)
        }
    }
}
