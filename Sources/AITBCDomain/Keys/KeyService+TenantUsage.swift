extension KeyService {
    /// Most keys a tenant's usage lists (newest first); the per-minute totals count every key.
    public static let tenantUsageKeyLimit = 2000

    /// The caller's tenant's usage over the last 24 hours, with counts not yet written to storage: its keys
    /// with their totals and all keys together per minute, from one storage read however many keys it has.
    public func tenantUsage(by caller: Principal, keyLimit: Int = tenantUsageKeyLimit) async throws -> TenantUsage {
        try caller.require(.keysRead)
        try caller.require(.usageRead)
        guard let tenantID = caller.actingTenantID else {
            throw CoordinatorError.invalidField("X-Tenant-ID", "Name the tenant whose usage to read")
        }
        let since = Int64(time.now().timeIntervalSince1970) / 60 * 60 - 24 * 3600
        let store = self.store, usage = self.usage
        // Read under the flush gate: a batch is then either in storage or in memory, never both or neither.
        let (stored, unwritten) = try await usage.flushes.run {
            let stored = try await storageCall {
                try await store.usage(tenantID: tenantID, sinceMinute: since, keyLimit: keyLimit)
            }
            return (stored, usage.unwritten(keyIDs: Set(stored.keys.map(\.record.id))))
        }
        var minutes: [Int64: UsageCounts] = [:]
        for entry in stored.minutes { minutes[entry.minute, default: UsageCounts()] += entry.counts }
        var keys = stored.keys
        for index in keys.indices {
            for (minute, counts) in unwritten[keys[index].record.id] ?? [:] where minute >= since {
                keys[index].counts += counts
                minutes[minute, default: UsageCounts()] += counts
            }
        }
        return TenantUsage(
            keys: keys, minutes: minutes.sorted { $0.key < $1.key }.map { (minute: $0.key, counts: $0.value) })
    }
}
