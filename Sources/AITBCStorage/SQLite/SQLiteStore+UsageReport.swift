import AITBCDomain
import SQLiteNIO

extension SQLiteStore {
    public func usageReport(_ query: UsageReportQuery) async throws -> [UsageReportRow] {
        let sql = UsageReportSQL(query, placeholder: { "?\($0)" })
        let binds: [SQLiteData] = sql.binds.map {
            switch $0 {
            case .integer(let value): .integer(Int(value))
            case .text(let value): .text(value)
            }
        }
        let rows = try await read { connection in try connection.query(sql.text, binds) }
        return rows.map { row in
            UsageReportRow(
                bucket: Int64(row.column("bucket")?.integer ?? 0), tenantID: row.column("tenant_id")?.string ?? "",
                keyID: query.byKey ? row.column("key_id")?.string : nil,
                counts: UsageCounts(
                    admitted: row.column("admitted")?.integer ?? 0, rateLimited: row.column("rate_limited")?.integer ?? 0,
                    errors: row.column("errors")?.integer ?? 0))
        }
    }
}
