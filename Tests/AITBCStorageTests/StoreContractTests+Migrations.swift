import AITBCDomain
import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
import Testing

@testable import AITBCStorage

/// A database made by an older release (every migration but the newest applied, rows written in
/// that schema) opened by this one: the pending migration runs, and every row is still there and usable.
extension StoreContractTests {
    /// What the older release wrote: a tenant, a key, its audit event, a queued job and two minutes of usage.
    struct OlderRows {
        static let tenant = Tenant(id: "old", name: "Old Co", plan: "pro", createdAt: StoreContractTests.now)
        static let key = StoreContractTests.key("key_old", tenant: "old", role: .client)
        static let event = StoreContractTests.event(.keyCreated, tenant: "old", target: "key_old")
        static let job = Job(
            id: "job_old", tenantID: "old", clientKeyID: "key_old", payload: ["prompt": "from before"],
            constraints: ["gpu": "4090"], ttlSeconds: 900, requestedAt: StoreContractTests.now,
            expiresAt: StoreContractTests.now.addingTimeInterval(900))
        /// The start of an hour two days back, in the store's unit (Unix seconds).
        static let hour = Int64(StoreContractTests.now.timeIntervalSince1970) / 3600 * 3600 - 48 * 3600
        static let minutes: [(minute: Int64, admitted: Int)] = [(hour, 3), (hour + 60, 4)]
    }

    static let olderBackends = ["sqlite"] + (PostgresTestDatabase.isConfigured ? ["postgres"] : [])

    /// The columns of `api_keys` the older schema has: those of migration 1 (later ones add more).
    static let olderKeyColumns = SQLiteStore.keyColumns.split(separator: ",").prefix(16).joined(separator: ",")

    @Test(arguments: olderBackends)
    func aDatabaseOfTheOlderSchemaIsMigratedWithItsRowsIntactAndUsable(backend: String) async throws {
        let (store, reopen) = try await backend == "postgres" ? Self.olderPostgresStore() : Self.olderSQLiteStore()
        do {
            try await Self.expectOlderRowsIntactAndUsable(in: store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()

        // Opening it again applies nothing twice.
        let again = try await reopen()
        let key = try await again.key(id: "key_old")
        let usage = try await again.usage(keyID: "key_old", sinceMinute: 0)
        try await again.close()
        #expect(key?.revokedAt == Self.now)
        #expect(usage.first?.counts.admitted == 7)
    }

    /// The rows of ``OlderRows`` read back as written, then used with what the newest migration added.
    static func expectOlderRowsIntactAndUsable(in store: any CoordinatorStore) async throws {
        #expect(try await store.tenant(id: "old") == OlderRows.tenant)
        #expect(try await store.key(matching: OlderRows.key.digest) == OlderRows.key)
        #expect(try await store.key(id: "key_old") == OlderRows.key)
        #expect(try await store.auditEvents(tenantID: "old", after: nil, limit: 10).map(\.id) == [OlderRows.event.id])
        #expect(try await store.job(id: "job_old") == OlderRows.job)
        #expect(try await store.activeJobs().map(\.id) == ["job_old"])
        let usage = try await store.usage(keyID: "key_old", sinceMinute: 0)
        #expect(usage.map(\.minute) == OlderRows.minutes.map(\.minute))
        #expect(usage.map(\.counts.admitted) == OlderRows.minutes.map(\.admitted))

        // Usable with what the newest migration added: usage rolled into hours, finished jobs deleted.
        #expect(try await store.rollUpUsageMinutes(before: OlderRows.hour + 3600, limit: 100) == 2)
        let rolled = try await store.usage(keyID: "key_old", sinceMinute: 0)
        #expect(rolled.map(\.minute) == [OlderRows.hour])
        #expect(rolled.first?.counts.admitted == 7)
        var done = OlderRows.job
        done.state = .completed
        done.finishedAt = Self.now.addingTimeInterval(60)
        done.result = ["text": "done"]
        #expect(try await store.updateJob(done, ifStateIn: [.queued]))
        #expect(try await store.job(id: "job_old") == done)
        #expect(try await store.deleteFinishedJobs(finishedBefore: Self.now.addingTimeInterval(3600), limit: 10) == 1)
        #expect(try await store.job(id: "job_old") == nil)
        // And the old key is still managed as any other.
        guard case .revoked(let revoked) = try await store.revokeKey(
            id: "key_old", at: Self.now, event: Self.event(.keyRevoked, tenant: "old", target: "key_old"))
        else {
            Issue.record("the migrated key could not be revoked")
            return
        }
        #expect(revoked.revokedAt == Self.now)
    }

    /// A SQLite file at the schema before the newest migration, with ``OlderRows`` written in it,
    /// opened by the store; and a way to open it again.
    static func olderSQLiteStore() async throws -> (any CoordinatorStore, @Sendable () async throws -> any CoordinatorStore) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-older-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("db.sqlite").path
        // The schema before the retention migration (6), whose table the checks below look for; the
        // later ones (8: receipt keys) apply on opening with it.
        let newest = 6
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            _ = try await connection.query(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            for migration in SQLiteMigrations.all where migration.version < newest {
                for statement in migration.statements { _ = try await connection.query(statement) }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [.integer(migration.version), .integer(0)])
            }
            _ = try await connection.query(
                "INSERT INTO tenants (id, name, plan, custom_rate_limit, created_at) VALUES (?, ?, ?, ?, ?)",
                Array(SQLiteStore.binds(of: OlderRows.tenant).prefix(5)))
            // The columns of the older schema: the row layouts only grew at their ends since.
            _ = try await connection.query(
                "INSERT INTO api_keys (\(Self.olderKeyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Array(SQLiteStore.binds(of: OlderRows.key).prefix(16)))
            // The store's row writer runs on its own C-level handle to the same file.
            let handle = try SQLiteHandle.open(path: path)
            defer { handle.close() }
            try SQLiteStore.insert(OlderRows.event, on: handle)
            _ = try await connection.query(
                "INSERT INTO jobs (\(SQLiteStore.jobColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                SQLiteStore.binds(of: OlderRows.job))
            for (minute, admitted) in OlderRows.minutes {
                _ = try await connection.query(
                    "INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors) VALUES (?, ?, ?, 0, 0)",
                    [.text("key_old"), .integer(Int(minute)), .integer(admitted)])
            }
            let tables = try await connection.query("SELECT name FROM sqlite_master WHERE name = 'key_usage_hours'")
            #expect(tables.isEmpty, "the older schema already has the newest migration's table")
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        let open: @Sendable () async throws -> any CoordinatorStore = { try await SQLiteStore.open(path: path) }
        return (try await open(), open)
    }

    /// A PostgreSQL database at the schema before the newest migration, with ``OlderRows`` in it,
    /// opened by the store; and a way to open it again.
    static func olderPostgresStore() async throws -> (any CoordinatorStore, @Sendable () async throws -> any CoordinatorStore) {
        let database = try await PostgresDatabaseScope.makeDatabase()
        // The schema before migration 7 (`aitbc_admit` told the time), which the checks below look for;
        // the later ones (8: receipt keys, 9: budget leases) apply on opening with it.
        let newest = 7
        let logger = PostgresTestDatabase.logger
        try await database.withConnection { connection in
            _ = try await connection.query(
                """
                CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            for migration in PostgresMigrations.all where migration.version < newest {
                for statement in migration.statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query("INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
            }
            let tenant = OlderRows.tenant
            _ = try await connection.query(
                """
                INSERT INTO tenants (id, name, plan, custom_rate_limit, created_at) VALUES (\(tenant.id), \(tenant.name), \(tenant.plan),
                \(tenant.customRateLimitPerMinute), \(PostgresInstant(tenant.createdAt)))
                """, logger: logger)
            let key = OlderRows.key
            _ = try await connection.query(
                """
                INSERT INTO api_keys (\(unescaped: Self.olderKeyColumns)) VALUES (
                \(key.id), \(key.tenantID), \(key.name), \(key.role.rawValue),
                \(key.scopes.map { $0.map(\.rawValue).sorted().joined(separator: " ") }), \(PostgresStore.bytes(key.digest)),
                \(key.previousDigest.map(PostgresStore.bytes)), \(key.previousValidUntil.map { PostgresInstant($0) }), \(key.hint),
                \(PostgresInstant(key.createdAt)), \(key.expiresAt.map { PostgresInstant($0) }),
                \(key.revokedAt.map { PostgresInstant($0) }), \(key.rateLimitPerMinute), \(JSONText.encode(key.metadata)),
                \(key.lastUsedAt.map { PostgresInstant($0) }), \(key.lastUsedFrom))
                """, logger: logger)
            _ = try await connection.query(PostgresStore.insertQuery(of: OlderRows.event), logger: logger)
            _ = try await connection.query(PostgresStore.insertQuery(of: OlderRows.job), logger: logger)
            for (minute, admitted) in OlderRows.minutes {
                _ = try await connection.query(
                    "INSERT INTO key_usage (key_id, minute, admitted, rate_limited, errors) VALUES ('key_old', \(Int(minute)), \(admitted), 0, 0)",
                    logger: logger)
            }
            // Migration 9 adds budget leases, `aitbc_lease`: not there yet.
            let leases = try await connection.query(
                "SELECT count(*)::BIGINT FROM pg_proc WHERE proname = 'aitbc_lease'", logger: logger
            ).collect()
            #expect(try leases.first?.decode(Int.self) == 0, "the older schema already has the newest migration's function")
        }
        let open: @Sendable () async throws -> any CoordinatorStore = { try await database.open() }
        let store = try await open()
        // Instances of the versions before, calling `aitbc_admit` with five arguments or six, are
        // still answered (a rolling upgrade); the time can be told.
        try await database.withConnection { connection in
            let old = try await connection.query(
                "SELECT admitted FROM aitbc_admit('older-caller', 60, NULL, NULL, 1)", logger: logger
            ).collect()
            #expect(try old.first?.decode(Int.self) == 1)
            let told = try await connection.query(
                "SELECT admitted, now_ns FROM aitbc_admit('told-caller', 60, NULL, NULL, 1, 42000000000)", logger: logger
            ).collect()
            let (admitted, now) = try #require(try told.first?.decode((Int, Int64).self))
            #expect(admitted == 1 && now == 42_000_000_000)
        }
        return (store, open)
    }
}
