import AITBCDomain
import Logging
import PostgresNIO

/// LISTEN/NOTIFY between coordinator instances on one PostgreSQL database.
///
/// Events are sent after the write they describe has committed, on channel `aitbc_events`. Each
/// instance listens on one pooled connection; after every (re)connection it reports
/// ``ClusterEvent/resync``, since notifications sent while it was not listening are lost.
///
/// A listening connection only receives, so a network that silently drops it would go unnoticed
/// (and every notification meanwhile lost, with no resync): every `heartbeat` the listener asks the
/// same connection a trivial question, and when no answer comes within the store's query timeout
/// it closes the connection and listens anew.
public final class PostgresClusterBus: ClusterBus {
    static let channel = "aitbc_events"

    let store: PostgresStore
    /// This instance's name on the bus, so it can ignore its own notifications.
    let origin: String
    let logger: Logger
    let heartbeat: Duration

    public init(store: PostgresStore, origin: String, logger: Logger, heartbeat: Duration = .seconds(2)) {
        self.store = store
        self.origin = origin
        self.logger = logger
        self.heartbeat = heartbeat
    }

    public var isShared: Bool { true }

    public func publish(_ event: ClusterEvent) async {
        let payload = event.encoded(origin: origin)
        do {
            try await store.read { session in
                try await session.rows("SELECT pg_notify(\(Self.channel), \(payload))")
            }
        } catch {
            // The write itself succeeded; other instances catch up at their next reconciliation.
            logger.warning("could not notify other instances", metadata: ["error": "\(PostgresFailure.reason(error))"])
        }
    }

    public func events() -> AsyncStream<ClusterEvent> {
        let (stream, continuation) = AsyncStream<ClusterEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let client = store.client
        let origin = self.origin
        let logger = self.logger
        let heartbeat = self.heartbeat
        let deadline = store.configuration.queryTimeout
        let listener = Task {
            var reportedDown = false
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            if reportedDown { logger.notice("listening for other instances again") }
                            reportedDown = false
                            continuation.yield(.resync)
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                group.addTask {
                                    for try await notification in notifications {
                                        guard let (from, event) = ClusterEvent.decode(notification.payload), from != origin
                                        else { continue }
                                        continuation.yield(event)
                                    }
                                }
                                group.addTask {
                                    while true {
                                        try await Task.sleep(for: heartbeat)
                                        try await Self.check(connection, within: deadline, logger: logger)
                                    }
                                }
                                // Whichever ends first (the connection closed, or it stopped answering) ends both.
                                defer { group.cancelAll() }
                                try await group.next()
                            }
                        }
                    }
                } catch {
                    if !reportedDown, !Task.isCancelled {
                        logger.warning(
                            "not listening for other instances; retrying",
                            metadata: ["error": "\(PostgresFailure.reason(error))"])
                        reportedDown = true
                    }
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in listener.cancel() }
        return stream
    }

    /// Asks the listening connection a trivial question; closes it (ending its notifications) and
    /// throws when no answer comes within `deadline`.
    static func check(_ connection: PostgresConnection, within deadline: Duration, logger: Logger) async throws {
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                // Through a session: its statement also ends when the connection closes.
                try await PostgresSession(connection: connection, logger: logger).rows("SELECT 1")
                return true
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                // Closing fails the question still waiting (a query cannot be cancelled), so the group can end.
                connection.close().whenComplete { _ in }
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        guard answered else { throw PostgresFailure.noAnswer(within: deadline) }
    }
}
