/// An authenticated caller: the key that was presented, its tenant, and the tenant it acts in.
public struct Principal: Sendable {
    public let key: APIKeyRecord
    /// The key's own tenant, whose budget the request draws on.
    public let tenant: Tenant
    /// The tenant's per-minute limit in force when the key was authenticated.
    public let tenantLimit: Int
    /// The tenant the call acts on: the key's own, or for an operator the one named by
    /// `X-Tenant-ID`, or nil (every tenant) when an operator names none.
    public var actingTenantID: String?

    public init(key: APIKeyRecord, tenant: Tenant, tenantLimit: Int) {
        self.key = key
        self.tenant = tenant
        self.tenantLimit = tenantLimit
        self.actingTenantID = key.role == .operator ? nil : key.tenantID
    }

    public var isOperator: Bool { key.role == .operator }

    /// Throws 403 `INSUFFICIENT_SCOPE` unless the key holds `permission`.
    public func require(_ permission: Permission) throws {
        guard key.permissions.contains(permission) else { throw CoordinatorError.insufficientScope(permission) }
    }

    /// Whether a record of `tenantID` is visible to this caller.
    public func canSee(tenantID: String) -> Bool {
        actingTenantID.map { $0 == tenantID } ?? isOperator
    }

    /// The budgets a request of this caller is charged to: the tenant's, and the key's own if it has one.
    public var budgets: ((BudgetKey, Int), (BudgetKey, Int)?) {
        let tenantBudget = (BudgetKey.tenant(tenant.id), tenantLimit)
        guard let keyLimit = key.rateLimitPerMinute else { return (tenantBudget, nil) }
        return (tenantBudget, (BudgetKey.key(key.id), keyLimit))
    }
}
