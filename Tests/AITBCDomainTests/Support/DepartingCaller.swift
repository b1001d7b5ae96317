import Synchronization

@testable import AITBCDomain

/// A long-poll's caller that a test sends away with ``depart()``.
final class DepartingCaller: CallerPresence {
    private let state = Mutex((watched: false, departed: false))
    private let gone: AsyncStream<Void>
    private let leave: AsyncStream<Void>.Continuation

    init() {
        (gone, leave) = AsyncStream.makeStream()
    }

    /// Whether the queue started watching it (it does only before it waits).
    var watched: Bool { state.withLock { $0.watched } }

    var hasDeparted: Bool { state.withLock { $0.departed } }

    func watch() async { state.withLock { $0.watched = true } }

    func departure() async {
        for await _ in gone { return }
    }

    /// The caller goes away: a poll waiting for it ends.
    func depart() {
        state.withLock { $0.departed = true }
        leave.finish()
    }
}
