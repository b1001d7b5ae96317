import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    public func addUsage(_ batch: UsageBatch) async throws {
        // Rows are written in key order, so two instances flushing overlapping batches wait for
        // each other instead of deadlocking.
        let buckets = batch.counts.sorted { ($0.key.keyID, $0.key.minute) < ($1.key.keyID, $1.key.minute) }
        let uses = batch.lastUses.sorted { $0.key < $1.key }
        try await transaction { session in
            if !buckets.isEmpty {
                try await session.rows(
                    """
                    INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors)
                    SELECT * FROM unnest(\(buckets.map(\.key.keyID)), \(buckets.map { Int($0.key.minute) }),
                    \(buckets.map(\.value.admitted)), \(buckets.map(\.value.rateLimited)), \(buckets.map(\.value.errors)))
                    ORDER BY 1, 2
                    ON CONFLICT (key_id, minute) DO UPDATE SET admitted = key_usage.admitted + excluded.admitted,
                    rate_limited = key_usage.rate_limited + excluded.rate_limited, errors = key_usage.errors + excluded.errors
                    """)
            }
            if !uses.isEmpty {
                let ids = uses.map(\.key)
                try await session.rows("SELECT id FROM api_keys WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE")
                try await session.rows(
                    """
                    UPDATE api_keys SET last_used_at = used.at, last_used_from = CASE WHEN used.has_from THEN used.from_ END
                    FROM unnest(\(ids), \(uses.map { PostgresInstant($0.value.at) }), \(uses.map { $0.value.from ?? "" }),
                    \(uses.map { $0.value.from != nil })) AS used(id, at, from_, has_from)
                    WHERE api_keys.id = used.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at <= used.at)
                    """)
            }
        }
    }

    public func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] {
        guard Self.isStorable(keyID) else { return [] }
        let rows = try await read { session in
            try await session.rows(
                """
                SELECT minute, admitted, rate_limited, errors FROM key_usage
                WHERE key_id = \(keyID) AND minute >= \(Int(sinceMinute))
                UNION ALL
                SELECT hour, admitted, rate_limited, errors FROM key_usage_hours
                WHERE key_id = \(keyID) AND hour >= \(Int(sinceMinute))
                ORDER BY 1
                """)
        }
        return try rows.map { row in
            let record = PostgresRecord(row)
            return (
                minute: Int64(try record("minute", as: Int.self)),
                counts: UsageCounts(
                    admitted: try record("admitted"), rateLimited: try record("rate_limited"), errors: try record("errors"))
            )
        }
    }

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
