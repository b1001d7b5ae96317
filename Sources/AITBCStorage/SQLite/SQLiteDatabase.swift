import AITBCDomain
import Foundation
import Logging
import SQLiteNIO
import Synchronization

/// The plumbing under ``SQLiteStore``: one connection to a SQLite file in WAL mode with
/// `synchronous=FULL` (a write that has returned survives `kill -9` and power loss), serialized
/// behind one gate, with schema migrations at open, the timing that `/metrics` shows, and the
/// translation of every failure into ``StorageError``.
public final class SQLiteDatabase: Sendable {
    let connection: SQLiteConnection
    let gate = AsyncSerialGate()
    let logger: Logger
    private let counters = Mutex(StorageStatistics())

    /// Operations so far and the time they took.
    public var statistics: StorageStatistics { counters.withLock { $0 } }

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// `path` nil opens a private in-memory database (tests).
    public static func open(path: String?, logger: Logger) async throws -> SQLiteDatabase {
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let connection = try await SQLiteConnection.open(storage: path.map { .file(path: $0) } ?? .memory, logger: logger)
        let database = SQLiteDatabase(connection: connection, logger: logger)
        try await database.prepare()
        return database
    }

    private func prepare() async throws {
        _ = try await connection.query("PRAGMA journal_mode=WAL")
        _ = try await connection.query("PRAGMA synchronous=FULL")
        _ = try await connection.query("PRAGMA foreign_keys=ON")
        _ = try await connection.query("PRAGMA busy_timeout=5000")
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let applied = Set(
            try await connection.query("SELECT version FROM schema_migrations").compactMap {
                $0.column("version")?.integer
            })
        for migration in SQLiteMigrations.all where !applied.contains(migration.version) {
            try await transaction(translating: false) { connection in
                for statement in migration.statements { _ = try await connection.query(statement) }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(migration.version), .integer(Int(Date().timeIntervalSince1970))])
            }
            logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
        }
    }

    /// Runs `body` on the connection, alone, counting it for `/metrics`.
    func read<T: Sendable>(_ body: @Sendable @escaping (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = self.connection
        return try await timed { try await gate.run { try await body(connection) } }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, alone, counting it for `/metrics`; rolls back
    /// when it throws. A migration at open keeps SQLite's own error (`translating` false), to say why.
    func transaction<T: Sendable>(
        translating: Bool = true, _ body: @Sendable @escaping (SQLiteConnection) async throws -> T
    ) async throws -> T {
        let connection = self.connection
        return try await timed(translating: translating) {
            try await gate.run {
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    let result = try await body(connection)
                    _ = try await connection.query("COMMIT")
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw error
                }
            }
        }
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
        (try? await read { try await $0.query("SELECT 1") }) != nil
    }

    /// Checkpoints the WAL into the file and closes the connection.
    public func close() async throws {
        try await gate.run { [connection] in
            _ = try? await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
            try await connection.close()
        }
    }
}
