/// Storage of tenants.
public protocol TenantStore: Sendable {
    /// Stores a new tenant and its audit event; false if the id is taken.
    func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool
    /// Creates or replaces a tenant (development tenant at start).
    func upsertTenant(_ tenant: Tenant) async throws
    /// The tenant `id`, if there is one.
    func tenant(id: String) async throws -> Tenant?
    /// Tenants newest first after `cursor`.
    func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant]
    /// Replaces a tenant's fields and records `event`.
    func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws
}
