import AITBCDomain
import Logging
import PostgresNIO
import Synchronization

/// The store for one or several coordinator instances on a PostgreSQL database (see
/// ``PostgresDatabase`` for the pool, deadlines and error translation). A write has returned once
/// PostgreSQL committed it. Each aggregate is in a file of its own (`PostgresStore+Keys.swift`, …).
///
/// It keeps the semantics of ``SQLiteStore``, which serializes everything behind one connection;
/// here many connections (and instances) run at once, so each operation is made safe on its own:
/// compare-and-set updates in one statement, row locks where a decision reads before it writes
/// (the ``MasterKeyRule``), `ON CONFLICT` for idempotency keys and tenants, and a fixed lock order
/// for batched usage writes.
public final class PostgresStore: CoordinatorStore {
    /// The pool and its plumbing.
    public let database: PostgresDatabase
    /// Job compare-and-sets waiting to share the next statement (`PostgresStore+JobUpdates.swift`).
    let jobUpdates = Mutex(PostgresJobUpdateQueue())

    var client: PostgresClient { database.client }
    var configuration: Configuration { database.configuration }
    var logger: Logger { database.logger }

    public var statistics: StorageStatistics { database.statistics }

    /// Which tenants' changes write webhook events, and the deliverer's wake-up.
    public let webhookOutbox = WebhookOutbox()

    private init(database: PostgresDatabase) {
        self.database = database
    }

    /// Opens the database named by a `postgres://` URL; see ``PostgresDatabase/Configuration/init(url:)``.
    public static func open(url: String, logger: Logger = Logger(label: "aitbc.postgres")) async throws -> PostgresStore {
        try await open(configuration: Configuration(url: url), logger: logger)
    }

    /// Connects, applies pending migrations, and starts the connection pool. Fails with a
    /// ``PostgresFailure`` that says why when the database cannot be reached or refuses.
    public static func open(
        configuration: Configuration, logger: Logger = Logger(label: "aitbc.postgres")
    ) async throws -> PostgresStore {
        PostgresStore(database: try await PostgresDatabase.open(configuration: configuration, logger: logger))
    }

    /// Runs `body` on a pooled connection, counting it for `/metrics`.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        try await database.read(body)
    }

    /// Runs `body` in a transaction on a pooled connection, counting it for `/metrics`.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        try await database.transaction(body)
    }

    public func isHealthy() async -> Bool {
        await database.isHealthy()
    }

    /// Stops the pool: open connections are closed and later calls fail as unavailable.
    public func close() async throws {
        await database.close()
    }

    /// A newest-first page of `table`, optionally of one tenant, after `cursor`.
    static func pageQuery(columns: String, table: String, tenantID: String?, cursor: ListCursor?, limit: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        var conditions: [String] = []
        if let tenantID {
            binds.append(tenantID)
            conditions.append("tenant_id = $\(binds.count)")
        }
        if let cursor {
            binds.append(PostgresInstant(unixMilliseconds: cursor.createdAtMilliseconds))
            binds.append(cursor.id)
            conditions.append("(created_at, id) < ($\(binds.count - 1), $\(binds.count))")
        }
        binds.append(limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return PostgresQuery(
            unsafeSQL: "SELECT \(columns) FROM \(table) \(whereClause) ORDER BY created_at DESC, id DESC LIMIT $\(binds.count)",
            binds: binds)
    }
}
