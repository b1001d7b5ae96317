import AITBCDomain
import Foundation
import SQLiteNIO

/// Retention on SQLite: each batch is one short transaction of at most `limit` rows, taken by their
/// row ids (SQLite has no `DELETE … LIMIT` in every build); the store's one connection is released
/// between batches, so requests queue behind a batch, never behind a whole pass.
extension SQLiteStore {
    public func deleteFinishedJobs(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            """
            DELETE FROM jobs WHERE rowid IN (
                SELECT rowid FROM jobs WHERE state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED') AND finished_at < ?
                LIMIT ?)
            """,
            [.integer(Int(cutoff.unixMilliseconds)), .integer(limit)])
    }

    public func deleteIdempotencyKeys(usedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)",
            [.integer(Int(cutoff.unixMilliseconds)), .integer(limit)])
    }

    public func rollUpUsageMinutes(before cutoffMinute: Int64, limit: Int) async throws -> Int {
        // The same rows (oldest first, in key order) are added to their hours and deleted, in one
        // transaction: no count is lost or counted twice.
        let batch = "SELECT key_id, minute FROM key_usage WHERE minute < ? ORDER BY minute, key_id LIMIT ?"
        let binds: [SQLiteData] = [.integer(Int(cutoffMinute)), .integer(limit)]
        return try await transaction { connection in
            _ = try connection.query(
                """
                INSERT INTO key_usage_hours (key_id, hour, admitted, rate_limited, errors)
                SELECT key_id, minute / 3600 * 3600, SUM(admitted), SUM(rate_limited), SUM(errors) FROM key_usage
                WHERE (key_id, minute) IN (\(batch))
                GROUP BY key_id, minute / 3600
                ON CONFLICT(key_id, hour) DO UPDATE SET admitted = admitted + excluded.admitted,
                rate_limited = rate_limited + excluded.rate_limited, errors = errors + excluded.errors
                """,
                binds)
            _ = try connection.query("DELETE FROM key_usage WHERE (key_id, minute) IN (\(batch))", binds)
            return try Self.changes(on: connection)
        }
    }

    public func deleteUsageHours(before cutoffHour: Int64, limit: Int) async throws -> Int {
        try await deleteBatch(
            """
            DELETE FROM key_usage_hours WHERE (key_id, hour) IN (
                SELECT key_id, hour FROM key_usage_hours WHERE hour < ? LIMIT ?)
            """,
            [.integer(Int(cutoffHour)), .integer(limit)])
    }

    public func deleteExpiredSessions(at now: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            "DELETE FROM dashboard_sessions WHERE rowid IN (SELECT rowid FROM dashboard_sessions WHERE expires_at <= ? LIMIT ?)",
            [.integer(Int(now.unixMilliseconds)), .integer(limit)])
    }

    public func deleteAuditEvents(recordedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            "DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE created_at < ? LIMIT ?)",
            [.integer(Int(cutoff.unixMilliseconds)), .integer(limit)])
    }

    /// Runs one bounded `DELETE` in its own transaction; returns how many rows it deleted.
    func deleteBatch(_ sql: String, _ binds: [SQLiteData]) async throws -> Int {
        try await transaction { connection in
            _ = try connection.query(sql, binds)
            return try Self.changes(on: connection)
        }
    }

    static func changes(on connection: SQLiteHandle) throws -> Int {
        try connection.query("SELECT changes() AS n").first?.column("n")?.integer ?? 0
    }
}
