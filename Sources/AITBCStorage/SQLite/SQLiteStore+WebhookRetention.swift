import AITBCDomain
import Foundation
import SQLiteNIO

/// Retention of webhook deliveries and events on SQLite, in bounded batches like the other kinds.
extension SQLiteStore {
    public func deleteFinishedWebhookDeliveries(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        let cutoff = Int(cutoff.unixMilliseconds)
        return try await deleteBatch(
            """
            DELETE FROM webhook_deliveries WHERE rowid IN (
                SELECT rowid FROM webhook_deliveries WHERE created_at < ? AND status IN ('delivered', 'failed')
                AND (delivered_at IS NULL OR delivered_at < ?) AND (last_attempt_at IS NULL OR last_attempt_at < ?) LIMIT ?)
            """,
            [.integer(cutoff), .integer(cutoff), .integer(cutoff), .integer(limit)])
    }

    public func deleteWebhookEvents(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await deleteBatch(
            """
            DELETE FROM webhook_events WHERE rowid IN (
                SELECT rowid FROM webhook_events AS e WHERE e.created_at < ?
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d WHERE d.event_id = e.id) LIMIT ?)
            """,
            [.integer(Int(cutoff.unixMilliseconds)), .integer(limit)])
    }
}
