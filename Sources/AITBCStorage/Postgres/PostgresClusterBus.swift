import AITBCDomain
import Logging
import PostgresNIO

/// LISTEN/NOTIFY between coordinator instances on one PostgreSQL database.
///
/// Events are sent after the write they describe has committed, on channel `aitbc_events`. Each
/// instance listens on one pooled connection; after every (re)connection it reports
/// ``ClusterEvent/resync``, since notifications sent while it was not listening are lost.
public final class PostgresClusterBus: ClusterBus {
    static let channel = "aitbc_events"

    let store: PostgresStore
    /// This instance's name on the bus, so it can ignore its own notifications.
    let origin: String
    let logger: Logger

    public init(store: PostgresStore, origin: String, logger: Logger) {
        self.store = store
        self.origin = origin
        self.logger = logger
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
        let listener = Task {
            var reportedDown = false
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            if reportedDown { logger.notice("listening for other instances again") }
                            reportedDown = false
                            continuation.yield(.resync)
                            for try await notification in notifications {
                                guard let (from, event) = ClusterEvent.decode(notification.payload), from != origin
                                else { continue }
                                continuation.yield(event)
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
}
