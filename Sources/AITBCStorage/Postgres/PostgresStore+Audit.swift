import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    public func insertAuditEvent(_ event: AuditEvent) async throws {
        try await transaction { session in try await session.rows(Self.insertQuery(of: event)) }
    }

    public func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        let query = Self.pageQuery(
            columns: "id, tenant_id, type, actor_key_id, target_id, created_at, data", table: "audit_events",
            tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.event(from:))
        }
    }
}
