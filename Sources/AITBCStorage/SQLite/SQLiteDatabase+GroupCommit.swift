import SQLiteNIO

/// Group commit: every write is queued; one drain at a time takes the writes waiting (at most
/// ``maximumBatch``) and runs them in one `BEGIN IMMEDIATE … COMMIT`, so writes that arrive while a
/// commit is in flight share the next commit's `fsync` instead of each waiting for one of its own.
///
/// - A body that throws is rolled back alone and its caller gets its error; the others still commit.
///   The bodies first run one after another in the transaction with nothing between them (one
///   statement each way to SQLite per statement of theirs, no savepoints). Only when one of them throws
///   is the transaction rolled back and run again with each body in its own `SAVEPOINT` (bodies are
///   SQL alone, so running one again after a rollback is running it once).
/// - A caller is answered only after the `COMMIT` holding its write returned (`synchronous=FULL`):
///   if the `COMMIT`, a savepoint or `BEGIN` fails, every caller in the batch gets that failure and
///   nothing of the batch is kept. Nothing is acknowledged that is not durable.
/// - The whole batch runs behind the writer's gate. Reads of a file run on connections of their own
///   (``SQLiteReadConnections``), which see a transaction only once its `COMMIT` has synced; an
///   in-memory database's reads share the writer's gate. Either way reads never see a write that
///   is not committed.
/// - Once queued, a write runs and its caller waits for the outcome, even if the caller's task is
///   cancelled: the drain runs in a task of its own, so one caller's cancellation neither half-applies
///   its write nor fails the writes of others (a cancelled query would also leave the transaction open).
extension SQLiteDatabase {
    /// The most writes one transaction takes: a flood commits in several transactions of bounded size.
    static let maximumBatch = 256

    /// Queues `body` for the next group commit and returns its result once the commit holding it
    /// has returned.
    func groupCommitted<T: Sendable>(_ body: @Sendable @escaping (SQLiteConnection) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { caller in
            let ticket = SQLiteWriteTicket(body: body, caller: caller)
            if writes.withLock({ $0.enqueue(ticket) }) {
                Task { await self.drainWrites() }
            }
        }
    }

    /// Commits batches until no write waits. Each batch is taken once the gate is held, so writes
    /// queued while the previous commit ran all join it.
    private func drainWrites() async {
        repeat {
            // The body answers every caller itself and throws nothing.
            try? await gate.run {
                let batch = writes.withLock { $0.take(atMost: Self.maximumBatch) }
                await commit(batch)
            }
        } while !writes.withLock({ $0.finishIfEmpty() })
    }

    /// Runs `batch` in one transaction and answers each caller after the `COMMIT` (or the failure).
    private func commit(_ batch: [any SQLiteQueuedWrite]) async {
        guard !batch.isEmpty else { return }
        let connection = self.connection
        var failure: (any Error)?
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
            var succeeded = await applyTogether(batch, on: connection)
            if succeeded == nil {
                // One body threw after others wrote: what it half-wrote cannot be told apart from
                // their writes, so the batch starts over with each body in a savepoint of its own.
                _ = try? await connection.query("ROLLBACK")
                _ = try await connection.query("BEGIN IMMEDIATE")
                succeeded = try await applyIsolated(batch, on: connection)
            }
            if succeeded == true {
                _ = try await connection.query("COMMIT")
                counters.withLock { $0.commits += 1 }
            } else {
                _ = try? await connection.query("ROLLBACK")
            }
        } catch {
            _ = try? await connection.query("ROLLBACK")
            failure = error
        }
        for write in batch { write.settle(batchFailure: failure) }
    }

    /// Runs the bodies one after another, stopping at the first that throws. True when every body
    /// succeeded; false when the only one failed (its transaction is its savepoint); nil when one of
    /// several failed, so that the batch must run again with savepoints.
    private func applyTogether(_ batch: [any SQLiteQueuedWrite], on connection: SQLiteConnection) async -> Bool? {
        for write in batch {
            guard await write.perform(on: connection) == nil else { return batch.count == 1 ? false : nil }
        }
        return true
    }

    /// Runs each body inside a savepoint of its own. Returns whether any body succeeded, i.e.
    /// whether there is anything to commit. Throws when a savepoint cannot be rolled back or
    /// released: SQLite may have rolled the whole transaction back (an I/O error, a full disk).
    private func applyIsolated(_ batch: [any SQLiteQueuedWrite], on connection: SQLiteConnection) async throws -> Bool {
        var succeeded = false
        for write in batch {
            _ = try await connection.query("SAVEPOINT write")
            if await write.perform(on: connection) == nil {
                succeeded = true
            } else {
                _ = try await connection.query("ROLLBACK TO write")
            }
            _ = try await connection.query("RELEASE write")
        }
        return succeeded
    }
}
