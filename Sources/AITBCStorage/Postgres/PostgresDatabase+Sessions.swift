import AITBCDomain
import PostgresNIO

extension PostgresDatabase {
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
    func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        guard !isClosed else { throw StorageError.unavailable }
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
}
