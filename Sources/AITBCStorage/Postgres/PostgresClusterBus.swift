import AITBCDomain
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

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
///
/// The listener runs while ``run()`` runs (a `Service`, after the database's), and ends when the
/// store closes. Events go to the one subscriber of ``events()``.
public final class PostgresClusterBus: ClusterBus, Service {
    static let channel = "aitbc_events"

    let store: PostgresStore
    /// This instance's name on the bus, so it can ignore its own notifications.
    let origin: String
    let logger: Logger
    let heartbeat: Duration

    /// Sends one payload on the channel: `pg_notify` through the store, unless a test stands in.
    let notify: @Sendable (String) async throws -> Void

    private let runs = SharedRun()
    /// The subscriber, and whether the listener listens now (a new subscriber then asks for a resync).
    private let subscription = Mutex<(subscriber: AsyncStream<ClusterEvent>.Continuation?, listening: Bool)>((nil, false))

    /// A bus on `store`'s database, on which this instance is called `origin`.
    public convenience init(store: PostgresStore, origin: String, logger: Logger, heartbeat: Duration = .seconds(2)) {
        self.init(store: store, origin: origin, logger: logger, heartbeat: heartbeat, notify: nil)
    }

    /// A bus whose sends go through `notify` (nil: `pg_notify` through `store`).
    init(
        store: PostgresStore, origin: String, logger: Logger, heartbeat: Duration = .seconds(2),
        notify: (@Sendable (String) async throws -> Void)?
    ) {
        self.store = store
        self.origin = origin
        self.logger = logger
        self.heartbeat = heartbeat
        self.notify = notify ?? { payload in try await Self.notify(payload, through: store) }
        store.database.stopsOnClose(runs)
    }

    public var isShared: Bool { true }

    /// How long a failed `NOTIFY` is tried again.
    static let retryWindow = Duration.seconds(1)

    /// Sends `event`, trying again after 50 ms, 100 ms, 200 ms, … for about ``retryWindow`` (at most
    /// the store's query timeout): an event lost to a passing failure would leave the other instances
    /// serving a revoked key from their caches until it expires. (A send that failed after all but
    /// reached the database is then heard twice, which is harmless: an event only says what to look at again.)

    public func publish(_ event: ClusterEvent) async {
        let payload = event.encoded(origin: origin)
        // Retries ride out a blip of a second; longer, they would only hold the caller's answer (its
        // write is committed) through an outage, after which every listener reconnects and resyncs.
        let giveUp = ContinuousClock.now + min(store.configuration.queryTimeout, Self.retryWindow)
        var pause = Duration.milliseconds(50)
        var failures = 0
        while true {
            do {
                try await notify(payload)
                if failures > 0 { logger.notice("notified other instances after \(failures) failed tries") }
                return
            } catch {
                failures += 1
                guard ContinuousClock.now + pause < giveUp, !Task.isCancelled else {
                    // The write itself succeeded; other instances catch up at their next reconciliation.
                    logger.error(
                        "could not notify other instances",
                        metadata: ["error": "\(PostgresFailure.reason(error))", "tries": "\(failures)"])
                    return
                }
            }
            try? await Task.sleep(for: pause)
            pause *= 2
        }
    }

    /// `NOTIFY` on the bus's channel through a pooled connection of `store`.
    static func notify(_ payload: String, through store: PostgresStore) async throws {
        try await store.read { session in
            try await session.rows("SELECT pg_notify(\(Self.channel), \(payload))")
        }
    }

    /// Events from the other instances, and a resync whenever some may have been missed: at once if
    /// the listener listens now, else when it starts listening. A new call replaces the subscriber.
    public func events() -> AsyncStream<ClusterEvent> {
        let (stream, continuation) = AsyncStream<ClusterEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let listening = subscription.withLock { subscription in
            subscription.subscriber?.finish()
            subscription.subscriber = continuation
            return subscription.listening
        }
        if listening { continuation.yield(.resync) }
        return stream
    }

    /// Sends `event` to the subscriber, if any.
    private func deliver(_ event: ClusterEvent) {
        _ = subscription.withLock { $0.subscriber }?.yield(event)
    }

    /// Whether the listener listens now; starting to listen asks the subscriber for a resync.
    private func listening(_ listening: Bool) {
        let subscriber = subscription.withLock { subscription in
            subscription.listening = listening
            return subscription.subscriber
        }
        if listening { subscriber?.yield(.resync) }
    }

    /// Listens for the other instances until this run is cancelled or shut down gracefully, or the
    /// store closes, connecting again after every failure.
    public func run() async {
        await runs.run { [self] in await listen() }
    }

    private func listen() async {
        let origin = self.origin
        let logger = self.logger
        let heartbeat = self.heartbeat
        let deadline = store.configuration.queryTimeout
        var reportedDown = false
        while !Task.isCancelled {
            do {
                // The pool of the database's run now (each run of the database has its own).
                try await store.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        if reportedDown { logger.notice("listening for other instances again") }
                        reportedDown = false
                        listening(true)
                        defer { listening(false) }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await notification in notifications {
                                    guard let (from, event) = ClusterEvent.decode(notification.payload), from != origin
                                    else { continue }
                                    self.deliver(event)
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
