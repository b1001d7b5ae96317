/// Group commit: every write is queued; one drain at a time takes the writes waiting (at most
/// ``maximumBatch``) and runs them in one `BEGIN IMMEDIATE … COMMIT`, so writes that arrive while a
/// commit is in flight share the next commit's `fsync` instead of each waiting for one of its own.
///
/// - A body that throws is rolled back alone and its caller gets its error; the others still commit.
///   The bodies first run one after another in the transaction with nothing between them (no
///   savepoints). Only when one of them throws is the transaction rolled back and run again with
///   each body in its own `SAVEPOINT` (bodies are SQL alone, so running one again after a rollback
///   is running it once).
/// - A caller is answered only after the `COMMIT` holding its write returned (`synchronous=FULL`):
///   if the `COMMIT`, a savepoint or `BEGIN` fails, every caller in the batch gets that failure and
///   nothing of the batch is kept. Nothing is acknowledged that is not durable.
/// - The whole batch runs behind the writer's gate. Reads of a file run on connections of their own
///   (``SQLiteReadConnections``), which see a transaction only once its `COMMIT` has synced; an
///   in-memory database's reads share the writer's gate. Either way reads never see a write that
///   is not committed.
/// - Once queued, a write runs and its caller waits for the outcome, even if the caller's task is
///   cancelled: the drain runs in a task of its own and the batch is one synchronous job on the
///   writer's thread, so one caller's cancellation neither half-applies its write, fails the writes
///   of others nor leaves the transaction open.
extension SQLiteDatabase {
    /// The most writes one transaction takes: a flood commits in several transactions of bounded size.
    static let maximumBatch = 256

    /// Queues `body` for the next group commit and returns its result once the commit holding it
    /// has returned.
    func groupCommitted<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { caller in
            let ticket = SQLiteWriteTicket(body: body, caller: caller)
            if writes.withLock({ $0.enqueue(ticket) }) {
                Task { await self.drainWrites() }
            }
        }
    }

    /// Commits batches until no write waits. Each batch is taken once the gate is held, so writes
    /// queued while the previous commit ran all join it; the whole batch (`BEGIN`, every write,
    /// `COMMIT`, answering the callers) is one job on the writer's thread.
    private func drainWrites() async {
        let writer = self.writer
        repeat {
            // The job answers every caller itself and throws nothing; if the writer's thread has
            // stopped (the database closed), the batch's callers get that failure here.
            try? await gate.run {
                let batch = writes.withLock { $0.take(atMost: Self.maximumBatch) }
                guard !batch.isEmpty else { return }
                do {
                    try await writer.run { handle in self.commit(batch, on: handle) }
                } catch {
                    for write in batch { write.settle(batchFailure: error) }
                }
            }
        } while !writes.withLock({ $0.finishIfEmpty() })
    }

    /// Runs `batch` in one transaction and answers each caller after the `COMMIT` (or the failure),
    /// the commit counted first. Leaves no transaction open, whatever happens.
    private func commit(_ batch: [any SQLiteQueuedWrite], on handle: SQLiteHandle) {
        var failure: (any Error)?
        do {
            try handle.execute("BEGIN IMMEDIATE")
            var succeeded = Self.applyTogether(batch, on: handle)
            if succeeded == nil {
                // One body threw after others wrote: what it half-wrote cannot be told apart from
                // their writes, so the batch starts over with each body in a savepoint of its own.
                Self.rollBack(handle)
                try handle.execute("BEGIN IMMEDIATE")
                succeeded = try Self.applyIsolated(batch, on: handle)
            }
            if succeeded == true {
                try handle.execute("COMMIT")
                counters.withLock { $0.commits += 1 }
            } else {
                Self.rollBack(handle)
            }
        } catch {
            Self.rollBack(handle)
            failure = error
        }
        for write in batch { write.settle(batchFailure: failure) }
    }

    /// Rolls back the open transaction, if any (a failed `COMMIT` may have ended it already).
    private static func rollBack(_ handle: SQLiteHandle) {
        if !handle.isAutocommit { try? handle.execute("ROLLBACK") }
    }

    /// Runs the bodies one after another, stopping at the first that throws. True when every body
    /// succeeded; false when the only one failed (its transaction is its savepoint); nil when one of
    /// several failed, so that the batch must run again with savepoints.
    private static func applyTogether(_ batch: [any SQLiteQueuedWrite], on handle: SQLiteHandle) -> Bool? {
        for write in batch {
            guard write.perform(on: handle) == nil else { return batch.count == 1 ? false : nil }
        }
        return true
    }

    /// Runs each body inside a savepoint of its own. Returns whether any body succeeded, i.e.
    /// whether there is anything to commit. Throws when a savepoint cannot be rolled back or
    /// released: SQLite may have rolled the whole transaction back (an I/O error, a full disk).
    private static func applyIsolated(_ batch: [any SQLiteQueuedWrite], on handle: SQLiteHandle) throws -> Bool {
        var succeeded = false
        for write in batch {
            try handle.execute("SAVEPOINT write")
            if write.perform(on: handle) == nil {
                succeeded = true
            } else {
                try handle.execute("ROLLBACK TO write")
            }
            try handle.execute("RELEASE write")
        }
        return succeeded
    }
}
