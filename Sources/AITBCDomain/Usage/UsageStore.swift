/// Storage of usage counters, written in batches.
public protocol UsageStore: Sendable {
    /// Adds a batch of counts and last uses in one transaction.
    func addUsage(_ batch: UsageBatch) async throws
    /// Counts of `keyID` from `sinceMinute` (Unix seconds) on, oldest first: per minute, and per hour
    /// (at the hour's start) for hours beginning then or later whose minutes were rolled up (see
    /// ``RetentionStore/rollUpUsageMinutes(before:limit:)``). An hour may have both, when a minute
    /// arrived after the roll-up; their sum is the hour's total.
    func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)]
    /// In one read: the newest `keyLimit` keys of `tenantID` with their totals from `sinceMinute` on, and
    /// the per-minute counts of all its keys together (a page whose cost does not grow with its keys).
    func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage
}
