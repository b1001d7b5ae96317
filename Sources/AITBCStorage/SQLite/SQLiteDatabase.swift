import AITBCDomain
import Foundation
import Logging
import SQLiteNIO
import Synchronization

/// The plumbing under ``SQLiteStore``: one writing connection to a SQLite file in WAL mode with
/// `synchronous=FULL` (a write that has returned survives `kill -9` and power loss), serialized
/// behind one gate, with concurrent writes sharing one commit (`SQLiteDatabase+GroupCommit.swift`);
/// reads on connections of their own (``SQLiteReadConnections``), so they never wait for a commit;
/// schema migrations at open, the timing that `/metrics` shows, and the translation of every
/// failure into ``StorageError``.
public final class SQLiteDatabase: Sendable {
    /// The writer (and, for an in-memory database, the reader too), on a thread of its own.
    let writer: SQLiteWorker
    /// Held by a group commit's drain (and by tests that hold the writer); in memory, by reads too.
    let gate = AsyncSerialGate()
    /// The readers of a file; nil in memory (a private in-memory database has one connection).
    let readers: SQLiteReadConnections?
    let logger: Logger
    let counters = Mutex(StorageStatistics())
    /// Writes waiting for the next group commit.
    let writes = Mutex(SQLiteWriteQueue())

    /// Operations so far, the time they took and the commits they shared.
    public var statistics: StorageStatistics { counters.withLock { $0 } }

    /// Writes queued for the next group commit now.
    var queuedWrites: Int { writes.withLock { $0.count } }

    private init(writer: SQLiteWorker, readers: SQLiteReadConnections?, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// `path` nil opens a private in-memory database (tests).
    public static func open(path: String?, logger: Logger) async throws -> SQLiteDatabase {
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writer = try await SQLiteWorker.open(path: path)
        let unprepared = SQLiteDatabase(writer: writer, readers: nil, logger: logger)
        do {
            try await unprepared.prepare()
        } catch {
            await writer.close()
            throw error
        }
        guard let path else { return unprepared }
        // Opened once the writer has set WAL mode and migrated: readers see the current schema.
        let readers: SQLiteReadConnections
        do {
            readers = try await SQLiteReadConnections.open(path: path)
        } catch {
            await writer.close()
            throw error
        }
        let database = SQLiteDatabase(writer: writer, readers: readers, logger: logger)
        database.counters.withLock { $0 = unprepared.statistics }
        return database
    }

    private func prepare() async throws {
        let applied = try await writer.run { handle in
            try handle.execute("PRAGMA journal_mode=WAL")
            try handle.execute("PRAGMA synchronous=FULL")
            try handle.execute("PRAGMA foreign_keys=ON")
            try handle.execute("PRAGMA busy_timeout=5000")
            try handle.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            return Set(try handle.query("SELECT version FROM schema_migrations").compactMap { $0.column("version")?.integer })
        }
        for migration in SQLiteMigrations.all where !applied.contains(migration.version) {
            try await migrationTransaction { handle in
                for statement in migration.statements { try handle.execute(statement) }
                try handle.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(migration.version), .integer(Int(Date().timeIntervalSince1970))])
            }
            logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
        }
    }

    /// Runs `body` on a reader's thread (of a file; in memory, the writer's), alone on it, counting
    /// it for `/metrics`. It sees what has committed, never a write still in its transaction.
    func read<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        if let readers { return try await timed { try await readers.run(body) } }
        let writer = self.writer
        return try await timed { try await gate.run { try await writer.run(body) } }
    }

    /// Holds the writer while `body` runs, counting it for `/metrics`: writes queued meanwhile wait
    /// for it and then share the next commit (tests hold the writer so).
    func holdingWriter<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        try await timed { try await gate.run { try await body() } }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, counting it for `/metrics`, and returns once
    /// the transaction has committed. Writes that arrive while a commit is in flight share the next
    /// one (see `SQLiteDatabase+GroupCommit.swift`): `body` rolls back alone when it throws. Once
    /// called, the write runs even if the caller's task is cancelled, and the caller gets its outcome.
    func transaction<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        try await timed { try await groupCommitted(body) }
    }

    /// Runs a migration's `body` in one transaction alone, outside group commit; keeps SQLite's own
    /// error, to say why a migration failed.
    private func migrationTransaction(_ body: @Sendable @escaping (SQLiteHandle) throws -> Void) async throws {
        let writer = self.writer
        try await timed(translating: false) {
            try await gate.run {
                try await writer.run { handle in
                    try handle.execute("BEGIN IMMEDIATE")
                    do {
                        try body(handle)
                        try handle.execute("COMMIT")
                    } catch {
                        if !handle.isAutocommit { try? handle.execute("ROLLBACK") }
                        throw error
                    }
                }
            }
        }
        counters.withLock { $0.commits += 1 }
    }

    /// Runs one storage operation, counting it and its time for `/metrics`, and turns a failure of
    /// SQLite into ``StorageError/unavailable`` (logged with its cause).
    private func timed<T>(translating: Bool = true, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            record(since: start, failed: false)
            return result
        } catch {
            record(since: start, failed: true)
            if !translating || error is StorageError || error is CancellationError { throw error }
            logger.error("SQLite failed", metadata: ["reason": "\(String(reflecting: error))"])
            throw StorageError.unavailable
        }
    }

    private func record(since start: ContinuousClock.Instant, failed: Bool) {
        counters.withLock { $0.record(since: start, failed: failed) }
    }

    /// Whether the database answers now.
    public func isHealthy() async -> Bool {
        (try? await read { try $0.query("SELECT 1") }) != nil
    }

    /// Closes the readers, then checkpoints the WAL into the file and closes the writer.
    public func close() async throws {
        await readers?.close()
        let writer = self.writer
        try await gate.run {
            await writer.close { try? $0.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
    }
}
