import AITBCDashboard
import AITBCDomain
import Hummingbird
import Logging
import ServiceLifecycle

extension Coordinator {
    /// The long-lived work of this coordinator, in dependency order: each may use those before it,
    /// and at a graceful shutdown they stop in reverse, after the server (which the application
    /// lists last). So the store closes last; the storage services (PostgreSQL's pool, then the
    /// bus's listener) stop after everything that writes; the last usage is flushed after the last
    /// request; the password-hashing threads stop first.
    public var services: [any Service] {
        var services: [any Service] = [StoreClosing(store: store)]
        services += storageServices.map { StorageService(service: $0) }
        services += [cluster, sweeper, flusher] as [any Service]
        if let budgetJanitor { services.append(budgetJanitor) }
        if let leases = budgets.leases { services.append(LeaseKeeper(leases: leases, time: time)) }
        services += [retention, webhookDelivery, PasswordHashingShutdown(pool: passwordHashing)] as [any Service]
        return services
    }
}

/// Closes the store once every other service has stopped (it is listed first).
struct StoreClosing: Service {
    let store: any CoordinatorStore

    func run() async throws {
        // Cancellation is the other way a service group ends: the store is closed either way.
        do { try await gracefulShutdown() } catch is CancellationError {}
        try await store.close()
    }
}

/// A storage service (a pool, a listener) within the application: when the store is closed before
/// the application stops (a test closes it), it has nothing left to run, which is not a reason to
/// stop the application; it then waits for the shutdown like the others.
struct StorageService: Service {
    let service: any Service

    func run() async throws {
        try await service.run()
        if !Task.isShuttingDownGracefully { try await gracefulShutdown() }
    }
}

/// Stops the dashboard's password-hashing threads at shutdown, letting admitted hashes finish.
struct PasswordHashingShutdown: Service {
    let pool: PasswordHashingPool

    func run() async throws {
        do { try await gracefulShutdown() } catch is CancellationError {}
        await pool.shutdown()
    }
}

/// Runs `app` until SIGTERM or SIGINT, then drains: `/ready` turns 503 and waiting long-polls answer
/// 204 at once, the server stops accepting and finishes what is in flight, usage is flushed and storage
/// closed. A drain that takes longer than `maximumDrain` is cut short.
public func runCoordinator(
    _ app: some ApplicationProtocol, coordinator: Coordinator, logger: Logger, maximumDrain: Duration = .seconds(30)
) async throws {
    var configuration = ServiceGroupConfiguration(
        services: [.init(service: app), .init(service: DrainService(coordinator: coordinator, logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = maximumDrain
    try await ServiceGroup(configuration: configuration).run()
}

/// Listed after the application, so that at shutdown it runs first: it starts the drain before the
/// server waits for in-flight requests (which long-polls would otherwise hold open).
struct DrainService: Service {
    let coordinator: Coordinator
    let logger: Logger

    func run() async throws {
        do { try await gracefulShutdown() } catch is CancellationError { return }
        logger.notice("draining: not ready, releasing long-polls, finishing in-flight requests")
        await coordinator.beginDrain()
    }
}
