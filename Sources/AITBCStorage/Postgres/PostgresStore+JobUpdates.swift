import AITBCDomain
import Foundation
import PostgresNIO

/// Job compare-and-sets (assignment, start, result, expiry) of many jobs share one statement: an
/// update waits while the previous statement is in flight, then the next one takes every update
/// waiting (at most ``maximumJobUpdateBatch``, one per job) into a single
/// `UPDATE … FROM jsonb_to_recordset(…) RETURNING id`, one round trip and one commit, and each caller
/// learns whether its update won once that statement (its own transaction) has committed.
///
/// Each row keeps its own condition (its expected states and attempt), decided under the row's
/// lock exactly as a single-row update would be, so concurrent instances still decide each job once.
/// A statement the database refuses (e.g. text it cannot store) applied nothing: each update is
/// then tried alone, so one bad update fails only its caller. Any other failure (the connection lost)
/// fails every caller of the statement, which may or may not have committed, as a single update would.
/// Once queued, an update is sent even if its caller's task is cancelled.
extension PostgresStore {
    /// The most updates one statement takes.
    static let maximumJobUpdateBatch = 256

    public func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool {
        let row = PostgresJobUpdate.Row(job, expected: expected, attempt: attempt, event: webhookOutbox.event(for: job))
        return try await database.timed {
            try await withCheckedThrowingContinuation { caller in
                if jobUpdates.withLock({ $0.enqueue(PostgresJobUpdate(row: row, caller: caller)) }) {
                    Task { await self.drainJobUpdates() }
                }
            }
        }
    }

    /// Statements the job updates took so far.
    var jobUpdateStatements: Int { jobUpdates.withLock { $0.statements } }

    /// Sends statements until no update waits.
    private func drainJobUpdates() async {
        repeat {
            let batch = jobUpdates.withLock { $0.take(atMost: Self.maximumJobUpdateBatch) }
            await apply(batch)
        } while !jobUpdates.withLock({ $0.finishIfEmpty() })
    }

    /// Sends `batch` as one statement and answers each caller.
    private func apply(_ batch: [PostgresJobUpdate]) async {
        guard !batch.isEmpty else { return }
        do {
            let won = try await Self.applied(batch.map(\.row), on: database)
            if batch.contains(where: { $0.row.eventID != nil && won.contains($0.row.id) }) { webhookOutbox.eventWritten() }
            for update in batch { update.caller.resume(returning: won.contains(update.row.id)) }
        } catch where batch.count > 1 && PostgresFailure.isStatementError(error) {
            for update in batch { await apply([update]) }
        } catch {
            for update in batch { update.caller.resume(throwing: error) }
        }
    }

    /// Applies `rows` in one statement; returns the ids of the jobs whose condition held.
    private static func applied(_ rows: [PostgresJobUpdate.Row], on database: PostgresDatabase) async throws -> Set<String> {
        let document = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        if rows.contains(where: { $0.eventID != nil }) { return try await appliedWithEvents(document, on: database) }
        return try await database.withSession { session in
            Set(
                try await session.rows(
                    """
                    UPDATE jobs SET state = u.state, assigned_miner_id = u.assigned_miner_id,
                    started_at = TIMESTAMPTZ 'epoch' + u.started_at * INTERVAL '1 millisecond',
                    finished_at = TIMESTAMPTZ 'epoch' + u.finished_at * INTERVAL '1 millisecond',
                    result = u.result, receipt = u.receipt, error_code = u.error_code, error_message = u.error_message,
                    metrics = u.metrics, attempts = u.attempts
                    FROM jsonb_to_recordset(\(document)::jsonb) AS u(
                        id text, state text, assigned_miner_id text, started_at bigint, finished_at bigint, result text,
                        receipt text, error_code text, error_message text, metrics text, attempts bigint, expected text,
                        attempt bigint)
                    WHERE jobs.id = u.id AND jobs.state = ANY(string_to_array(u.expected, ','))
                    AND (u.attempt IS NULL OR jobs.attempts = u.attempt)
                    RETURNING jobs.id
                    """
                ).map { try $0.decode(String.self) })
        }
    }
}
