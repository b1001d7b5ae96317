import AITBCDomain
import Synchronization

/// Connects coordinators in one process the way PostgreSQL's LISTEN/NOTIFY connects instances:
/// every event goes, encoded, to every other member. `dropping` loses events (a broken connection).
final class InProcessHub: Sendable {
    private struct State {
        var members: [String: AsyncStream<ClusterEvent>.Continuation] = [:]
        var dropping = false
    }

    private let state = Mutex(State())

    func bus(_ origin: String) -> InProcessBus { InProcessBus(hub: self, origin: origin) }

    /// How many members are listening.
    var listening: Int { state.withLock { $0.members.count } }

    func setDropping(_ dropping: Bool) { state.withLock { $0.dropping = dropping } }

    func deliver(_ text: String) {
        guard let (origin, event) = ClusterEvent.decode(text) else { return }
        let targets = state.withLock { state in
            state.dropping ? [] : state.members.filter { $0.key != origin }.map(\.value)
        }
        for target in targets { target.yield(event) }
    }

    func join(_ origin: String) -> AsyncStream<ClusterEvent> {
        let (stream, continuation) = AsyncStream<ClusterEvent>.makeStream()
        state.withLock { $0.members[origin] = continuation }
        return stream
    }
}

struct InProcessBus: ClusterBus {
    let hub: InProcessHub
    let origin: String

    var isShared: Bool { true }
    func publish(_ event: ClusterEvent) async { hub.deliver(event.encoded(origin: origin)) }
    func events() -> AsyncStream<ClusterEvent> { hub.join(origin) }
}
