import AITBCDashboard
import AITBCDomain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The domain services of one server instance, wired together once and shared by the HTTP layer.
public struct Coordinator: Sendable {
    public let store: any CoordinatorStore
    public let time: any TimeSource
    public let secrets: any SecretSource
    public let authenticator: KeyAuthenticator
    /// The request budgets of API keys (and of dashboard actions), and the usage they count.
    public let budgets: RequestBudgets
    public let usage: UsageRecorder
    public let keys: KeyService
    public let tenants: TenantService
    /// Dashboard accounts and sessions.
    public let accounts: AccountService
    /// The threads that hash dashboard passwords, with their bounded queue.
    public let passwordHashing: PasswordHashingPool
    /// The client side of the job flow.
    public let jobs: JobService
    /// The miner side of the job flow: registration, heartbeats, long-polls, results.
    public let miners: MinerService
    /// The key receipts are signed with (loaded at start) and the keys they verify against.
    public let receipts: ReceiptKeyring
    public let flusher: UsageFlusher
    /// Expires queued jobs past their TTL, takes jobs back from silent miners, forgets long-gone miners.
    public let sweeper: JobSweeper
    /// How instances on a shared store keep each other informed (nothing to do on SQLite).
    public let bus: any ClusterBus
    /// The rate-limit authority all instances share (PostgreSQL), or nil: each instance's own budgets decide.
    public let sharedLimit: (any SharedRateLimit)?
    /// Keeps ``sharedLimit``'s table to the budgets in use.
    public let budgetJanitor: BudgetJanitor?
    /// Deletes finished jobs, idempotency keys, usage, sessions and audit events past their age.
    public let retention: RetentionJanitor
    /// Applies other instances' events and reconciles the queue with storage.
    public let cluster: ClusterSync
    /// Tenants' webhook endpoints, and the service that sends their deliveries.
    public let webhooks: WebhookService
    let webhookDelivery: WebhookDeliveryService
    /// Set when a graceful shutdown begins: `/ready` answers 503 and long-polls end.
    public let lifecycle = Lifecycle()
    /// The long-polls waiting now, per key and per tenant, within their caps.
    public let longPolls: LongPollSlots
    /// The connections the server holds open now.
    public let connections = OpenConnections()
    /// What must run for ``store`` to answer (PostgreSQL's pool, then the bus's listener), in
    /// dependency order; ``services`` lists them.
    public let storageServices: [any Service]
    /// Makes ``prepare(settings:announce:)`` run once.
    let startup = StartupOnce()

    /// Wires the services over `store`; `developmentDigests` are the digests of development keys.
    /// `pollClock`: what long-poll deadlines are measured on (tests pass one that never moves, to show
    /// that a waiting poll is handed a job without any time passing on it).
    public init(
        store: any CoordinatorStore, settings: CoordinatorSettings, time: any TimeSource = SystemTimeSource(),
        secrets: any SecretSource = SystemSecretSource(), developmentDigests: Set<APIKeyDigest> = [],
        bus: any ClusterBus = StandaloneBus(), sharedLimit: (any SharedRateLimit)? = nil,
        storageServices: [any Service] = [], pollClock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "aitbc")
    ) {
        let usage = UsageRecorder()
        // With a shared rate limit (PostgreSQL), quota and credit counters are leased from the store too.
        let meters = SpendingMeters(
            store: store, time: time, authority: sharedLimit == nil ? nil : store as? any MeterLeaseAuthority)
        let budgets = RequestBudgets(shared: sharedLimit, usage: usage, time: time, meters: meters)
        // A change this instance makes or hears of ends its affected budget, quota and credit leases first.
        let leasingBus: any ClusterBus = budgets.leases.map { LeaseEndingBus(bus: bus, leases: $0) } ?? bus
        let bus: any ClusterBus = meters.leases.map { LeaseEndingBus(bus: leasingBus, leases: $0) } ?? leasingBus
        self.store = store
        self.storageServices = storageServices
        self.bus = bus
        self.sharedLimit = sharedLimit
        self.budgetJanitor = sharedLimit.map { BudgetJanitor(limit: $0, logger: logger) }
        self.time = time
        self.secrets = secrets
        let attempts = AttemptBudgets(shared: sharedLimit)
        self.authenticator = KeyAuthenticator(
            store: store, plans: settings.plans, time: time, cacheCapacity: settings.keyCacheCapacity,
            cacheLifetime: .seconds(settings.keyCacheLifetimeSeconds), developmentDigests: developmentDigests,
            failureLimitPerMinute: settings.authFailuresPerMinute, failures: attempts)
        self.usage = usage
        self.budgets = budgets
        self.keys = KeyService(
            store: store, authenticator: authenticator, usage: usage, time: time, secrets: secrets, bus: bus,
            meters: meters)
        self.tenants = TenantService(
            store: store, authenticator: authenticator, keys: keys, time: time, secrets: secrets)
        let passwordHashing = PasswordHashingPool(threads: settings.passwordHashThreads, queue: settings.passwordHashQueue)
        self.passwordHashing = passwordHashing
        self.accounts = AccountService(
            store: store, authenticator: authenticator, keys: keys,
            hasher: BcryptPasswordHasher(cost: UInt8(settings.passwordHashCost), pool: passwordHashing), time: time,
            secrets: secrets, attempts: attempts)
        self.receipts = ReceiptKeyring(configured: settings.receiptSigningSeed, store: store, time: time)
        let queue = JobQueue(reconcileGrace: bus.isShared ? .seconds(15) : .zero, clock: pollClock)
        self.jobs = JobService(
            store: store, queue: queue, time: time, secrets: secrets, settings: settings.jobs, bus: bus)
        self.miners = MinerService(
            store: store, queue: queue, time: time, secrets: secrets, settings: settings.jobs, logger: logger, bus: bus,
            receipts: receipts)
        let resolver = SystemAddressResolver()
        let webhooks = WebhookService(
            store: store, resolver: resolver, time: time, secrets: secrets, settings: settings.webhooks, bus: bus,
            logger: logger)
        self.webhooks = webhooks
        self.webhookDelivery = WebhookDeliveryService(
            store: store, resolver: resolver, time: time, settings: settings.webhooks, logger: logger,
            refresh: { await webhooks.housekeeping() })
        self.cluster = ClusterSync(
            bus: bus, authenticator: authenticator, store: store, queue: queue, reconcileInterval: .seconds(5),
            logger: logger, webhooks: webhooks)
        self.longPolls = LongPollSlots(perKey: settings.maximumPollsPerKey, perTenant: settings.maximumPollsPerTenant)
        self.sweeper = JobSweeper(
            store: store, queue: queue, time: time, settings: settings.jobs, logger: logger, bus: bus, interval: .seconds(1))
        self.flusher = UsageFlusher(
            recorder: usage, store: store, meters: meters, interval: .milliseconds(Int(settings.usageFlushIntervalSeconds * 1000)),
            logger: logger)
        self.retention = RetentionJanitor(
            store: store, policy: settings.retention, time: time, interval: .seconds(settings.janitorIntervalSeconds),
            logger: logger)
    }

    /// Starts a graceful shutdown: not ready any more, and no long-poll waits.
    public func beginDrain() async {
        lifecycle.beginDrain()
        await miners.stopHandingOutJobs()
    }

    /// Opens the store named by `settings` (its schema created or migrated) and wires the services
    /// over it. Nothing else is read or written yet: ``prepare(settings:announce:)`` does the
    /// start-up work once the storage services run.
    public static func open(
        settings: CoordinatorSettings, time: any TimeSource = SystemTimeSource(),
        secrets: any SecretSource = SystemSecretSource(), pollClock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) async throws -> Coordinator {
        let backend = try await AITBCStorageFactory.open(settings: settings, time: time, secrets: secrets, logger: logger)
        return Coordinator(
            store: backend.store, settings: settings, time: time, secrets: secrets,
            developmentDigests: StoreBootstrap.developmentDigests(settings.mode == .development ? settings.developmentKeys : [:]),
            bus: backend.bus, sharedLimit: backend.sharedLimit, storageServices: backend.services, pollClock: pollClock,
            logger: logger)
    }

    /// The start-up work, done once however often it is asked for: the development keys (dev
    /// mode), the first operator key of an empty store (`announce` receives it, to print once), the
    /// receipt signing key, and the job queue loaded from storage. The storage services must be running.
    public func prepare(settings: CoordinatorSettings, announce: @escaping @Sendable (String) -> Void) async throws {
        try await startup.runOnce { [self] in
            if settings.mode == .development {
                _ = try await StoreBootstrap.registerDevelopmentKeys(
                    settings.developmentKeys, plan: settings.developmentPlan, store: store, time: time)
            }
            if let secret = try await StoreBootstrap.createFirstOperatorKeyIfEmpty(store: store, time: time, secrets: secrets) {
                announce(secret)
            }
            try await receipts.load()
            try await cluster.restore()
            await webhooks.refreshSubscriptions()
        }
    }

    /// Opens and prepares a coordinator before any application runs (the storage services run
    /// meanwhile, then stop): for tests and tools that use it directly.
    public static func start(
        settings: CoordinatorSettings, time: any TimeSource = SystemTimeSource(),
        secrets: any SecretSource = SystemSecretSource(), pollClock: any Clock<Duration> = ContinuousClock(), logger: Logger,
        announce: @escaping @Sendable (String) -> Void
    ) async throws -> Coordinator {
        let coordinator = try await open(settings: settings, time: time, secrets: secrets, pollClock: pollClock, logger: logger)
        do {
            try await coordinator.whileStorageRuns { try await coordinator.prepare(settings: settings, announce: announce) }
        } catch {
            try? await coordinator.store.close()
            throw error
        }
        return coordinator
    }

    /// Runs `body` while ``storageServices`` run, and stops them after.
    func whileStorageRuns<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in storageServices { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// Lets start-up work run once: later calls wait for the first and then return.
final class StartupOnce: Sendable {
    private let gate = AsyncSerialGate()
    private let done = Mutex(false)

    private var isDone: Bool { done.withLock { $0 } }

    func runOnce(_ body: @escaping @Sendable () async throws -> Void) async throws {
        try await gate.run { [self] in
            guard !isDone else { return }
            try await body()
            done.withLock { $0 = true }
        }
    }
}

/// Whether the instance is shutting down.
public final class Lifecycle: Sendable {
    private let state = Mutex(false)

    public init() {}

    public var isDraining: Bool { state.withLock { $0 } }

    func beginDrain() { state.withLock { $0 = true } }
}
