import Logging
import ServiceLifecycle
import Synchronization

/// Keeps this instance's memory in step with storage and with the other instances on a shared store:
/// loads the job queue at start, applies their events (forget a changed key or tenant, enqueue a job,
/// note an assignment, take a miner's stored version) and, as the backstop for events that never
/// arrived, reconciles the job queue with storage every `reconcileInterval` (on the queue's clock). Its service does nothing
/// on a store nobody else shares.
public struct ClusterSync: Service {
    let bus: any ClusterBus
    let authenticator: KeyAuthenticator
    let store: any JobStore & MinerStore
    let queue: JobQueue
    let reconcileInterval: Duration
    let logger: Logger
    /// Reloads the webhook subscriptions when another instance changed endpoints (or after a resync).
    let webhooks: WebhookService?
    private let resyncs = Resyncs()

    /// How many times this instance has (re)started listening and caught up: 0 until it first hears
    /// the others (what a test waits for before it relies on its caches staying put).
    public var resyncCount: Int { resyncs.count.load(ordering: .relaxed) }

    private final class Resyncs: Sendable {
        let count = Atomic<Int>(0)
    }

    /// `queue` is the one this instance's job services share.
    public init(
        bus: any ClusterBus, authenticator: KeyAuthenticator, store: any JobStore & MinerStore, queue: JobQueue,
        reconcileInterval: Duration, logger: Logger, webhooks: WebhookService? = nil
    ) {
        self.webhooks = webhooks
        self.bus = bus
        self.authenticator = authenticator
        self.store = store
        self.queue = queue
        self.reconcileInterval = reconcileInterval
        self.logger = logger
    }

    /// Applies the other instances' events and reconciles every `reconcileInterval`, until a graceful shutdown.
    public func run() async throws {
        guard bus.isShared else {
            // Nobody else shares the store: nothing to hear, but a service runs until the shutdown.
            do { try await gracefulShutdown() } catch is CancellationError {}
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    for await event in bus.events() { await apply(event) }
                }
            }
            group.addTask {
                let clock = queue.clock
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await cancelWhenGracefulShutdown { try await clock.sleep(for: reconcileInterval) }
                    guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
                    await reconcile()
                }
            }
        }
    }

    /// Loads queued and running jobs and the miners into the queue (at start).
    public func restore() async throws {
        let jobs = try await store.activeJobs()
        let miners = try await store.miners()
        await queue.load(jobs: jobs, miners: miners)
    }

    /// Applies one event from another instance.
    public func apply(_ event: ClusterEvent) async {
        switch event {
        case .keyChanged(let digests):
            for digest in digests { authenticator.forget(digest) }
        case .tenantChanged(let id):
            authenticator.forgetTenant(id)
        case .jobQueued(let id):
            await adoptQueued(id)
        case .jobAssigned(let id, let miner):
            await queue.noteAssigned(id, tenantID: miner.tenantID, to: miner)
        case .jobFinished(let id, let tenantID):
            await queue.forget(id, tenantID: tenantID)
        case .minerChanged(let key):
            await adoptMiner(key)
        case .webhooksChanged:
            await webhooks?.refreshSubscriptions()
        case .resync:
            await webhooks?.refreshSubscriptions()
            // Key and plan changes made while this instance was not listening are not replayed:
            // forget what is cached so the next request of each key reads storage.
            authenticator.forgetAll()
            await reconcile()
            resyncs.count.add(1, ordering: .relaxed)
        }
    }

    /// Replaces the queue and running sets with what storage holds (logged, and retried at the next
    /// interval, when storage cannot be read).
    public func reconcile() async {
        do {
            let readSince = queue.clock.now
            let jobs = try await store.activeJobs()
            let miners = try await store.miners()
            await queue.reconcile(jobs: jobs, miners: miners, readSince: readSince)
        } catch {
            logger.warning("could not reconcile the job queue with storage; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// A job another instance queued: queue it here too (storage decides who gets it).
    func adoptQueued(_ id: String) async {
        guard let job = try? await store.job(id: id), job.state == .queued else { return }
        await queue.adopt(QueuedJob(job))
    }

    /// A miner another instance registered or changed: take storage's version.
    func adoptMiner(_ key: MinerKey) async {
        let stored: Miner??
        do { stored = .some(try await store.miner(tenantID: key.tenantID, id: key.minerID)) } catch { stored = nil }
        guard let stored else { return }
        guard var miner = stored else {
            // Released there: forget it here too.
            await queue.removeMiner(key)
            return
        }
        if let known = await queue.miner(key), known.lastSeenAt > miner.lastSeenAt { miner.lastSeenAt = known.lastSeenAt }
        await queue.update(miner)
    }
}
