import Synchronization

/// `NOTIFY`s of many events share one statement: a send waits while the previous statement is in
/// flight, then the next statement takes every payload waiting (at most ``maximumBatch``) into one
/// `SELECT pg_notify(…) FROM unnest(…)`, one round trip and one commit, and each sender learns the
/// outcome once that statement has returned. Under a flood of submissions, each of which tells the
/// other instances of its job, the database commits one transaction per statement instead of one
/// per event, and every commit that notifies takes PostgreSQL's one lock on the notification queue.
/// (A payload sent twice in one statement is delivered once: harmless, an event only says what to
/// look at again.)
final class PostgresNotifyBatcher: Sendable {
    static let maximumBatch = 256

    private struct Waiting {
        var sends: [(payload: String, caller: CheckedContinuation<Void, any Error>)] = []
        var draining = false
        var statements = 0
    }

    private let store: PostgresStore
    private let waiting = Mutex(Waiting())

    init(store: PostgresStore) {
        self.store = store
    }

    /// Statements sent so far.
    var statements: Int { waiting.withLock { $0.statements } }

    /// Sends `payload` in the next statement; throws what that statement threw.
    func send(_ payload: String) async throws {
        try await withCheckedThrowingContinuation { caller in
            let starts = waiting.withLock { waiting in
                waiting.sends.append((payload, caller))
                defer { waiting.draining = true }
                return !waiting.draining
            }
            // Once queued, a send goes out even if its caller is cancelled (the drain is its own task).
            if starts { Task { await self.drain() } }
        }
    }

    /// Sends statements until nothing waits.
    private func drain() async {
        while true {
            let batch = waiting.withLock { waiting in
                let batch = Array(waiting.sends.prefix(Self.maximumBatch))
                waiting.sends.removeFirst(batch.count)
                if batch.isEmpty { waiting.draining = false } else { waiting.statements += 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                try await PostgresClusterBus.notify(batch.map(\.payload), through: store)
                for send in batch { send.caller.resume() }
            } catch {
                for send in batch { send.caller.resume(throwing: error) }
            }
        }
    }
}
