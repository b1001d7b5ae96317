/// Whether storage answers now, for `/ready`.
public protocol StorageHealth: Sendable {
    /// Whether the store answers now.
    func isHealthy() async -> Bool
}

/// Everything the coordinator keeps, behind one handle: the store a backend opens. Services take
/// only the aggregates' protocols they use (``KeyStore``, ``TenantStore``, ``JobStore``, …).
public protocol CoordinatorStore: KeyStore, TenantStore, UsageStore, AuditStore, JobStore, MinerStore, AccountStore, MeterStore,
    RetentionStore, ReceiptKeyStore, WebhookStore, StorageHealth, UsageReportStore
{
    /// Operations so far and the time they took.
    var statistics: StorageStatistics { get }
    /// Jobs of all tenants by state.
    func jobCountsByState() async throws -> [JobState: Int]
    /// Flushes and closes the store.
    func close() async throws
}
