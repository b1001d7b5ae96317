import AITBCWire
import Foundation

/// A usage report's parameters as the caller sent them (`from`, `to`, `granularity`, `group_by`,
/// `tenant_id`, `limit`, `cursor`), all optional text; ``UsageReportService`` checks them.
public struct UsageReportRequest: Sendable, Equatable {
    public var from: String?
    public var to: String?
    public var granularity: String?
    public var groupBy: String?
    public var tenantID: String?
    public var limit: String?
    public var cursor: String?

    /// Rows per page unless `limit` says otherwise, and the most it may say.
    public static let defaultLimit = 100
    public static let maximumLimit = 1000

    public init(
        from: String? = nil, to: String? = nil, granularity: String? = nil, groupBy: String? = nil,
        tenantID: String? = nil, limit: String? = nil, cursor: String? = nil
    ) {
        self.from = from
        self.to = to
        self.granularity = granularity
        self.groupBy = groupBy
        self.tenantID = tenantID
        self.limit = limit
        self.cursor = cursor
    }

    /// The storage query these parameters ask for at `now`, scoped to `tenantID` (nil: every tenant);
    /// 400 `INVALID_REQUEST` naming the field for anything out of shape. `from` is widened down and
    /// `to` up to whole buckets; without them the report ends with the bucket holding `now` and
    /// spans the granularity's default range, or with a cursor the range of the report it came from.
    /// A cursor must continue the same query.
    public func query(at now: Date, tenantID scope: String?) throws -> UsageReportQuery {
        let cursor = try self.cursor.flatMap { raw -> UsageReportCursor? in
            guard !raw.isEmpty else { return nil }
            guard let cursor = UsageReportCursor(token: raw) else {
                throw CoordinatorError.invalidField("cursor", "cursor is not one this server issued")
            }
            return cursor
        }
        guard let granularity = resolvedGranularity(or: cursor?.granularity) else {
            throw CoordinatorError.invalidField("granularity", "granularity must be hour or day")
        }
        let byKey: Bool
        switch groupBy {
        case nil, "": byKey = cursor?.byKey ?? false
        case "tenant": byKey = false
        case "key": byKey = true
        default: throw CoordinatorError.invalidField("group_by", "group_by must be key or tenant")
        }
        let rawFrom = try Self.seconds(from, field: "from")
        let rawTo = try Self.seconds(to, field: "to")
        if let rawFrom, let rawTo, rawTo <= rawFrom {
            throw CoordinatorError.invalidField("to", "to must be later than from")
        }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        var end = rawTo.map(granularity.ceiling) ?? granularity.floor(nowSeconds) + granularity.seconds
        var start = granularity.floor(rawFrom ?? end - granularity.defaultRangeSeconds)
        // With a cursor, a bound the caller leaves out is the cursor's report's: "until now" was fixed
        // when the first page was read, and a later page (past the turn of an hour, say) continues
        // it. A cursor sent alone continues its own report's range (checked when the cursor was read).
        let continuing = cursor != nil && from == nil && to == nil
        if let cursor {
            if rawTo == nil { end = cursor.to }
            if rawFrom == nil { start = cursor.from }
        }
        guard start < end else {
            throw CoordinatorError.invalidField("from", "from must be earlier than to (by default, now)")
        }
        guard continuing || (rawTo ?? end) - (rawFrom ?? start) <= granularity.maximumRangeSeconds else {
            throw CoordinatorError.invalidField(
                from == nil ? "to" : "from",
                "A report by \(granularity.rawValue) spans at most \(granularity.maximumRangeSeconds / 86400) days")
        }
        var query = UsageReportQuery(
            granularity: granularity, from: start, to: end, tenantID: scope, byKey: byKey, limit: try pageLimit())
        if let cursor {
            guard cursor.continues(query) else {
                throw CoordinatorError.invalidField("cursor", "cursor belongs to a different report; send the same parameters")
            }
            query.after = cursor.position
        }
        return query
    }

    private func resolvedGranularity(or fallback: UsageGranularity?) -> UsageGranularity? {
        guard let granularity, !granularity.isEmpty else { return fallback ?? .hour }
        return UsageGranularity(rawValue: granularity)
    }

    private func pageLimit() throws -> Int {
        guard let limit else { return Self.defaultLimit }
        guard let value = Int(limit), (1...Self.maximumLimit).contains(value) else {
            throw CoordinatorError.invalidField("limit", "limit must be an integer 1 … \(Self.maximumLimit)")
        }
        return value
    }

    /// Whole Unix seconds of an RFC 3339 timestamp (fractions dropped), nil when absent.
    private static func seconds(_ text: String?, field: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let date = RFC3339.date(from: text), date.timeIntervalSince1970.magnitude < 253_402_300_800 else {
            throw CoordinatorError.invalidField(field, "\(field) must be an RFC 3339 time such as 2026-11-23T14:00:00Z")
        }
        return Int64(date.timeIntervalSince1970.rounded(.down))
    }
}
