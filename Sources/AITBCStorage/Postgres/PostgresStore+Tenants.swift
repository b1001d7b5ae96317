import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    static let tenantColumns = "id, name, plan, custom_rate_limit, created_at, quota_per_day, quota_per_month"

    public func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try await transaction { session in
            let inserted = try await session.rows(
                """
                INSERT INTO tenants (\(unescaped: Self.tenantColumns)) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt)), \(tenant.customQuota.perDay),
                \(tenant.customQuota.perMonth)) ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { return false }
            if let event { try await session.rows(Self.insertQuery(of: event)) }
            return true
        }
    }

    public func upsertTenant(_ tenant: Tenant) async throws {
        try await transaction { session in
            try await session.rows(
                """
                INSERT INTO tenants (\(unescaped: Self.tenantColumns)) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt)), \(tenant.customQuota.perDay),
                \(tenant.customQuota.perMonth))
                ON CONFLICT (id) DO UPDATE SET plan = excluded.plan
                """)
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.tenantColumns) FROM tenants WHERE id = \(id)")
                .first.flatMap(Self.tenant(from:))
        }
    }

    public func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        let query = Self.pageQuery(columns: Self.tenantColumns, table: "tenants", tenantID: nil, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.tenant(from:))
        }
    }

    public func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws {
        try await transaction { session in
            try await session.rows(
                """
                UPDATE tenants SET name = \(tenant.name), plan = \(tenant.plan),
                custom_rate_limit = \(tenant.customRateLimitPerMinute), quota_per_day = \(tenant.customQuota.perDay),
                quota_per_month = \(tenant.customQuota.perMonth) WHERE id = \(tenant.id)
                """)
            try await session.rows(Self.insertQuery(of: event))
        }
    }
}
