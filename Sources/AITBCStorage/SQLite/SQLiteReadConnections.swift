import AITBCDomain
import Synchronization

/// Connections of their own for reads of a database file in WAL mode: a read never waits behind
/// the writer's transaction, its `fsync` or the writes queued for the next commit, and it sees only
/// what has committed (WAL readers see a transaction once its `COMMIT` has synced). Each connection
/// is a ``SQLiteWorker`` (a thread of its own, one read at a time); reads take them in turn.
final class SQLiteReadConnections: Sendable {
    /// How many a file gets: reads on the job flow's hot path come a few at a time.
    static let count = 2

    private let workers: [SQLiteWorker]
    private let next = Atomic<UInt>(0)

    private init(workers: [SQLiteWorker]) {
        self.workers = workers
    }

    /// Opens ``count`` connections to the file at `path`, which the writer has already opened and
    /// migrated (so it is in WAL mode). They refuse writes.
    static func open(path: String) async throws -> SQLiteReadConnections {
        var workers: [SQLiteWorker] = []
        do {
            for _ in 0..<count {
                let worker = try await SQLiteWorker.open(path: path)
                workers.append(worker)
                try await worker.run { handle in
                    try handle.execute("PRAGMA busy_timeout=5000")
                    try handle.execute("PRAGMA query_only=ON")
                }
            }
        } catch {
            for worker in workers { await worker.close() }
            throw error
        }
        return SQLiteReadConnections(workers: workers)
    }

    /// Runs `body` on the next connection's thread, alone on it.
    func run<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        let index = Int(next.wrappingAdd(1, ordering: .relaxed).newValue % UInt(workers.count))
        return try await workers[index].run(body)
    }

    /// Closes every connection once the reads on it have ended.
    func close() async {
        for worker in workers { await worker.close() }
    }
}
