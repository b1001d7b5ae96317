import AITBCWire
import Foundation

/// The periodic work of the job flow: queued jobs past their TTL expire, silent miners go OFFLINE
/// (their jobs back to the queue), long-gone miners are forgotten.
extension JobService {
    /// Expires queued jobs past their TTL and requeues the running jobs of miners silent past the
    /// heartbeat timeout. Returns how many jobs each touched.
    @discardableResult
    public func sweep() async -> (expired: Int, requeued: Int, forgotten: Int) {
        let now = time.now()
        var expired = 0
        for queued in await queue.takeExpired(at: now) {
            guard var job = try? await store.job(id: queued.id), job.state == .queued else { continue }
            job.state = .expired
            job.finishedAt = now
            if (try? await store.updateJob(job, ifStateIn: [.queued])) == true {
                expired += 1
                await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
            } else {
                await queue.enqueue(queued)
            }
        }
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
            guard (try? await store.upsertMiner(miner)) == true else { continue }
            await queue.update(miner)
            let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
            requeued += await requeueRunningJobs(of: key)
            await bus.publish(.minerChanged(key))
            logger.notice(
                "miner went offline", metadata: ["tenant_id": .string(miner.tenantID), "miner_id": .string(miner.id)])
        }
        return (expired, requeued, await forgetLongGoneMiners(at: now))
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
            guard (try? await store.deleteMiner(tenantID: key.tenantID, id: key.minerID)) != nil else { continue }
            await queue.removeMiner(key)
            await bus.publish(.minerChanged(key))
            forgotten += 1
        }
        return forgotten
    }

    /// Puts the running jobs of `key` back in the queue (their assignments are taken back: a later
    /// result for one of them is refused). Returns how many went back.
    @discardableResult
    func requeueRunningJobs(of key: MinerKey) async -> Int {
        var requeued = 0
        for jobID in await queue.runningJobs(of: key) {
            guard var job = try? await store.job(id: jobID), job.state == .running, job.assignedMinerID == key.minerID
            else {
                await queue.finishRunning(jobID)
                continue
            }
            let attempt = job.attempts
            job.state = .queued
            job.assignedMinerID = nil
            job.startedAt = nil
            if (try? await store.updateJob(job, ifStateIn: [.running], attempt: attempt)) == true {
                await queue.finishRunning(jobID)
                await queue.enqueue(QueuedJob(job))
                await bus.publish(.jobQueued(id: job.id))
                requeued += 1
            }
        }
        return requeued
    }
}
