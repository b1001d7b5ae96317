import AITBCDomain
import SQLiteNIO

extension SQLiteStore {
    public func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage {
        let since = SQLiteData.integer(Int(sinceMinute)), tenant = SQLiteData.text(tenantID)
        let (keyRows, minuteRows) = try await read { connection in
            let keys = try await connection.query(
                """
                WITH totals AS (
                    SELECT key_id, SUM(admitted) AS used_admitted, SUM(rate_limited) AS used_rate_limited,
                    SUM(errors) AS used_errors FROM key_usage
                    WHERE minute >= ? AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = ?) GROUP BY key_id
                )
                SELECT \(Self.keyColumns), used_admitted, used_rate_limited, used_errors
                FROM api_keys LEFT JOIN totals ON totals.key_id = api_keys.id
                WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?
                """,
                [since, tenant, tenant, .integer(max(0, keyLimit))])
            let minutes = try await connection.query(
                """
                SELECT minute, SUM(admitted) AS admitted, SUM(rate_limited) AS rate_limited, SUM(errors) AS errors
                FROM key_usage WHERE minute >= ? AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = ?)
                GROUP BY minute ORDER BY minute
                """,
                [since, tenant])
            return (keys, minutes)
        }
        let keys = keyRows.compactMap { row -> TenantUsage.KeyTotal? in
            guard let record = Self.key(from: row) else { return nil }
            return TenantUsage.KeyTotal(
                record: record,
                counts: UsageCounts(
                    admitted: row.column("used_admitted")?.integer ?? 0,
                    rateLimited: row.column("used_rate_limited")?.integer ?? 0,
                    errors: row.column("used_errors")?.integer ?? 0))
        }
        let minutes = minuteRows.map { row in
            (
                minute: Int64(row.column("minute")?.integer ?? 0),
                counts: UsageCounts(
                    admitted: row.column("admitted")?.integer ?? 0, rateLimited: row.column("rate_limited")?.integer ?? 0,
                    errors: row.column("errors")?.integer ?? 0)
            )
        }
        return TenantUsage(keys: keys, minutes: minutes)
    }
}
