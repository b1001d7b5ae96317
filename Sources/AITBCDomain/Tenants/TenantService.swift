import AITBCWire
import Foundation

/// Operator management of tenants: create, list, get, change plan or custom limit.
public struct TenantService: Sendable {
    let store: any TenantStore
    let authenticator: KeyAuthenticator
    let keys: KeyService
    let time: any TimeSource
    let secrets: any SecretSource

    public init(
        store: any TenantStore, authenticator: KeyAuthenticator, keys: KeyService, time: any TimeSource,
        secrets: any SecretSource
    ) {
        self.store = store
        self.authenticator = authenticator
        self.keys = keys
        self.time = time
        self.secrets = secrets
    }

    public var plans: PlanTable { authenticator.plans }

    /// Creates a tenant and its first master key (whose secret is returned once).
    public func create(id: String?, name: String, plan: String, by caller: Principal) async throws -> (Tenant, IssuedKey) {
        try caller.require(.tenantsWrite)
        let name = try KeyService.validName(name)
        guard plans.limit(of: plan) != nil else {
            throw CoordinatorError.invalidField("plan", "plan must be one of \(plans.names.joined(separator: ", "))")
        }
        if let id, !Tenant.isValidID(id) {
            throw CoordinatorError.invalidField("tenant_id", "tenant_id must be 1 … 64 of a-z, 0-9, _ and -")
        }
        let now = time.now()
        let tenant = Tenant(id: id ?? "ten_" + secrets.base62(count: 16), name: name, plan: plan, createdAt: now)
        // The answer carries the new tenant's first master key: asked before anything is written.
        try await keys.requireDelegable(
            KeyReach(
                role: .master, permissions: Role.master.permissions, expiresAt: caller.key.expiresAt,
                rateLimitPerMinute: caller.key.rateLimitPerMinute),
            for: .create, target: tenant.id, in: caller.key.tenantID, by: caller)
        let event = keys.makeEvent(
            .tenantCreated, tenantID: tenant.id, actor: caller.key.id, target: tenant.id, at: now,
            data: ["plan": .string(plan)])
        guard try await storageCall({ try await store.insertTenant(tenant, event: event) }) else {
            throw CoordinatorError.conflictState("A tenant with this id already exists")
        }
        authenticator.remember(tenant)
        let master = try await keys.create(
            NewKeyRequest(name: "Initial master key", role: Role.master.rawValue, tenantID: tenant.id), by: caller)
        return (tenant, master)
    }

    /// One page of tenants, newest first.
    public func list(by caller: Principal, after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        try caller.require(.tenantsRead)
        return try await storageCall { try await store.tenants(after: cursor, limit: limit) }
    }

    /// The tenant `id`.
    public func get(_ id: String, by caller: Principal) async throws -> Tenant {
        try caller.require(.tenantsRead)
        guard id.utf8.count <= 64, let tenant = try await storageCall({ try await store.tenant(id: id) }) else {
            throw Self.tenantNotFound
        }
        return tenant
    }

    /// Changes plan, name or custom limit; the next request of any of the tenant's keys sees it.
    public func update(
        _ id: String, plan: String?, name: String?, rateLimitPerMinute: Int??, quotaPerDay: Int?? = nil,
        quotaPerMonth: Int?? = nil, by caller: Principal
    ) async throws -> Tenant {
        try caller.require(.tenantsWrite)
        var tenant = try await get(id, by: caller)
        var changes: [String: JSONValue] = [:]
        if let plan {
            guard plans.limit(of: plan) != nil else {
                throw CoordinatorError.invalidField("plan", "plan must be one of \(plans.names.joined(separator: ", "))")
            }
            changes["plan"] = ["from": .string(tenant.plan), "to": .string(plan)]
            tenant.plan = plan
        }
        if let name {
            tenant.name = try KeyService.validName(name)
            changes["name"] = .string(tenant.name)
        }
        if let limit = rateLimitPerMinute {
            if let value = limit, !(1...100_000_000).contains(value) {
                throw CoordinatorError.invalidField(
                    "rate_limit_per_minute", "rate_limit_per_minute must be 1 … 100000000, or null for the plan's")
            }
            changes["rate_limit_per_minute"] = limit.map { .int($0) } ?? .null
            tenant.customRateLimitPerMinute = limit
        }
        for (field, asked) in [("quota_per_day", quotaPerDay), ("quota_per_month", quotaPerMonth)] {
            guard let asked else { continue }
            if let value = asked, !(1...1_000_000_000_000).contains(value) {
                throw CoordinatorError.invalidField(field, "\(field) must be 1 … 1000000000000, or null for the plan's")
            }
            changes[field] = ["from": Self.json(tenant.customQuota, field), "to": asked.map { .int($0) } ?? .null]
            if field == "quota_per_day" { tenant.customQuota.perDay = asked } else { tenant.customQuota.perMonth = asked }
        }
        let event = keys.makeEvent(
            .tenantUpdated, tenantID: tenant.id, actor: caller.key.id, target: tenant.id, at: time.now(),
            data: changes)
        try await storageCall { try await store.updateTenant(tenant, event: event) }
        authenticator.remember(tenant)
        await keys.bus.publish(.tenantChanged(id: tenant.id))
        return tenant
    }

    private static func json(_ quota: RequestQuota, _ field: String) -> JSONValue {
        (field == "quota_per_day" ? quota.perDay : quota.perMonth).map { .int($0) } ?? .null
    }

    static let tenantNotFound = CoordinatorError.notFound(.tenantNotFound, "No such tenant")
}
