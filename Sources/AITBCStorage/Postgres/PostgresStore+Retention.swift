import AITBCDomain
import Foundation
import PostgresNIO

/// Retention on PostgreSQL, safe on every instance at once: each batch is one statement that locks
/// at most `limit` rows it finds unlocked (`FOR UPDATE SKIP LOCKED`) and deletes exactly those, by
/// their physical address (`ctid`). Two instances therefore take disjoint batches and never wait on
/// each other, nor on a request that holds a row; a row a request holds is left for the next pass.
extension PostgresStore {
    public func deleteFinishedJobs(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            from: "jobs", where: "state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED') AND finished_at <",
            PostgresInstant(cutoff), limit: limit)
    }

    public func deleteIdempotencyKeys(usedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(from: "idempotency_keys", where: "created_at <", PostgresInstant(cutoff), limit: limit)
    }

    public func rollUpUsageMinutes(before cutoffMinute: Int64, limit: Int) async throws -> Int {
        // One statement: the minutes it deletes are the minutes it adds to their hours. Hours are
        // written in key order, so two instances rolling up at once wait for each other's hour rows
        // rather than deadlock; minute rows a flush holds are skipped, and the flush's own upsert
        // recreates a row deleted under it, which the next pass rolls up.
        try await count(
            """
            WITH gone AS (
                DELETE FROM key_usage WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM key_usage WHERE minute < \(Int(cutoffMinute))
                    ORDER BY minute LIMIT \(limit) FOR UPDATE SKIP LOCKED))
                RETURNING key_id, minute, admitted, rate_limited, errors
            ), rolled AS (
                INSERT INTO key_usage_hours (key_id, hour, admitted, rate_limited, errors)
                SELECT key_id, minute / 3600 * 3600, sum(admitted)::BIGINT, sum(rate_limited)::BIGINT, sum(errors)::BIGINT
                FROM gone GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT (key_id, hour) DO UPDATE SET admitted = key_usage_hours.admitted + excluded.admitted,
                rate_limited = key_usage_hours.rate_limited + excluded.rate_limited,
                errors = key_usage_hours.errors + excluded.errors
                RETURNING 1)
            SELECT count(*)::BIGINT FROM gone
            """)
    }

    public func deleteUsageHours(before cutoffHour: Int64, limit: Int) async throws -> Int {
        try await deleteBatch(from: "key_usage_hours", where: "hour <", Int(cutoffHour), limit: limit)
    }

    public func deleteExpiredSessions(at now: Date, limit: Int) async throws -> Int {
        try await deleteBatch(from: "dashboard_sessions", where: "expires_at <=", PostgresInstant(now), limit: limit)
    }

    public func deleteAuditEvents(recordedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(from: "audit_events", where: "created_at <", PostgresInstant(cutoff), limit: limit)
    }

    /// Deletes at most `limit` rows of `table` whose condition (`condition` followed by `value`, e.g.
    /// `"created_at <"` and a cutoff) holds and that no one else holds; answers how many it deleted.
    func deleteBatch(
        from table: String, where condition: String, _ value: some PostgresEncodable & Sendable, limit: Int
    ) async throws -> Int {
        try await count(
            """
            WITH gone AS (
                DELETE FROM \(unescaped: table) WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM \(unescaped: table) WHERE \(unescaped: condition) \(value)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED))
                RETURNING 1)
            SELECT count(*)::BIGINT FROM gone
            """)
    }

    /// Runs one batch statement that answers with the number of rows it took.
    func count(_ query: PostgresQuery) async throws -> Int {
        try await read { session in try await session.rows(query).first.map { try $0.decode(Int.self) } ?? 0 }
    }
}
