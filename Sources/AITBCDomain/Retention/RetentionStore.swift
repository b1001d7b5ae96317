import Foundation

/// Deletion of what is past its age, one bounded batch per call (a statement never touches more
/// than `limit` rows), and safe while other instances do the same on the same store: a batch takes
/// only rows nobody else holds, so two instances never wait on, nor count twice, the same row.
public protocol RetentionStore: Sendable {
    /// Deletes up to `limit` jobs in a final state (COMPLETED, FAILED, CANCELED, EXPIRED) that finished
    /// before `cutoff`, payload, result and receipt with them; returns how many. Queued and running
    /// jobs are never touched.
    func deleteFinishedJobs(finishedBefore cutoff: Date, limit: Int) async throws -> Int
    /// Deletes up to `limit` idempotency keys first used before `cutoff`; returns how many.
    func deleteIdempotencyKeys(usedBefore cutoff: Date, limit: Int) async throws -> Int
    /// Moves up to `limit` per-minute usage rows of minutes before `cutoffMinute` (Unix seconds) into
    /// per-hour rows, adding their counts to what the hour holds, in one transaction: the totals are
    /// the same before and after. Returns how many minute rows went.
    func rollUpUsageMinutes(before cutoffMinute: Int64, limit: Int) async throws -> Int
    /// Deletes up to `limit` per-hour usage rows of hours that began before `cutoffHour` (Unix seconds).
    func deleteUsageHours(before cutoffHour: Int64, limit: Int) async throws -> Int
    /// Deletes up to `limit` dashboard sessions expired by `now`; returns how many.
    func deleteExpiredSessions(at now: Date, limit: Int) async throws -> Int
    /// Deletes up to `limit` audit events recorded before `cutoff`; returns how many.
    func deleteAuditEvents(recordedBefore cutoff: Date, limit: Int) async throws -> Int
    /// Deletes up to `limit` webhook deliveries that are no longer pending (delivered, or given up)
    /// of events created before `cutoff` and neither delivered nor attempted since (a redelivery
    /// makes its log young again, whether it succeeds or fails); returns how many. A pending
    /// delivery is never touched.
    func deleteFinishedWebhookDeliveries(createdBefore cutoff: Date, limit: Int) async throws -> Int
    /// Deletes up to `limit` webhook events created before `cutoff` that have no delivery left (so
    /// none pending); returns how many.
    func deleteWebhookEvents(createdBefore cutoff: Date, limit: Int) async throws -> Int
}
