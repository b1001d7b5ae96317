import AITBCDomain
import Foundation
import PostgresNIO

/// Retention of webhook deliveries and events on PostgreSQL: each batch locks only rows no one else
/// holds (`SKIP LOCKED`), so instances sweeping at once, and the deliverer, never wait on each other.
extension PostgresStore {
    public func deleteFinishedWebhookDeliveries(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        let cutoff = PostgresInstant(cutoff)
        return try await count(
            """
            WITH gone AS (
                DELETE FROM webhook_deliveries WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM webhook_deliveries WHERE created_at < \(cutoff) AND status IN ('delivered', 'failed')
                    AND (delivered_at IS NULL OR delivered_at < \(cutoff))
                    AND (last_attempt_at IS NULL OR last_attempt_at < \(cutoff))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED))
                RETURNING 1)
            SELECT count(*)::BIGINT FROM gone
            """)
    }

    public func deleteWebhookEvents(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await count(
            """
            WITH gone AS (
                DELETE FROM webhook_events WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM webhook_events AS e WHERE e.created_at < \(PostgresInstant(cutoff))
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d WHERE d.event_id = e.id)
                    LIMIT \(limit) FOR UPDATE OF e SKIP LOCKED))
                RETURNING 1)
            SELECT count(*)::BIGINT FROM gone
            """)
    }
}
