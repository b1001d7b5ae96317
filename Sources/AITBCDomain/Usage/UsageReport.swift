/// One page of a usage report: the query it answers (with its widened range), its rows, and the
/// cursor of the next page when there is one.
public struct UsageReport: Sendable, Equatable {
    public var query: UsageReportQuery
    public var rows: [UsageReportRow]
    /// The token of the page after this one, or nil on the last page.
    public var nextCursor: String?

    public init(query: UsageReportQuery, rows: [UsageReportRow], nextCursor: String?) {
        self.query = query
        self.rows = rows
        self.nextCursor = nextCursor
    }
}
