/// Storage of the audit log.
public protocol AuditStore: Sendable {
    /// Records an event that no other write carries (a refused delegation).
    func insertAuditEvent(_ event: AuditEvent) async throws
    /// Events newest first, of one tenant or (nil) of all, after `cursor`.
    func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent]
}
