import ServiceLifecycle

/// The service that ends this instance's budget leases on time: every `interval` it gives back what
/// leases past their lifetime hold, and at a graceful shutdown it gives back everything (it stops
/// before the storage services, which it needs).
public struct LeaseKeeper: Service {
    let leases: BudgetLeases
    let time: any TimeSource
    let interval: Duration

    public init(leases: BudgetLeases, time: any TimeSource, interval: Duration = .milliseconds(250)) {
        self.leases = leases
        self.time = time
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            await leases.endExpired(now: time.monotonicNanoseconds())
        }
        await leases.endAll()
    }
}
