import Logging
import PostgresNIO
import Synchronization

/// One leased connection, as the store's operations see it: statements run one after another and
/// their rows are read in full, so the connection is free again when an operation returns.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The deadline keeper of the call holding this connection: it sees each statement finish, and
    /// fails the one in flight when the database stops answering (nil: no deadline, as for migrations).
    var watch: StatementWatch? = nil

    /// Runs `query` and returns every row it produced; fails when the connection closes first.
    ///
    /// postgres-nio writes a query to its channel without a write promise: on a connection that
    /// closed a moment earlier (the pool can still hand one out) the query is never answered and
    /// its caller would wait forever. The channel's close ends the wait instead.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        if let failure = watch?.abandonment { throw failure }
        let result: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        let closed = connection.closeFuture
        // An error is an answer too: the statement that follows (a ROLLBACK) gets its full time.
        defer { watch?.answered() }
        return try await withCheckedThrowingContinuation { continuation in
            let answer = SingleAnswer(continuation)
            watch?.track(answer)
            result.whenComplete { answer.resume(with: $0.map(\.rows)) }
            closed.whenComplete { _ in answer.resume(with: .failure(PostgresFailure.connectionClosed)) }
        }
    }

    /// A continuation resumed by whichever of several callbacks comes first.
    final class SingleAnswer: Sendable {
        private let continuation: Mutex<CheckedContinuation<[PostgresRow], any Error>?>

        init(_ continuation: CheckedContinuation<[PostgresRow], any Error>) {
            self.continuation = Mutex(continuation)
        }

        func resume(with result: Result<[PostgresRow], any Error>) {
            continuation.withLock { pending in
                defer { pending = nil }
                return pending
            }?.resume(with: result)
        }
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
                // Not awaited: over TLS a close waits seconds for a peer that may never answer.
                connection.close().whenComplete { _ in }
            }
            throw error
        }
    }
}
