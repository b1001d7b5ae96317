import Foundation

/// One row of `GET /v1/usage`: a tenant's (or, grouped by key, one key's) counts in one bucket.
public struct UsageReportRowView: Codable, Sendable, Equatable {
    public var start: Date
    public var end: Date
    public var tenantID: String
    /// Present when the report is grouped by key.
    public var keyID: String?
    public var admitted: Int
    public var rateLimited: Int
    public var errors: Int

    public init(
        start: Date, end: Date, tenantID: String, keyID: String?, admitted: Int, rateLimited: Int, errors: Int
    ) {
        self.start = start
        self.end = end
        self.tenantID = tenantID
        self.keyID = keyID
        self.admitted = admitted
        self.rateLimited = rateLimited
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case start, end, admitted, errors
        case tenantID = "tenant_id"
        case keyID = "key_id"
        case rateLimited = "rate_limited"
    }
}

/// `GET /v1/usage` as JSON: one page of rows, the cursor of the next, and the report's range.
public struct UsageReportPage: Codable, Sendable, Equatable {
    public var items: [UsageReportRowView]
    /// Pass as `?cursor=` for the next page; null on the last page.
    public var nextCursor: String?
    public var hasMore: Bool
    /// The range reported, widened to whole buckets: `from` inclusive, `to` exclusive.
    public var from: Date
    public var to: Date
    /// `hour` or `day`.
    public var granularity: String

    public init(items: [UsageReportRowView], nextCursor: String?, from: Date, to: Date, granularity: String) {
        self.items = items
        self.nextCursor = nextCursor
        self.hasMore = nextCursor != nil
        self.from = from
        self.to = to
        self.granularity = granularity
    }

    enum CodingKeys: String, CodingKey {
        case items, from, to, granularity
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encode(hasMore, forKey: .hasMore)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(granularity, forKey: .granularity)
    }
}
