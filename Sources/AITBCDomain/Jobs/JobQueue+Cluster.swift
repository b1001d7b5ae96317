import Foundation

/// What the queue does for a shared store: jobs and miners other instances changed, the periodic
/// reconciliation with storage, and how often a miner's sightings are written down.
extension JobQueue {
    /// Whether a sighting of `key` at `now` should be written to storage (none written for `interval`).
    func sightingIsDue(_ key: MinerKey, at now: Date, every interval: TimeInterval) -> Bool {
        if let last = writtenSightings[key], now.timeIntervalSince(last) < interval { return false }
        writtenSightings[key] = now
        return true
    }

    /// A job queued on another instance or requeued: queue it here too, unless it already is.
    func adopt(_ job: QueuedJob) {
        if minerOfJob[job.id] != nil { finishRunning(job.id) }
        guard queuedAt[job.id] == nil else { return }
        enqueue(job)
    }

    /// Another instance handed `jobID` to `key`: it leaves the queue and counts against the miner here too.
    func noteAssigned(_ jobID: String, tenantID: String, to key: MinerKey) {
        removeQueued(jobID)
        guard minerOfJob[jobID] != key else { return }
        finishRunning(jobID)
        assign(jobID, to: key)
    }

    /// `jobID` finished, was canceled or expired (here or on another instance): it leaves the queue
    /// and the running set.
    func forget(_ jobID: String, tenantID: String) {
        removeQueued(jobID)
        finishRunning(jobID)
    }

    /// Makes the queue and running sets what storage holds (`jobs` in QUEUED or RUNNING), and refreshes
    /// the miners, keeping the later of the two sightings of each. New queued jobs go to waiting miners.
    /// `jobs` and `stored` were read from `readSince` (on ``clock``) on; jobs whose place changed here
    /// since ``reconcileGrace`` before then keep what this queue knows of them.
    func reconcile(jobs: [ActiveJob], miners stored: [Miner], readSince: Duration) {
        let now = clock.now
        let horizon = readSince - reconcileGrace
        forgetChanges(before: min(now - reconcileGrace, horizon))
        let changed = Set(recentChanges.compactMap { $0.value >= horizon ? $0.key : nil })
        for miner in stored {
            let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
            var merged = miner
            if let known = miners[key]?.miner, known.lastSeenAt > miner.lastSeenAt { merged.lastSeenAt = known.lastSeenAt }
            update(merged)
        }
        let queuedNow = jobs.filter { $0.state == .queued && !changed.contains($0.id) }
        let queuedIDs = Set(queuedNow.map(\.id))
        for id in Array(queuedAt.keys) where !queuedIDs.contains(id) && !changed.contains(id) { removeQueued(id) }
        let kept = minerOfJob.filter { changed.contains($0.key) }
        minerOfJob = [:]
        runningByMiner = [:]
        runningByTenant = [:]
        for (id, key) in kept { assign(id, to: key) }
        for job in jobs where job.state == .running && !changed.contains(job.id) {
            guard let minerID = job.assignedMinerID else { continue }
            assign(job.id, to: MinerKey(tenantID: job.tenantID, minerID: minerID))
        }
        for job in queuedNow.sorted(by: { $0.requestedAt < $1.requestedAt }) where queuedAt[job.id] == nil {
            enqueue(QueuedJob(job))
        }
    }

    /// Remembers that `jobID` changed here now (see ``reconcileGrace``; nothing when it is zero, as on
    /// a store nobody else shares).
    func noteChange(_ jobID: String) {
        guard reconcileGrace > .zero else { return }
        let now = clock.now
        recentChanges[jobID] = now
        // Reconciliations prune every few seconds; between them, a burst prunes at most four times a grace.
        if recentChanges.count > 10_000, now >= nextPrune {
            forgetChanges(before: now - reconcileGrace)
            nextPrune = now + reconcileGrace / 4
        }
    }

    /// How many jobs' recent changes are remembered now (they expire after ``reconcileGrace``).
    var rememberedChanges: Int { recentChanges.count }

    private func forgetChanges(before instant: Duration) {
        recentChanges = recentChanges.filter { $0.value >= instant }
    }
}
