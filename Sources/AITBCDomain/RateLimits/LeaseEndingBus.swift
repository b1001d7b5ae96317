/// The cluster bus as seen by the services of an instance that leases slices of shared counters
/// (rate budgets, quotas, credits): a change this instance tells the others about (a revocation, a
/// plan or limit change, a top-up) first ends its own affected leases, and so does a change it hears
/// of, before the rest of the instance applies it.
public struct LeaseEndingBus: ClusterBus {
    let bus: any ClusterBus
    let leases: any LeaseHolder

    public init(bus: any ClusterBus, leases: any LeaseHolder) {
        self.bus = bus
        self.leases = leases
    }

    public var isShared: Bool { bus.isShared }

    /// Ends this instance's affected leases (their units go back), then tells the others.
    public func publish(_ event: ClusterEvent) async {
        await leases.end(for: event)
        await bus.publish(event)
    }

    /// The other instances' events, each having ended the leases it affects.
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
