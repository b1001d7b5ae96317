/// The one path a job's state changes by: the compare-and-set in storage first (the truth, shared by
/// every instance), then this instance's queue, then the event that tells the other instances. Every
/// service of the job flow commits its transitions here.
struct JobCommitter: Sendable {
    let store: any JobStore & MinerStore
    let queue: JobQueue
    let bus: any ClusterBus

    /// Stores the new `job` (with `idempotency`, only if that key is unused); once stored, it takes
    /// the place ``JobQueue/reserveQueued(of:limit:)`` held for it and the other instances hear of it.
    func insert(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome {
        let outcome = try await store.insertJob(job, idempotency: idempotency)
        if outcome == .inserted {
            await queue.enqueue(QueuedJob(job), reserved: true)
            await bus.publish(.jobQueued(id: job.id))
        }
        return outcome
    }

    /// Applies `transition` to `job` (as last read) and writes it if storage still holds `job`'s state
    /// (and the attempt the transition requires); then the queue and the other instances follow.
    /// Nil when the transition may not start from `job` or storage had moved on: nothing changed,
    /// here or anywhere. Throws what storage threw (nothing changed either).
    func commit(_ transition: JobTransition, of job: Job) async throws -> Job? {
        guard let changed = transition.applied(to: job) else { return nil }
        let attempt = transition.requiredAttempt(of: job)
        guard try await store.updateJob(changed, ifStateIn: [job.state], attempt: attempt) else { return nil }
        switch transition {
        case .assigned(let miner, _, _):
            // The queue handed the job to the miner before the write (it picks; storage decides).
            await bus.publish(.jobAssigned(id: job.id, miner: miner))
        case .expired:
            // The sweep took the job from the queue before the write.
            await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
        case .requeued:
            await queue.finishRunning(job.id)
            await queue.enqueue(QueuedJob(changed))
            await bus.publish(.jobQueued(id: job.id))
        case .completed, .failed, .canceled:
            if job.state == .queued {
                await queue.forget(job.id, tenantID: job.tenantID)
            } else {
                await queue.finishRunning(job.id)
            }
            await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
        }
        return changed
    }

    /// Puts the running jobs of `key` back in the queue (their assignments are taken back: a later
    /// result for one of them is refused). Returns how many went back.
    @discardableResult
    func requeueRunningJobs(of key: MinerKey) async -> Int {
        var requeued = 0
        for jobID in await queue.runningJobs(of: key) {
            guard let job = try? await store.job(id: jobID), job.state == .running, job.assignedMinerID == key.minerID
            else {
                await queue.finishRunning(jobID)
                continue
            }
            if (try? await commit(.requeued, of: job)) != nil { requeued += 1 }
        }
        return requeued
    }
}
