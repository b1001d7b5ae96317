import Logging
import ServiceLifecycle
import Synchronization

/// Keeps this instance's memory in step with the other instances on a shared store: applies their
/// events (forget a changed key or tenant, enqueue a job, note an assignment) and, as the backstop for
/// events that never arrived, reconciles the job queue with storage every `reconcileInterval`.
/// Does nothing on a store nobody else shares.
public struct ClusterSync: Service {
    let bus: any ClusterBus
    let authenticator: KeyAuthenticator
    let jobs: JobService
    let reconcileInterval: Duration
    let logger: Logger
    private let resyncs = Resyncs()

    /// How many times this instance has (re)started listening and caught up: 0 until it first hears
    /// the others (what a test waits for before it relies on its caches staying put).
    public var resyncCount: Int { resyncs.count.load(ordering: .relaxed) }

    private final class Resyncs: Sendable {
        let count = Atomic<Int>(0)
    }

    public init(
        bus: any ClusterBus, authenticator: KeyAuthenticator, jobs: JobService,
        reconcileInterval: Duration, logger: Logger
    ) {
        self.bus = bus
        self.authenticator = authenticator
        self.jobs = jobs
        self.reconcileInterval = reconcileInterval
        self.logger = logger
    }

    public func run() async throws {
        guard bus.isShared else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    for await event in bus.events() { await apply(event) }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: reconcileInterval) }
                    guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
                    await reconcile()
                }
            }
        }
    }

    /// Applies one event from another instance.
    public func apply(_ event: ClusterEvent) async {
        switch event {
        case .keyChanged(let digests):
            for digest in digests { authenticator.forget(digest) }
        case .tenantChanged(let id):
            authenticator.forgetTenant(id)
        case .jobQueued(let id):
            await jobs.adoptQueued(id)
        case .jobAssigned(let id, let miner):
            await jobs.queue.noteAssigned(id, tenantID: miner.tenantID, to: miner)
        case .jobFinished(let id, let tenantID):
            await jobs.queue.forget(id, tenantID: tenantID)
        case .minerChanged(let key):
            await jobs.adoptMiner(key)
        case .resync:
            // Key and plan changes made while this instance was not listening are not replayed:
            // forget what is cached so the next request of each key reads storage.
            authenticator.forgetAll()
            await reconcile()
            resyncs.count.add(1, ordering: .relaxed)
        }
    }

    /// Replaces the queue and running sets with what storage holds.
    public func reconcile() async {
        do {
            try await jobs.reconcile()
        } catch {
            logger.warning("could not reconcile the job queue with storage; will retry", metadata: ["error": "\(error)"])
        }
    }
}
