import AITBCDomain
import Foundation
import Logging
import SQLiteNIO

/// The embedded store: one SQLite file (see ``SQLiteDatabase`` for the connection, its gate and
/// error translation), so a write that has returned survives `kill -9` and power loss. Each
/// aggregate is in a file of its own (`SQLiteStore+Keys.swift`, …).
public final class SQLiteStore: CoordinatorStore {
    /// The connection and its plumbing.
    public let database: SQLiteDatabase

    var logger: Logger { database.logger }

    public var statistics: StorageStatistics { database.statistics }

    /// Which tenants' changes write webhook events, and the deliverer's wake-up.
    public let webhookOutbox = WebhookOutbox()

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// `path` nil opens a private in-memory database (tests).
    public static func open(path: String?, logger: Logger = Logger(label: "aitbc.sqlite")) async throws -> SQLiteStore {
        SQLiteStore(database: try await SQLiteDatabase.open(path: path, logger: logger))
    }

    /// Runs `body` on a reader's connection (on its thread), alone, counting it for `/metrics`.
    func read<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        try await database.read(body)
    }

    /// Runs `body` in a transaction (shared with concurrent writes, each in its own savepoint),
    /// counting it for `/metrics`; returns once it has committed.
    func transaction<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        try await database.transaction(body)
    }

    public func isHealthy() async -> Bool {
        await database.isHealthy()
    }

    /// Checkpoints and closes the database.
    public func close() async throws {
        try await database.close()
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
}
