/// Storage of the usage reports: sums of the stored counts per bucket, in SQL.
public protocol UsageReportStore: Sendable {
    /// One page of `query`: rows in (bucket, tenant, key) order after `query.after`, at most
    /// `query.limit`, each summing the bucket's minutes and rolled-up hours once; buckets without
    /// traffic have no row. A key's usage counts toward the tenant the key belongs to.
    func usageReport(_ query: UsageReportQuery) async throws -> [UsageReportRow]
}
