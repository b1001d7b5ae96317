import AITBCDomain
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The plumbing under ``PostgresStore``: a bounded connection pool (postgres-nio's `PostgresClient`),
/// schema migrations at open, a deadline on every call (see ``StatementWatch``), the timing that
/// `/metrics` shows, and the translation of every failure into ``StorageError``.
///
/// The pool's `run()` is owned by the database, in a task started by `open` and ended by ``close()``,
/// not wired as a `Service`: the store is in use before any service runs (migrations, development
/// keys, the job queue loaded at start) and in tests that have no service group, and its lifetime
/// is already explicit through `close()`, which the server calls at shutdown as it does for SQLite.
public final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let configuration: Configuration
    let logger: Logger
    private let runner: Task<Void, Never>
    private let counters = Mutex(StorageStatistics())
    /// Whether the database is unreachable as far as the last call knows: an outage is logged
    /// when it starts and when it ends, not once per failed call.
    private let unreachable = Mutex(false)

    /// Operations so far and the time they took.
    public var statistics: StorageStatistics { counters.withLock { $0 } }

    private init(client: PostgresClient, runner: Task<Void, Never>, configuration: Configuration, logger: Logger) {
        self.client = client
        self.runner = runner
        self.configuration = configuration
        self.logger = logger
    }

    /// Connects, applies pending migrations, and starts the connection pool. Fails with a
    /// ``PostgresFailure`` that says why when the database cannot be reached or refuses.
    public static func open(configuration: Configuration, logger: Logger) async throws -> PostgresDatabase {
        try await migrate(configuration, logger: logger)
        // The pool reports every failed connection attempt at info; the database reports an outage
        // once, so the pool's own account is kept for debug logging.
        var background = logger
        if background.logLevel > .debug { background.logLevel = max(background.logLevel, .warning) }
        let client = PostgresClient(configuration: configuration.clientConfiguration(), backgroundLogger: background)
        let runner = Task { await client.run() }
        return PostgresDatabase(client: client, runner: runner, configuration: configuration, logger: logger)
    }

    /// Applies pending migrations on a connection of its own (so a failure to connect is reported
    /// with its cause, which the pool would keep to itself), in one transaction under an advisory
    /// lock: instances starting together apply each version exactly once.
    private static func migrate(_ configuration: Configuration, logger: Logger) async throws {
        let connection: PostgresConnection
        do {
            connection = try await connect(configuration, logger: logger)
        } catch {
            throw PostgresFailure(opening: configuration, error)
        }
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            let applied = try await session.transaction { session in
                try await session.rows("SELECT pg_advisory_xact_lock(hashtext('aitbc.schema_migrations'))")
                try await session.rows(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """)
                let done = Set(
                    try await session.rows("SELECT version FROM schema_migrations").map {
                        try PostgresRecord($0)("version", as: Int.self)
                    })
                var applied: [Int] = []
                for migration in PostgresMigrations.all where !done.contains(migration.version) {
                    for statement in migration.statements { try await session.rows(PostgresQuery(unsafeSQL: statement)) }
                    try await session.rows("INSERT INTO schema_migrations (version) VALUES (\(migration.version))")
                    applied.append(migration.version)
                }
                return applied
            }
            for version in applied { logger.info("applied schema migration", metadata: ["version": "\(version)"]) }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw PostgresFailure(opening: configuration, error)
        }
    }

    /// One connection outside the pool, given up on when the handshake (TCP, TLS, authentication)
    /// has not finished within twice the connect timeout: a port that accepts but never answers
    /// must not hang the start.
    private static func connect(_ configuration: Configuration, logger: Logger) async throws -> PostgresConnection {
        let settings = try configuration.connectionConfiguration()
        let deadline = configuration.connectTimeout * 2
        return try await withThrowingTaskGroup(of: PostgresConnection?.self) { group in
            group.addTask { try await PostgresConnection.connect(configuration: settings, id: 0, logger: logger) }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let connection = try await group.next() ?? nil else { throw PostgresFailure.noHandshake(within: deadline) }
            return connection
        }
    }

    /// Whether the database answers now.
    public func isHealthy() async -> Bool {
        (try? await read { try await $0.rows("SELECT 1") }) != nil
    }

    /// Stops the pool: open connections are closed and later calls fail as unavailable.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// Runs one storage operation, counting it and its time for `/metrics`, and turns a database
    /// failure into a ``StorageError`` (logged with its cause).
    func timed<T>(_ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            record(since: start, failed: false)
            if unreachable.withLock({ $0 }) { noteReachable() }
            return result
        } catch {
            record(since: start, failed: true)
            throw translate(error)
        }
    }

    private func record(since start: ContinuousClock.Instant, failed: Bool) {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        counters.withLock {
            $0.operations += 1
            if failed { $0.failures += 1 }
            $0.totalSeconds += seconds
        }
    }

    private func translate(_ error: any Error) -> any Error {
        if error is StorageError || error is CancellationError { return error }
        if PostgresFailure.isStatementError(error) {
            switch PostgresFailure.sqlState(of: error) {
            // PostgreSQL text cannot hold U+0000 (SQLite's can): the caller sent it, so it is a bad request.
            case "22021", "22P05":
                return StorageError.unstorableText
            default:
                logger.error("PostgreSQL refused a statement", metadata: ["reason": "\(PostgresFailure.reason(error))"])
                return StorageError.unavailable
            }
        }
        let started = unreachable.withLock { wasUnreachable in
            defer { wasUnreachable = true }
            return !wasUnreachable
        }
        if started {
            logger.error(
                "PostgreSQL is unavailable; answering 503 until it is back",
                metadata: ["database": "\(configuration.redacted)", "reason": "\(PostgresFailure.reason(error))"])
        }
        return StorageError.unavailable
    }

    private func noteReachable() {
        let ended = unreachable.withLock { wasUnreachable in
            defer { wasUnreachable = false }
            return wasUnreachable
        }
        if ended { logger.notice("PostgreSQL is reachable again", metadata: ["database": "\(configuration.redacted)"]) }
    }
}
