import Foundation
import Logging
import ServiceLifecycle

/// The service that deletes what is past its age (see ``RetentionPolicy``): every `interval`, one
/// pass over finished jobs, idempotency keys, usage minutes (rolled into hours), usage hours,
/// expired dashboard sessions, audit events, and webhook deliveries and events no longer pending.
///
/// Each kind is deleted in batches of at most `batchSize` rows per statement, with a `pause` between
/// batches, so that no statement holds locks (or, on SQLite, the store's one connection) for long and
/// requests get their turn. Every instance may run it at once: a batch takes only rows no other
/// batch holds, and a deletion is harmless to repeat. Ages are measured on the injected wall clock,
/// as the stored times are; only the pacing is real time.
public struct RetentionJanitor: Service {
    let store: any RetentionStore
    let policy: RetentionPolicy
    let time: any TimeSource
    let interval: Duration
    let batchSize: Int
    let pause: Duration
    let logger: Logger

    /// Finished jobs are deleted fewer at a time: each may carry a payload and a result of a MiB or more.
    var jobBatchSize: Int { max(1, batchSize / 10) }

    public init(
        store: any RetentionStore, policy: RetentionPolicy, time: any TimeSource, interval: Duration,
        batchSize: Int = 1000, pause: Duration = .milliseconds(20), logger: Logger
    ) {
        self.store = store
        self.policy = policy
        self.time = time
        self.interval = interval
        self.batchSize = max(1, batchSize)
        self.pause = pause
        self.logger = logger
    }

    /// Sweeps every `interval` until graceful shutdown; a failed pass is logged and retried at the next.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            do {
                let swept = try await sweep()
                if !swept.isEmpty { logger.info("retention: deleted what is past its age", metadata: Self.metadata(swept)) }
            } catch {
                // The next pass picks up where this one stopped: every batch that committed stays done.
                logger.warning("retention pass failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One pass: each kind, batch after batch, until nothing of it is past its age (or shutdown begins).
    @discardableResult
    public func sweep() async throws -> RetentionSweep {
        let now = time.now()
        let store = self.store, policy = self.policy
        var swept = RetentionSweep()
        swept.finishedJobs = try await drain(jobBatchSize) {
            try await store.deleteFinishedJobs(finishedBefore: policy.finishedJobsCutoff(at: now), limit: $0)
        }
        swept.idempotencyKeys = try await drain(batchSize) {
            try await store.deleteIdempotencyKeys(usedBefore: policy.idempotencyCutoff(at: now), limit: $0)
        }
        swept.usageMinutesRolledUp = try await drain(batchSize) {
            try await store.rollUpUsageMinutes(before: policy.usageMinutesCutoff(at: now), limit: $0)
        }
        swept.usageHours = try await drain(batchSize) {
            try await store.deleteUsageHours(before: policy.usageHoursCutoff(at: now), limit: $0)
        }
        swept.sessions = try await drain(batchSize) { try await store.deleteExpiredSessions(at: now, limit: $0) }
        swept.auditEvents = try await drain(batchSize) {
            try await store.deleteAuditEvents(recordedBefore: policy.auditEventsCutoff(at: now), limit: $0)
        }
        // Deliveries first: an event goes only once none of its deliveries is left.
        let webhookCutoff = policy.webhookCutoff(at: now)
        swept.webhookDeliveries = try await drain(batchSize) {
            try await store.deleteFinishedWebhookDeliveries(createdBefore: webhookCutoff, limit: $0)
        }
        swept.webhookEvents = try await drain(batchSize) {
            try await store.deleteWebhookEvents(createdBefore: webhookCutoff, limit: $0)
        }
        return swept
    }

    /// Runs `batch` with `limit` until it takes less than a full batch; returns the rows it took.
    private func drain(_ limit: Int, _ batch: (Int) async throws -> Int) async throws -> Int {
        var total = 0
        while !Task.isShuttingDownGracefully {
            try Task.checkCancellation()
            let count = try await batch(limit)
            total += count
            guard count >= limit else { break }
            if pause > .zero { try await Task.sleep(for: pause) } else { await Task.yield() }
        }
        return total
    }

    static func metadata(_ swept: RetentionSweep) -> Logger.Metadata {
        [
            "finished_jobs": "\(swept.finishedJobs)", "idempotency_keys": "\(swept.idempotencyKeys)",
            "usage_minutes_rolled_up": "\(swept.usageMinutesRolledUp)", "usage_hours": "\(swept.usageHours)",
            "sessions": "\(swept.sessions)", "audit_events": "\(swept.auditEvents)",
            "webhook_deliveries": "\(swept.webhookDeliveries)", "webhook_events": "\(swept.webhookEvents)",
        ]
    }
}
