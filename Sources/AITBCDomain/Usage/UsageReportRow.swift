/// One row of a usage report: a tenant's (or one of its keys') counts in one bucket.
public struct UsageReportRow: Sendable, Equatable {
    /// The bucket's start, Unix seconds.
    public var bucket: Int64
    public var tenantID: String
    /// The key, when the report is grouped by key.
    public var keyID: String?
    public var counts: UsageCounts

    public init(bucket: Int64, tenantID: String, keyID: String? = nil, counts: UsageCounts) {
        self.bucket = bucket
        self.tenantID = tenantID
        self.keyID = keyID
        self.counts = counts
    }

    /// Where this row sits in the report's order (bucket, tenant, key).
    public var position: UsageReportPosition {
        UsageReportPosition(bucket: bucket, tenantID: tenantID, keyID: keyID)
    }
}

/// A place in a report's order, after which the next page starts: bucket, then tenant, then key.
public struct UsageReportPosition: Sendable, Hashable, Codable {
    public var bucket: Int64
    public var tenantID: String
    /// Present exactly when the report is grouped by key.
    public var keyID: String?

    public init(bucket: Int64, tenantID: String, keyID: String? = nil) {
        self.bucket = bucket
        self.tenantID = tenantID
        self.keyID = keyID
    }
}
