import AITBCDomain
import AITBCWire
import Foundation
import Logging
import NIOCore
import SQLiteNIO
import Synchronization

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a write that
/// has returned survives `kill -9` and power loss.
public final class SQLiteStore: CoordinatorStore {
    let connection: SQLiteConnection
    let gate = AsyncSerialGate()
    let logger: Logger
    private let counters = Mutex(StorageStatistics())

    public var statistics: StorageStatistics { counters.withLock { $0 } }

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// `path` nil opens a private in-memory database (tests).
    public static func open(path: String?, logger: Logger = Logger(label: "aitbc.sqlite")) async throws -> SQLiteStore {
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let connection = try await SQLiteConnection.open(storage: path.map { .file(path: $0) } ?? .memory, logger: logger)
        let store = SQLiteStore(connection: connection, logger: logger)
        try await store.prepare()
        return store
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
            try await transaction { connection in
                for statement in migration.statements { _ = try await connection.query(statement) }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(migration.version), .integer(Int(Date().timeIntervalSince1970))])
            }
            logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
        }
    }

    // MARK: plumbing

    func read<T: Sendable>(_ body: @Sendable @escaping (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = self.connection
        return try await timed { try await gate.run { try await body(connection) } }
    }

    /// Runs one storage operation, counting it and its time for `/metrics`.
    func timed<T>(_ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            record(since: start, failed: false)
            return result
        } catch {
            record(since: start, failed: true)
            throw error
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

    func transaction<T: Sendable>(_ body: @Sendable @escaping (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = self.connection
        return try await timed { try await gate.run {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT")
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        } }
    }

    public func isHealthy() async -> Bool {
        (try? await read { try await $0.query("SELECT 1") }) != nil
    }

    public func close() async throws {
        try await gate.run { [connection] in
            _ = try? await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
            try await connection.close()
        }
    }

    // MARK: keys

    static let keyColumns = """
        id, tenant_id, name, role, scopes, digest, previous_digest, previous_valid_until, hint, created_at, \
        expires_at, revoked_at, rate_limit, metadata, last_used_at, last_used_from
        """

    public func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws {
        try await transaction { connection in
            _ = try await connection.query(
                "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Self.binds(of: key))
            try await Self.insert(event, on: connection)
        }
    }

    public func upsertKey(_ key: APIKeyRecord) async throws {
        try await transaction { connection in
            _ = try await connection.query("DELETE FROM api_keys WHERE id = ? OR digest = ?", [.text(key.id), Self.blob(key.digest)])
            _ = try await connection.query(
                "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Self.binds(of: key))
        }
    }

    public func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        let blob = Self.blob(digest)
        return try await read { connection in
            try await connection.query(
                "SELECT \(Self.keyColumns) FROM api_keys WHERE digest = ? UNION ALL "
                    + "SELECT \(Self.keyColumns) FROM api_keys WHERE previous_digest = ? LIMIT 1",
                [blob, blob]
            ).first.flatMap(Self.key(from:))
        }
    }

    public func key(id: String) async throws -> APIKeyRecord? {
        try await read { connection in
            try await connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                .first.flatMap(Self.key(from:))
        }
    }

    public func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        let (sql, binds) = Self.pageQuery(
            columns: Self.keyColumns, table: "api_keys", tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { connection in
            try await connection.query(sql, binds).compactMap(Self.key(from:))
        }
    }

    /// A newest-first page of `table`, optionally of one tenant, after `cursor`.
    static func pageQuery(
        columns: String, table: String, tenantID: String?, cursor: ListCursor?, limit: Int
    ) -> (String, [SQLiteData]) {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let tenantID {
            conditions.append("tenant_id = ?")
            binds.append(.text(tenantID))
        }
        if let cursor {
            let created = SQLiteData.integer(Int(cursor.createdAtMilliseconds))
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            binds += [created, created, .text(cursor.id)]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        binds.append(.integer(limit))
        return ("SELECT \(columns) FROM \(table) \(whereClause) ORDER BY created_at DESC, id DESC LIMIT ?", binds)
    }

    public func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        try await transaction { connection in
            guard
                let key = try await connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                    .first.flatMap(Self.key(from:))
            else { return .notFound }
            if key.revokedAt != nil { return .alreadyRevoked(key) }
            if key.role == .master, key.isActive(at: now) {
                let others = try await connection.query(
                    """
                    SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = ? AND role = 'master' AND id != ?
                    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                    """,
                    [.text(key.tenantID), .text(id), .integer(Int(now.unixMilliseconds))]
                ).first?.column("n")?.integer ?? 0
                if others == 0 { return .lastMasterKey }
            }
            _ = try await connection.query(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?", [.integer(Int(now.unixMilliseconds)), .text(id)])
            try await Self.insert(event, on: connection)
            var revoked = key
            revoked.revokedAt = Date(unixMilliseconds: now.unixMilliseconds)
            return .revoked(revoked)
        }
    }

    public func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord? {
        try await transaction { connection in
            guard
                let key = try await connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(id)])
                    .first.flatMap(Self.key(from:))
            else { return nil }
            let previous: SQLiteData = previousValidUntil == nil ? .null : Self.blob(key.digest)
            let until: SQLiteData = previousValidUntil.map { .integer(Int($0.unixMilliseconds)) } ?? .null
            _ = try await connection.query(
                "UPDATE api_keys SET digest = ?, hint = ?, previous_digest = ?, previous_valid_until = ? WHERE id = ?",
                [Self.blob(digest), .text(hint), previous, until, .text(id)])
            try await Self.insert(event, on: connection)
            var updated = key
            updated.digest = digest
            updated.hint = hint
            updated.previousDigest = previousValidUntil == nil ? nil : key.digest
            updated.previousValidUntil = previousValidUntil.map { Date(unixMilliseconds: $0.unixMilliseconds) }
            return updated
        }
    }

    public func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? {
        try await transaction { connection in
            _ = try await connection.query(
                """
                UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?, rate_limit = ?, metadata = ?
                WHERE id = ? AND revoked_at IS NULL
                """,
                [
                    .text(key.name), key.scopes.map { .text($0.map(\.rawValue).sorted().joined(separator: " ")) } ?? .null,
                    Self.optionalDate(key.expiresAt), Self.optionalInt(key.rateLimitPerMinute),
                    .text(JSONText.encode(key.metadata)), .text(key.id),
                ])
            guard
                let stored = try await connection.query("SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", [.text(key.id)])
                    .first.flatMap(Self.key(from:)), stored.revokedAt == nil
            else { return nil }
            try await Self.insert(event, on: connection)
            return stored
        }
    }

    public func insertAuditEvent(_ event: AuditEvent) async throws {
        try await transaction { connection in try await Self.insert(event, on: connection) }
    }

    public func hasAnyKey() async throws -> Bool {
        try await read { connection in
            try await connection.query("SELECT EXISTS (SELECT 1 FROM api_keys) AS found").first?.column("found")?.integer == 1
        }
    }

    // MARK: tenants

    public func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try await transaction { connection in
            let existing = try await connection.query("SELECT id FROM tenants WHERE id = ?", [.text(tenant.id)])
            guard existing.isEmpty else { return false }
            _ = try await connection.query(
                "INSERT INTO tenants (id, name, plan, custom_rate_limit, created_at) VALUES (?, ?, ?, ?, ?)",
                Self.binds(of: tenant))
            if let event { try await Self.insert(event, on: connection) }
            return true
        }
    }

    public func upsertTenant(_ tenant: Tenant) async throws {
        try await transaction { connection in
            _ = try await connection.query(
                """
                INSERT INTO tenants (id, name, plan, custom_rate_limit, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET plan = excluded.plan
                """,
                Self.binds(of: tenant))
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read { connection in
            try await connection.query(
                "SELECT id, name, plan, custom_rate_limit, created_at FROM tenants WHERE id = ?", [.text(id)]
            ).first.flatMap(Self.tenant(from:))
        }
    }

    public func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        let (sql, binds) = Self.pageQuery(
            columns: "id, name, plan, custom_rate_limit, created_at", table: "tenants", tenantID: nil, cursor: cursor,
            limit: limit)
        return try await read { connection in
            try await connection.query(sql, binds).compactMap(Self.tenant(from:))
        }
    }

    public func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws {
        try await transaction { connection in
            _ = try await connection.query(
                "UPDATE tenants SET name = ?, plan = ?, custom_rate_limit = ? WHERE id = ?",
                [.text(tenant.name), .text(tenant.plan), tenant.customRateLimitPerMinute.map { .integer($0) } ?? .null,
                 .text(tenant.id)])
            try await Self.insert(event, on: connection)
        }
    }

    // MARK: usage

    public func addUsage(_ batch: UsageBatch) async throws {
        try await transaction { connection in
            for (bucket, counts) in batch.counts {
                _ = try await connection.query(
                    """
                    INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(key_id, minute) DO UPDATE SET admitted = admitted + excluded.admitted,
                    rate_limited = rate_limited + excluded.rate_limited, errors = errors + excluded.errors
                    """,
                    [.text(bucket.keyID), .integer(Int(bucket.minute)), .integer(counts.admitted),
                     .integer(counts.rateLimited), .integer(counts.errors)])
            }
            for (keyID, use) in batch.lastUses {
                let at = Int(use.at.unixMilliseconds)
                _ = try await connection.query(
                    """
                    UPDATE api_keys SET last_used_at = ?, last_used_from = ?
                    WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)
                    """,
                    [.integer(at), use.from.map { .text($0) } ?? .null, .text(keyID), .integer(at)])
            }
        }
    }

    public func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] {
        let rows = try await read { connection in
            try await connection.query(
                """
                SELECT minute, admitted, rate_limited, errors FROM key_usage WHERE key_id = ? AND minute >= ?
                UNION ALL
                SELECT hour, admitted, rate_limited, errors FROM key_usage_hours WHERE key_id = ? AND hour >= ?
                ORDER BY 1
                """,
                [.text(keyID), .integer(Int(sinceMinute)), .text(keyID), .integer(Int(sinceMinute))])
        }
        return rows.map { row in
            (
                minute: Int64(row.column("minute")?.integer ?? 0),
                counts: UsageCounts(
                    admitted: row.column("admitted")?.integer ?? 0, rateLimited: row.column("rate_limited")?.integer ?? 0,
                    errors: row.column("errors")?.integer ?? 0)
            )
        }
    }

    // MARK: audit

    public func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        let (sql, binds) = Self.pageQuery(
            columns: "id, tenant_id, type, actor_key_id, target_id, created_at, data", table: "audit_events",
            tenantID: tenantID, cursor: cursor, limit: limit)
        return try await read { connection in
            try await connection.query(sql, binds).compactMap(Self.event(from:))
        }
    }

    // MARK: row mapping

    static func blob(_ digest: APIKeyDigest) -> SQLiteData {
        .blob(ByteBuffer(bytes: digest.bytes))
    }

    static func digest(_ data: SQLiteData?) -> APIKeyDigest? {
        guard let buffer = data?.blob else { return nil }
        return APIKeyDigest(bytes: Array(buffer.readableBytesView))
    }

    static func date(_ data: SQLiteData?) -> Date? {
        guard let data, !data.isNull, let value = data.integer else { return nil }
        return Date(unixMilliseconds: Int64(value))
    }

    static func optionalInt(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }

    static func optionalDate(_ value: Date?) -> SQLiteData { value.map { .integer(Int($0.unixMilliseconds)) } ?? .null }

    static func binds(of key: APIKeyRecord) -> [SQLiteData] {
        [
            .text(key.id), .text(key.tenantID), .text(key.name), .text(key.role.rawValue),
            key.scopes.map { .text($0.map(\.rawValue).sorted().joined(separator: " ")) } ?? .null,
            blob(key.digest), key.previousDigest.map(blob) ?? .null, optionalDate(key.previousValidUntil),
            .text(key.hint), .integer(Int(key.createdAt.unixMilliseconds)), optionalDate(key.expiresAt),
            optionalDate(key.revokedAt), optionalInt(key.rateLimitPerMinute), .text(JSONText.encode(key.metadata)),
            optionalDate(key.lastUsedAt), key.lastUsedFrom.map { .text($0) } ?? .null,
        ]
    }

    static func key(from row: SQLiteRow) -> APIKeyRecord? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let role = row.column("role")?.string.flatMap(Role.init(rawValue:)),
            let digest = digest(row.column("digest")), let createdAt = date(row.column("created_at"))
        else { return nil }
        let scopes = row.column("scopes").flatMap { $0.isNull ? nil : $0.string }.map {
            Set($0.split(separator: " ").map { Permission(rawValue: String($0)) })
        }
        return APIKeyRecord(
            id: id, tenantID: tenantID, name: row.column("name")?.string ?? "", role: role, scopes: scopes,
            digest: digest, previousDigest: Self.digest(row.column("previous_digest")),
            previousValidUntil: date(row.column("previous_valid_until")), hint: row.column("hint")?.string ?? "",
            createdAt: createdAt, expiresAt: date(row.column("expires_at")), revokedAt: date(row.column("revoked_at")),
            rateLimitPerMinute: row.column("rate_limit").flatMap { $0.isNull ? nil : $0.integer },
            metadata: JSONText.decodeObject(row.column("metadata")?.string),
            lastUsedAt: date(row.column("last_used_at")),
            lastUsedFrom: row.column("last_used_from").flatMap { $0.isNull ? nil : $0.string })
    }

    static func binds(of tenant: Tenant) -> [SQLiteData] {
        [
            .text(tenant.id), .text(tenant.name), .text(tenant.plan), optionalInt(tenant.customRateLimitPerMinute),
            .integer(Int(tenant.createdAt.unixMilliseconds)),
        ]
    }

    static func tenant(from row: SQLiteRow) -> Tenant? {
        guard let id = row.column("id")?.string, let createdAt = date(row.column("created_at")) else { return nil }
        return Tenant(
            id: id, name: row.column("name")?.string ?? "", plan: row.column("plan")?.string ?? "",
            customRateLimitPerMinute: row.column("custom_rate_limit").flatMap { $0.isNull ? nil : $0.integer },
            createdAt: createdAt)
    }

    static func insert(_ event: AuditEvent, on connection: SQLiteConnection) async throws {
        _ = try await connection.query(
            """
            INSERT INTO audit_events (id, tenant_id, type, actor_key_id, target_id, created_at, data)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(event.id), .text(event.tenantID), .text(event.kind.rawValue),
                event.actorKeyID.map { .text($0) } ?? .null, .text(event.targetID),
                .integer(Int(event.createdAt.unixMilliseconds)), .text(JSONText.encode(event.data)),
            ])
    }

    static func event(from row: SQLiteRow) -> AuditEvent? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let kind = row.column("type")?.string.flatMap(AuditEvent.Kind.init(rawValue:)),
            let targetID = row.column("target_id")?.string, let createdAt = date(row.column("created_at"))
        else { return nil }
        return AuditEvent(
            id: id, kind: kind, tenantID: tenantID,
            actorKeyID: row.column("actor_key_id").flatMap { $0.isNull ? nil : $0.string }, targetID: targetID,
            createdAt: createdAt, data: JSONText.decodeObject(row.column("data")?.string))
    }
}

/// JSON objects stored as text columns.
enum JSONText {
    static func encode(_ object: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decodeObject(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let object)? = try? JSONValue(parsing: text) else { return [:] }
        return object
    }
}
