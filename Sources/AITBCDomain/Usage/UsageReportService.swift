/// Usage reports for billing: a tenant's counts per hour or day (per key if asked), for its master
/// keys and for operators (every tenant, or one), a page at a time.
public struct UsageReportService: Sendable {
    let store: any UsageReportStore
    let authenticator: KeyAuthenticator
    let flusher: UsageFlusher
    let time: any TimeSource

    public init(store: any UsageReportStore, authenticator: KeyAuthenticator, flusher: UsageFlusher, time: any TimeSource) {
        self.store = store
        self.authenticator = authenticator
        self.flusher = flusher
        self.time = time
    }

    /// One page of the report `request` asks for, as `caller` may see it: needs `usage:read`; a
    /// tenant's key sees its own tenant only (naming another is 403 `TENANT_MISMATCH`); an operator
    /// sees every tenant, or the one `tenant_id` or `X-Tenant-ID` names. What this instance has
    /// counted but not yet written is written first, so the report includes it; other instances'
    /// counts arrive within their flush interval.
    public func report(_ request: UsageReportRequest, by caller: Principal) async throws -> UsageReport {
        try caller.require(.usageRead)
        let scope = try await tenantScope(named: request.tenantID, by: caller)
        var query = try request.query(at: time.now(), tenantID: scope)
        let limit = query.limit
        query.limit = limit + 1
        // A failed flush keeps its counts in memory for the next one; the report then lags by them.
        await flusher.flush()
        let fetched = try await storageCall { try await store.usageReport(query) }
        query.limit = limit
        guard fetched.count > limit else { return UsageReport(query: query, rows: fetched, nextCursor: nil) }
        let rows = Array(fetched.prefix(limit))
        return UsageReport(
            query: query, rows: rows, nextCursor: UsageReportCursor(query: query, position: rows[limit - 1].position).token)
    }

    /// The one tenant the report covers, or nil for every tenant (an operator naming none).
    func tenantScope(named requested: String?, by caller: Principal) async throws -> String? {
        let named = requested.flatMap { $0.isEmpty ? nil : $0 }
        guard caller.isOperator else {
            if let named, named != caller.key.tenantID { throw CoordinatorError.tenantMismatch }
            return caller.key.tenantID
        }
        guard let named else { return caller.actingTenantID }
        if let acting = caller.actingTenantID, acting != named {
            throw CoordinatorError.invalidField("tenant_id", "tenant_id and X-Tenant-ID name different tenants")
        }
        guard UsageReportCursor.isPlausibleID(named), try await authenticator.tenant(id: named) != nil else {
            throw CoordinatorError.notFound(.tenantNotFound, "No such tenant")
        }
        return named
    }
}
