import AITBCDomain
import Logging
import SQLiteNIO
import Synchronization

/// Connections of their own for reads of a database file in WAL mode: a read never waits behind
/// the writer's transaction, its `fsync` or the writes queued for the next commit, and it sees only
/// what has committed (WAL readers see a transaction once its `COMMIT` has synced). Each connection
/// runs one statement at a time behind its own gate; reads take them in turn.
final class SQLiteReadConnections: Sendable {
    /// How many a file gets: reads on the job flow's hot path come a few at a time.
    static let count = 2

    private let connections: [(connection: SQLiteConnection, gate: AsyncSerialGate)]
    private let next = Atomic<UInt>(0)

    private init(connections: [SQLiteConnection]) {
        self.connections = connections.map { ($0, AsyncSerialGate()) }
    }

    /// Opens ``count`` connections to the file at `path`, which the writer has already opened and
    /// migrated (so it is in WAL mode). They refuse writes.
    static func open(path: String, logger: Logger) async throws -> SQLiteReadConnections {
        var connections: [SQLiteConnection] = []
        do {
            for _ in 0..<count {
                let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                connections.append(connection)
                _ = try await connection.query("PRAGMA busy_timeout=5000")
                _ = try await connection.query("PRAGMA query_only=ON")
            }
        } catch {
            for connection in connections { try? await connection.close() }
            throw error
        }
        return SQLiteReadConnections(connections: connections)
    }

    /// Runs `body` on the next connection, alone on it.
    func run<T: Sendable>(_ body: @Sendable @escaping (SQLiteConnection) async throws -> T) async throws -> T {
        let index = Int(next.wrappingAdd(1, ordering: .relaxed).newValue % UInt(connections.count))
        let (connection, gate) = connections[index]
        return try await gate.run { try await body(connection) }
    }

    /// Closes every connection once the reads on it have ended.
    func close() async {
        for (connection, gate) in connections {
            _ = try? await gate.run { try await connection.close() }
        }
    }
}
