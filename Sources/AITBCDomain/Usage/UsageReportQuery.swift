/// What storage is asked for one page of a usage report: counts summed per bucket and tenant (and
/// key), minutes and rolled-up hours together, in (bucket, tenant, key) order.
public struct UsageReportQuery: Sendable, Equatable {
    public var granularity: UsageGranularity
    /// First second counted, a bucket boundary (inclusive).
    public var from: Int64
    /// First second not counted, a bucket boundary (exclusive).
    public var to: Int64
    /// The one tenant to report on, or nil for every tenant (an operator's report).
    public var tenantID: String?
    /// One row per key per bucket instead of one per tenant per bucket.
    public var byKey: Bool
    /// Rows strictly after this position only.
    public var after: UsageReportPosition?
    /// Most rows to return.
    public var limit: Int

    public init(
        granularity: UsageGranularity, from: Int64, to: Int64, tenantID: String?, byKey: Bool,
        after: UsageReportPosition? = nil, limit: Int
    ) {
        self.granularity = granularity
        self.from = from
        self.to = to
        self.tenantID = tenantID
        self.byKey = byKey
        self.after = after
        self.limit = limit
    }

    /// The first second a page needs to read: nothing before the cursor's bucket can follow it.
    public var scanFrom: Int64 { max(from, after?.bucket ?? from) }
}
