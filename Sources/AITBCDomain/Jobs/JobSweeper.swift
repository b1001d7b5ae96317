import Foundation
import Logging
import ServiceLifecycle

/// The periodic work of the job flow, every `interval`: queued jobs past their TTL expire, silent
/// miners go OFFLINE (their jobs back to the queue), long-gone miners are forgotten. The decisions
/// read the injected ``TimeSource``; the pacing waits on the queue's clock.
public struct JobSweeper: Service {
    let store: any JobStore & MinerStore
    let queue: JobQueue
    let committer: JobCommitter
    let time: any TimeSource
    let settings: JobSettings
    let logger: Logger
    /// Whether other instances share the store (then they may have seen a miner this one has not).
    let bus: any ClusterBus
    let interval: Duration

    /// Sweeps `queue` (the one this instance's services share) every `interval`.
    public init(
        store: any JobStore & MinerStore, queue: JobQueue, time: any TimeSource, settings: JobSettings, logger: Logger,
        bus: any ClusterBus = StandaloneBus(), interval: Duration
    ) {
        self.store = store
        self.queue = queue
        self.committer = JobCommitter(store: store, queue: queue, bus: bus)
        self.time = time
        self.settings = settings
        self.logger = logger
        self.bus = bus
        self.interval = interval
    }

    /// Sweeps every `interval` until a graceful shutdown.
    public func run() async throws {
        let clock = queue.clock
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully else { break }
            await sweep()
        }
    }

    /// Expires queued jobs past their TTL, requeues the running jobs of miners silent past the
    /// heartbeat timeout and forgets long-gone miners. Returns how many of each it touched.
    @discardableResult
    public func sweep() async -> (expired: Int, requeued: Int, forgotten: Int) {
        let now = time.now()
        var expired = 0
        for queued in await queue.takeExpired(at: now) {
            guard let job = try? await store.job(id: queued.id), job.state == .queued else { continue }
            if (try? await committer.commit(.expired(at: now), of: job)) != nil {
                expired += 1
            } else {
                await queue.enqueue(queued)
            }
        }
        return (expired, await takeBackFromSilentMiners(at: now), await forgetLongGoneMiners(at: now))
    }

    /// Marks OFFLINE the miners silent past the heartbeat timeout (as storage knows them, on a shared
    /// store) and puts their running jobs back in the queue. Returns how many jobs went back.
    func takeBackFromSilentMiners(at now: Date) async -> Int {
        var requeued = 0
        let cutoff = now.addingTimeInterval(-TimeInterval(settings.heartbeatTimeoutSeconds))
        for var miner in await queue.silentMiners(before: cutoff) {
            if bus.isShared {
                // It may have been seen by another instance: storage has the latest heartbeat.
                guard let stored = try? await store.miner(tenantID: miner.tenantID, id: miner.id) else { continue }
                if stored.lastSeenAt >= cutoff || stored.status == .offline {
                    var seen = miner
                    seen.lastSeenAt = max(miner.lastSeenAt, stored.lastSeenAt)
                    seen.status = stored.status
                    await queue.update(seen)
                    continue
                }
            }
            miner.status = .offline
            // Released or taken over meanwhile: not this sweep's to judge.
            guard (try? await committer.save(miner)) == true else { continue }
            requeued += await committer.requeueRunningJobs(of: MinerKey(tenantID: miner.tenantID, minerID: miner.id))
            logger.notice(
                "miner went offline", metadata: ["tenant_id": .string(miner.tenantID), "miner_id": .string(miner.id)])
        }
        return requeued
    }

    /// Forgets OFFLINE miners unseen for `forgetMinersAfterSeconds` that run nothing: memory stays
    /// bounded by the miners in use, and their ids are free again.
    func forgetLongGoneMiners(at now: Date) async -> Int {
        let cutoff = now.addingTimeInterval(-TimeInterval(settings.forgetMinersAfterSeconds))
        var forgotten = 0
        for miner in await queue.forgottenMiners(before: cutoff) {
            let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
            if bus.isShared {
                // Another instance may have seen it since: storage has the latest sighting.
                guard let stored = try? await store.miner(tenantID: key.tenantID, id: key.minerID) else { continue }
                if stored.lastSeenAt >= cutoff || stored.status != .offline {
                    await queue.update(stored)
                    continue
                }
            }
            do {
                try await committer.forget(key)
            } catch {
                continue
            }
            forgotten += 1
        }
        return forgotten
    }
}
