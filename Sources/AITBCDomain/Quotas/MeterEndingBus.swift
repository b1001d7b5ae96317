/// The cluster bus as seen by an instance that leases quota and credit counters: a change it tells
/// the others about first ends its own affected slices, and so does a change it hears of.
public struct MeterEndingBus: ClusterBus {
    let bus: any ClusterBus
    let leases: MeterLeases

    public init(bus: any ClusterBus, leases: MeterLeases) {
        self.bus = bus
        self.leases = leases
    }

    public var isShared: Bool { bus.isShared }

    /// Ends this instance's affected slices, then tells the others.
    public func publish(_ event: ClusterEvent) async {
        await leases.end(for: event)
        await bus.publish(event)
    }

    /// The other instances' events, each having ended the slices it affects.
    public func events() -> AsyncStream<ClusterEvent> {
        let events = bus.events()
        let leases = leases
        return AsyncStream { continuation in
            let forwarding = Task {
                for await event in events {
                    await leases.end(for: event)
                    continuation.yield(event)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }
}
