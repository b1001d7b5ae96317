import Logging
import PostgresNIO

/// One leased connection, as the store's operations see it: statements run one after another and
/// their rows are read in full, so the connection is free again when an operation returns.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `query` and returns every row it produced.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// Runs `body` between `BEGIN` and `COMMIT`; rolls back and rethrows what `body` threw.
    ///
    /// Not `PostgresConnection.withTransaction`: that wraps every error in a
    /// `PostgresTransactionError`, which would hide the domain's own errors from the caller.
    func transaction<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await rows("BEGIN")
        do {
            let result = try await body(self)
            try await rows("COMMIT")
            return result
        } catch {
            do {
                try await rows("ROLLBACK")
            } catch {
                // A connection that cannot roll back must not go back to the pool mid-transaction.
                try? await connection.close()
            }
            throw error
        }
    }
}
