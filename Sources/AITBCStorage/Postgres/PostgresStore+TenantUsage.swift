import AITBCDomain
import PostgresNIO

extension PostgresStore {
    public func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage {
        guard Self.isStorable(tenantID) else { return TenantUsage(keys: [], minutes: []) }
        let since = Int(sinceMinute), limit = max(0, keyLimit)
        let (keyRows, minuteRows) = try await read { session in
            let keys = try await session.rows(
                """
                WITH totals AS (
                    SELECT key_id, SUM(admitted)::bigint AS used_admitted, SUM(rate_limited)::bigint AS used_rate_limited,
                    SUM(errors)::bigint AS used_errors FROM key_usage
                    WHERE minute >= \(since) AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = \(tenantID))
                    GROUP BY key_id
                )
                SELECT \(unescaped: Self.keyColumns), used_admitted, used_rate_limited, used_errors
                FROM api_keys LEFT JOIN totals ON totals.key_id = api_keys.id
                WHERE tenant_id = \(tenantID) ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """)
            let minutes = try await session.rows(
                """
                SELECT minute, SUM(admitted)::bigint AS admitted, SUM(rate_limited)::bigint AS rate_limited,
                SUM(errors)::bigint AS errors FROM key_usage
                WHERE minute >= \(since) AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = \(tenantID))
                GROUP BY minute ORDER BY minute
                """)
            return (keys, minutes)
        }
        let keys = try keyRows.compactMap { row -> TenantUsage.KeyTotal? in
            guard let record = try Self.key(from: row) else { return nil }
            let columns = PostgresRecord(row)
            return TenantUsage.KeyTotal(
                record: record,
                counts: UsageCounts(
                    admitted: try columns("used_admitted", as: Int?.self) ?? 0,
                    rateLimited: try columns("used_rate_limited", as: Int?.self) ?? 0,
                    errors: try columns("used_errors", as: Int?.self) ?? 0))
        }
        let minutes = try minuteRows.map { row in
            let columns = PostgresRecord(row)
            return (
                minute: Int64(try columns("minute", as: Int.self)),
                counts: UsageCounts(
                    admitted: try columns("admitted"), rateLimited: try columns("rate_limited"), errors: try columns("errors"))
            )
        }
        return TenantUsage(keys: keys, minutes: minutes)
    }
}
