import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    public func insertAuditEvent(_ event: AuditEvent) async throws {
        try await transaction { connection in try Self.insert(event, on: connection) }
    }

    public func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        let (sql, binds) = Self.pageQuery(
            columns: "id, tenant_id, type, actor_key_id, target_id, created_at, data", table: "audit_events",
            tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { connection in
            try connection.query(sql, binds).compactMap(Self.event(from:))
        }
    }
}
