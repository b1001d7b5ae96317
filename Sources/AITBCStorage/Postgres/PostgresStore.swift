import AITBCDomain
import AITBCWire
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The store for one or several coordinator instances on a PostgreSQL database, through a bounded
/// connection pool (postgres-nio's `PostgresClient`). A write has returned once PostgreSQL committed it.
///
/// It keeps the semantics of ``SQLiteStore``, which serializes everything behind one connection;
/// here many connections (and instances) run at once, so each operation is made safe on its own:
/// compare-and-set updates in one statement, row locks where a decision reads before it writes
/// (the last master key of a tenant), `ON CONFLICT` for idempotency keys and tenants, and a fixed
/// lock order for batched usage writes.
///
/// The pool's `run()` is owned by the store, in a task started by `open` and ended by ``close()``,
/// not wired as a `Service`: the store is in use before any service runs (migrations, development
/// keys, the job queue loaded at start) and in tests that have no service group, and its lifetime
/// is already explicit through `close()`, which the server calls at shutdown as it does for SQLite.
public final class PostgresStore: CoordinatorStore {
    let client: PostgresClient
    let configuration: Configuration
    let logger: Logger
    private let runner: Task<Void, Never>
    private let counters = Mutex(StorageStatistics())
    /// Whether the database is unreachable as far as the last call knows: an outage is logged
    /// when it starts and when it ends, not once per failed call.
    private let unreachable = Mutex(false)

    public var statistics: StorageStatistics { counters.withLock { $0 } }

    private init(client: PostgresClient, runner: Task<Void, Never>, configuration: Configuration, logger: Logger) {
        self.client = client
        self.runner = runner
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens the database named by a `postgres://` URL; see ``Configuration/init(url:)``.
    public static func open(url: String, logger: Logger = Logger(label: "aitbc.postgres")) async throws -> PostgresStore {
        try await open(configuration: Configuration(url: url), logger: logger)
    }

    /// Connects, applies pending migrations, and starts the connection pool. Fails with a
    /// ``PostgresFailure`` that says why when the database cannot be reached or refuses.
    public static func open(
        configuration: Configuration, logger: Logger = Logger(label: "aitbc.postgres")
    ) async throws -> PostgresStore {
        try await migrate(configuration, logger: logger)
        // The pool reports every failed connection attempt at info; the store reports an outage
        // once, so the pool's own account is kept for debug logging.
        var background = logger
        if background.logLevel > .debug { background.logLevel = max(background.logLevel, .warning) }
        let client = PostgresClient(configuration: configuration.clientConfiguration(), backgroundLogger: background)
        let runner = Task { await client.run() }
        return PostgresStore(client: client, runner: runner, configuration: configuration, logger: logger)
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

    // MARK: plumbing

    /// Runs `body` on a pooled connection, counting it for `/metrics`.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        try await timed { try await withSession(body) }
    }

    /// Runs `body` in a transaction on a pooled connection, counting it for `/metrics`.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        try await timed { try await withSession { session in try await session.transaction(body) } }
    }

    /// Leases a connection for `body`, waiting at most ``Configuration/connectionWaitTimeout`` for
    /// one (the pool itself would queue a caller for up to a minute while the database is down),
    /// then gives each of its statements at most ``Configuration/queryTimeout`` to be answered.
    /// A call that gave up waiting never starts; one that holds a connection is never cancelled
    /// while the database answers (a write must not be reported failed after it committed). When
    /// the database stops answering altogether (a network partition: nothing answers, nothing
    /// closes), the statement in flight fails at once, the connection is closed, and the call
    /// reports the database unavailable.
    private func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        let client = self.client
        let logger = self.logger
        let watch = StatementWatch(wait: configuration.connectionWaitTimeout, answer: configuration.queryTimeout)
        return try await withThrowingTaskGroup(of: WatchedCall<T>.self) { group in
            group.addTask {
                .finished(
                    try await client.withConnection { connection in
                        guard watch.begin(on: connection) else { throw watch.failure }
                        let result: Result<T, any Error>
                        do {
                            result = .success(try await body(PostgresSession(connection: connection, logger: logger, watch: watch)))
                        } catch {
                            result = .failure(error)
                        }
                        if watch.end() {
                            // Given up on: back to the pool only once closed, so nobody else gets it.
                            connection.close().whenComplete { _ in }
                            try? await connection.closeFuture.get()
                        }
                        return try result.get()
                    })
            }
            group.addTask {
                while true {
                    switch watch.next(at: .now) {
                    case .sleep(let instant):
                        try await Task.sleep(until: instant, clock: .continuous)
                    case .gaveUp:
                        return .gaveUp
                    case .abandon(let connection, let pending):
                        pending?.resume(with: .failure(watch.failure))
                        // Not awaited: over TLS a close waits seconds for the peer's goodbye.
                        connection.close().whenComplete { _ in }
                        return .watched
                    case .over:
                        return .watched
                    }
                }
            }
            while true {
                let next: WatchedCall<T>?
                do {
                    next = try await group.next()
                } catch {
                    throw watch.isOverdue ? watch.failure : error
                }
                switch next {
                case .finished(let value):
                    // Even after the watch gave up on it: the answer got here first.
                    group.cancelAll()
                    return value
                case .gaveUp:
                    // The lease wait is cancelled; if a connection comes anyway, the call does not start.
                    group.cancelAll()
                case .watched:
                    continue
                case nil:
                    throw watch.failure
                }
            }
        }
    }

    /// How one of the two tasks in ``withSession(_:)`` ended.
    private enum WatchedCall<T: Sendable>: Sendable {
        case finished(T)
        case gaveUp
        case watched
    }

    /// Runs one storage operation, counting it and its time for `/metrics`, and turns a database
    /// failure into the domain's 503 `STORAGE_UNAVAILABLE` (logged with its cause).
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
        if error is CoordinatorError || error is CancellationError { return error }
        if PostgresFailure.isStatementError(error) {
            switch PostgresFailure.sqlState(of: error) {
            // PostgreSQL text cannot hold U+0000 (SQLite's can): the caller sent it, so it is a bad request.
            case "22021", "22P05":
                return CoordinatorError.invalidRequest("Text fields must not contain NUL (U+0000) characters")
            default:
                logger.error("PostgreSQL refused a statement", metadata: ["reason": "\(PostgresFailure.reason(error))"])
                return CoordinatorError.storageUnavailable
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
        return CoordinatorError.storageUnavailable
    }

    private func noteReachable() {
        let ended = unreachable.withLock { wasUnreachable in
            defer { wasUnreachable = false }
            return wasUnreachable
        }
        if ended { logger.notice("PostgreSQL is reachable again", metadata: ["database": "\(configuration.redacted)"]) }
    }

    public func isHealthy() async -> Bool {
        (try? await read { try await $0.rows("SELECT 1") }) != nil
    }

    /// Stops the pool: open connections are closed and later calls fail as unavailable.
    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    // MARK: keys

    static let keyColumns = """
        id, tenant_id, name, role, scopes, digest, previous_digest, previous_valid_until, hint, created_at, \
        expires_at, revoked_at, rate_limit, metadata, last_used_at, last_used_from
        """

    public func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws {
        try await transaction { session in
            try await session.rows(Self.insertQuery(of: key, onConflict: ""))
            try await session.rows(Self.insertQuery(of: event))
        }
    }

    public func upsertKey(_ key: APIKeyRecord) async throws {
        // Replaces every column, as SQLite's delete-and-insert does, without a window in which a
        // second instance registering the same development key could insert it twice.
        try await transaction { session in
            try await session.rows(
                "DELETE FROM api_keys WHERE digest = \(Self.bytes(key.digest)) AND id <> \(key.id)")
            try await session.rows(
                Self.insertQuery(
                    of: key,
                    onConflict: """
                        ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, \
                        role = excluded.role, scopes = excluded.scopes, digest = excluded.digest, \
                        previous_digest = excluded.previous_digest, previous_valid_until = excluded.previous_valid_until, \
                        hint = excluded.hint, created_at = excluded.created_at, expires_at = excluded.expires_at, \
                        revoked_at = excluded.revoked_at, rate_limit = excluded.rate_limit, metadata = excluded.metadata, \
                        last_used_at = excluded.last_used_at, last_used_from = excluded.last_used_from
                        """))
        }
    }

    public func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        let bytes = Self.bytes(digest)
        return try await read { session in
            try await session.rows(
                """
                (SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE digest = \(bytes)) UNION ALL
                (SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE previous_digest = \(bytes)) LIMIT 1
                """
            ).first.flatMap(Self.key(from:))
        }
    }

    public func key(id: String) async throws -> APIKeyRecord? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)")
                .first.flatMap(Self.key(from:))
        }
    }

    public func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        let query = Self.pageQuery(columns: Self.keyColumns, table: "api_keys", tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.key(from:))
        }
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

    public func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        guard Self.isStorable(id) else { return .notFound }
        return try await transaction { session in
            guard
                let key = try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id) FOR UPDATE")
                    .first.flatMap(Self.key(from:))
            else { return .notFound }
            if key.revokedAt != nil { return .alreadyRevoked(key) }
            if key.role == .master, key.isActive(at: now) {
                // The tenant row serializes revocations of its master keys, on every instance: a
                // concurrent revoke of the other master key waits here, then counts again (a new
                // statement, a new snapshot) and finds this one gone.
                try await session.rows("SELECT id FROM tenants WHERE id = \(key.tenantID) FOR UPDATE")
                let others = try await session.rows(
                    """
                    SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = \(key.tenantID) AND role = 'master' AND id <> \(id)
                    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(PostgresInstant(now)))
                    """
                ).first.map { try PostgresRecord($0)("n", as: Int.self) } ?? 0
                if others == 0 { return .lastMasterKey }
            }
            try await session.rows("UPDATE api_keys SET revoked_at = \(PostgresInstant(now)) WHERE id = \(id)")
            try await session.rows(Self.insertQuery(of: event))
            var revoked = key
            revoked.revokedAt = PostgresInstant(now).date
            return .revoked(revoked)
        }
    }

    public func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord? {
        guard Self.isStorable(id) else { return nil }
        return try await transaction { session in
            guard
                let key = try await session.rows("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id) FOR UPDATE")
                    .first.flatMap(Self.key(from:))
            else { return nil }
            let previous = previousValidUntil == nil ? nil : Self.bytes(key.digest)
            let until = previousValidUntil.map(PostgresInstant.init)
            try await session.rows(
                """
                UPDATE api_keys SET digest = \(Self.bytes(digest)), hint = \(hint), previous_digest = \(previous),
                previous_valid_until = \(until) WHERE id = \(id)
                """)
            try await session.rows(Self.insertQuery(of: event))
            var updated = key
            updated.digest = digest
            updated.hint = hint
            updated.previousDigest = previousValidUntil == nil ? nil : key.digest
            updated.previousValidUntil = until?.date
            return updated
        }
    }

    public func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? {
        guard Self.isStorable(key.id) else { return nil }
        return try await transaction { session in
            guard
                let stored = try await session.rows(
                    """
                    UPDATE api_keys SET name = \(key.name),
                    scopes = \(key.scopes.map { $0.map(\.rawValue).sorted().joined(separator: " ") }),
                    expires_at = \(key.expiresAt.map { PostgresInstant($0) }), rate_limit = \(key.rateLimitPerMinute),
                    metadata = \(JSONText.encode(key.metadata))
                    WHERE id = \(key.id) AND revoked_at IS NULL RETURNING \(unescaped: Self.keyColumns)
                    """
                ).first.flatMap(Self.key(from:))
            else { return nil }
            try await session.rows(Self.insertQuery(of: event))
            return stored
        }
    }

    public func insertAuditEvent(_ event: AuditEvent) async throws {
        try await transaction { session in try await session.rows(Self.insertQuery(of: event)) }
    }

    public func hasAnyKey() async throws -> Bool {
        try await read { session in
            try await session.rows("SELECT EXISTS (SELECT 1 FROM api_keys) AS found").first
                .map { try PostgresRecord($0)("found", as: Bool.self) } ?? false
        }
    }

    // MARK: tenants

    static let tenantColumns = "id, name, plan, custom_rate_limit, created_at"

    public func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try await transaction { session in
            let inserted = try await session.rows(
                """
                INSERT INTO tenants (\(unescaped: Self.tenantColumns)) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt))) ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { return false }
            if let event { try await session.rows(Self.insertQuery(of: event)) }
            return true
        }
    }

    public func upsertTenant(_ tenant: Tenant) async throws {
        try await transaction { session in
            try await session.rows(
                """
                INSERT INTO tenants (\(unescaped: Self.tenantColumns)) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt)))
                ON CONFLICT (id) DO UPDATE SET plan = excluded.plan
                """)
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.tenantColumns) FROM tenants WHERE id = \(id)")
                .first.flatMap(Self.tenant(from:))
        }
    }

    public func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        let query = Self.pageQuery(columns: Self.tenantColumns, table: "tenants", tenantID: nil, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.tenant(from:))
        }
    }

    public func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws {
        try await transaction { session in
            try await session.rows(
                """
                UPDATE tenants SET name = \(tenant.name), plan = \(tenant.plan),
                custom_rate_limit = \(tenant.customRateLimitPerMinute) WHERE id = \(tenant.id)
                """)
            try await session.rows(Self.insertQuery(of: event))
        }
    }

    // MARK: usage

    public func addUsage(_ batch: UsageBatch) async throws {
        // Rows are written in key order, so two instances flushing overlapping batches wait for
        // each other instead of deadlocking.
        let buckets = batch.counts.sorted { ($0.key.keyID, $0.key.minute) < ($1.key.keyID, $1.key.minute) }
        let uses = batch.lastUses.sorted { $0.key < $1.key }
        try await transaction { session in
            if !buckets.isEmpty {
                try await session.rows(
                    """
                    INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors)
                    SELECT * FROM unnest(\(buckets.map(\.key.keyID)), \(buckets.map { Int($0.key.minute) }),
                    \(buckets.map(\.value.admitted)), \(buckets.map(\.value.rateLimited)), \(buckets.map(\.value.errors)))
                    ORDER BY 1, 2
                    ON CONFLICT (key_id, minute) DO UPDATE SET admitted = key_usage.admitted + excluded.admitted,
                    rate_limited = key_usage.rate_limited + excluded.rate_limited, errors = key_usage.errors + excluded.errors
                    """)
            }
            if !uses.isEmpty {
                let ids = uses.map(\.key)
                try await session.rows("SELECT id FROM api_keys WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE")
                try await session.rows(
                    """
                    UPDATE api_keys SET last_used_at = used.at, last_used_from = CASE WHEN used.has_from THEN used.from_ END
                    FROM unnest(\(ids), \(uses.map { PostgresInstant($0.value.at) }), \(uses.map { $0.value.from ?? "" }),
                    \(uses.map { $0.value.from != nil })) AS used(id, at, from_, has_from)
                    WHERE api_keys.id = used.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at <= used.at)
                    """)
            }
        }
    }

    public func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] {
        guard Self.isStorable(keyID) else { return [] }
        let rows = try await read { session in
            try await session.rows(
                """
                SELECT minute, admitted, rate_limited, errors FROM key_usage
                WHERE key_id = \(keyID) AND minute >= \(Int(sinceMinute))
                UNION ALL
                SELECT hour, admitted, rate_limited, errors FROM key_usage_hours
                WHERE key_id = \(keyID) AND hour >= \(Int(sinceMinute))
                ORDER BY 1
                """)
        }
        return try rows.map { row in
            let record = PostgresRecord(row)
            return (
                minute: Int64(try record("minute", as: Int.self)),
                counts: UsageCounts(
                    admitted: try record("admitted"), rateLimited: try record("rate_limited"), errors: try record("errors"))
            )
        }
    }

    // MARK: audit

    public func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        let query = Self.pageQuery(
            columns: "id, tenant_id, type, actor_key_id, target_id, created_at, data", table: "audit_events",
            tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { session in
            try await session.rows(query).compactMap(Self.event(from:))
        }
    }
}
