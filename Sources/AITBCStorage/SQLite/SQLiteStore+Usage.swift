import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    public func addUsage(_ batch: UsageBatch) async throws {
        try await transaction { connection in
            for (bucket, counts) in batch.counts {
                _ = try connection.query(
                    """
                    INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(key_id, minute) DO UPDATE SET admitted = admitted + excluded.admitted,
                    rate_limited = rate_limited + excluded.rate_limited, errors = errors + excluded.errors
                    """,
                    [.text(bucket.keyID), .integer(Int(bucket.minute)), .integer(counts.admitted),
                     .integer(counts.rateLimited), .integer(counts.errors)])
            }
            for (keyID, use) in batch.lastUses {
                let at = Int(use.at.unixMilliseconds)
                _ = try connection.query(
                    """
                    UPDATE api_keys SET last_used_at = ?, last_used_from = ?
                    WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)
                    """,
                    [.integer(at), use.from.map { .text($0) } ?? .null, .text(keyID), .integer(at)])
            }
        }
    }

    public func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] {
        let rows = try await read { connection in
            try connection.query(
                """
                SELECT minute, admitted, rate_limited, errors FROM key_usage WHERE key_id = ? AND minute >= ?
                UNION ALL
                SELECT hour, admitted, rate_limited, errors FROM key_usage_hours WHERE key_id = ? AND hour >= ?
                ORDER BY 1
                """,
                [.text(keyID), .integer(Int(sinceMinute)), .text(keyID), .integer(Int(sinceMinute))])
        }
        return rows.map { row in
            (
                minute: Int64(row.column("minute")?.integer ?? 0),
                counts: UsageCounts(
                    admitted: row.column("admitted")?.integer ?? 0, rateLimited: row.column("rate_limited")?.integer ?? 0,
                    errors: row.column("errors")?.integer ?? 0)
            )
        }
    }

    public func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage {
        let since = SQLiteData.integer(Int(sinceMinute)), tenant = SQLiteData.text(tenantID)
        let (keyRows, minuteRows) = try await read { connection in
            let keys = try connection.query(
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
            let minutes = try connection.query(
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
