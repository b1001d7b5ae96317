import AITBCDomain
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The plumbing under ``PostgresStore``: a bounded connection pool (postgres-nio's `PostgresClient`),
/// schema migrations at open, a deadline on every call (see ``StatementWatch``), the timing that
/// `/metrics` shows, and the translation of every failure into ``StorageError``.
///
/// The pool runs while ``run()`` runs (a `Service`): in the task of whoever needs it, structured —
/// start-up (development keys, the job queue loaded at start), then the application's services, or
/// a test. Calls made while no run is under way wait for one (within
/// ``Configuration/connectionWaitTimeout``); after ``close()`` they fail at once as unavailable.
public final class PostgresDatabase: Service, Sendable {
    let configuration: Configuration
    let logger: Logger
    /// The pool calls go to: the one running, or the one the next run starts (postgres-nio runs a
    /// client once, so each run after the first gets a new one).
    private let pool: Mutex<PostgresClient>
    private let makeClient: @Sendable () -> PostgresClient
    private let runs = SharedRun()
    /// Runs that end when the database closes (the cluster bus's listener).
    private let dependents = Mutex<[SharedRun]>([])
    private let counters = Mutex(StorageStatistics())
    /// Whether the database is unreachable as far as the last call knows: an outage is logged
    /// when it starts and when it ends, not once per failed call.
    private let unreachable = Mutex(false)

    /// Operations so far and the time they took.
    public var statistics: StorageStatistics { counters.withLock { $0 } }

    /// The pool for a call now.
    var client: PostgresClient { pool.withLock { $0 } }

    /// Whether ``close()`` was called.
    var isClosed: Bool { runs.isStopped }

    private init(configuration: Configuration, logger: Logger, makeClient: @escaping @Sendable () -> PostgresClient) {
        self.configuration = configuration
        self.logger = logger
        self.makeClient = makeClient
        self.pool = Mutex(makeClient())
    }

    /// Connects and applies pending migrations; the pool runs once ``run()`` does. Fails with a
    /// ``PostgresFailure`` that says why when the database cannot be reached or refuses.
    public static func open(configuration: Configuration, logger: Logger) async throws -> PostgresDatabase {
        try await migrate(configuration, logger: logger)
        // The pool reports every failed connection attempt at info; the database reports an outage
        // once, so the pool's own account is kept for debug logging.
        var background = logger
        if background.logLevel > .debug { background.logLevel = max(background.logLevel, .warning) }
        let settings = configuration.clientConfiguration()
        return PostgresDatabase(configuration: configuration, logger: logger) { [background] in
            PostgresClient(configuration: settings, backgroundLogger: background)
        }
    }

    /// Runs the connection pool until this run is cancelled or shut down gracefully, or the database
    /// is closed. While one run is under way, another just waits beside it (see ``SharedRun``).
    public func run() async {
        await runs.run { [self] in
            let client = self.client
            await client.run()
            pool.withLock { current in
                if current === client, !runs.isStopped { current = makeClient() }
            }
        }
    }

    /// Ends `dependent` when the database closes: work on its pool that must not outlive it.
    func stopsOnClose(_ dependent: SharedRun) {
        dependents.withLock { $0.append(dependent) }
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

    /// Stops the pool (and what depends on it): open connections are closed, every run ends, and
    /// later calls fail as unavailable.
    public func close() async {
        for dependent in dependents.withLock({ $0 }) { await dependent.stop() }
        await runs.stop()
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
        counters.withLock { $0.record(since: start, failed: failed) }
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
