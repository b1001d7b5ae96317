import AITBCWire
import Foundation

extension UsageReport {
    /// The rows in their wire form, each with its bucket's end.
    public var rowViews: [UsageReportRowView] {
        let size = query.granularity.seconds
        return rows.map { row in
            UsageReportRowView(
                start: Date(timeIntervalSince1970: TimeInterval(row.bucket)),
                end: Date(timeIntervalSince1970: TimeInterval(row.bucket + size)), tenantID: row.tenantID, keyID: row.keyID,
                admitted: row.counts.admitted, rateLimited: row.counts.rateLimited, errors: row.counts.errors)
        }
    }

    /// The JSON page: rows, next cursor, and the range covered.
    public var page: UsageReportPage {
        UsageReportPage(
            items: rowViews, nextCursor: nextCursor, from: Date(timeIntervalSince1970: TimeInterval(query.from)),
            to: Date(timeIntervalSince1970: TimeInterval(query.to)), granularity: query.granularity.rawValue)
    }

    /// `usage-<tenant or all>-<granularity>-<from>-<to>.csv`, with only characters safe in a file name
    /// (and in a quoted `Content-Disposition` parameter).
    public var csvFileName: String {
        func stamp(_ seconds: Int64) -> String {
            RFC3339.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))).filter { $0 != "-" && $0 != ":" }
        }
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)
        let tenant = String(
            String.UnicodeScalarView((query.tenantID ?? "all").unicodeScalars.prefix(64).map { safe.contains($0) ? $0 : "_" }))
        return "usage-\(tenant)-\(query.granularity.rawValue)-\(stamp(query.from))-\(stamp(query.to)).csv"
    }
}
