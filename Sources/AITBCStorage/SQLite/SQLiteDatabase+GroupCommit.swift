import SQLiteNIO

/// Group commit: every write is queued; one drain at a time takes the writes waiting (at most
/// ``maximumBatch``) and runs them in one `BEGIN IMMEDIATE … COMMIT`, so writes that arrive while a
/// commit is in flight share the next commit's `fsync` instead of each waiting for one of its own.
///
/// - Each body runs inside its own `SAVEPOINT` when the batch holds several: a body that throws is
///   rolled back alone and its caller gets its error; the others still commit.
/// - A caller is answered only after the `COMMIT` holding its write returned (`synchronous=FULL`):
///   if the `COMMIT`, a savepoint or `BEGIN` fails, every caller in the batch gets that failure and
///   nothing of the batch is kept. Nothing is acknowledged that is not durable.
/// - The whole batch runs behind the connection's one gate, so no read runs between a body and
///   the `COMMIT`: reads never see a write that is not committed.
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
    /// queued while a read or the previous commit ran all join it.
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
            if try await apply(batch, on: connection) {
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

    /// Runs each body, inside a savepoint of its own when the batch holds several (a write alone
    /// needs none: its transaction is its savepoint). Returns whether any body succeeded, i.e.
    /// whether there is anything to commit. Throws when a savepoint cannot be rolled back or
    /// released: SQLite may have rolled the whole transaction back (an I/O error, a full disk).
    private func apply(_ batch: [any SQLiteQueuedWrite], on connection: SQLiteConnection) async throws -> Bool {
        guard batch.count > 1 else { return await batch[0].perform(on: connection) == nil }
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
