/// The one path a job's state changes by: the compare-and-set in storage first (the truth, shared by
/// every instance), then this instance's queue, then the event that tells the other instances. Every
/// service of the job flow commits its transitions here.
struct JobCommitter: Sendable {
    let store: any JobStore & MinerStore
    let queue: JobQueue
    let bus: any ClusterBus

    /// Stores the new `job` (with `idempotency`, only if that key is unused); once stored, it takes
    /// the place ``JobQueue/reserveQueued(of:limit:)`` held for it and the other instances hear of it.
    /// When a poll waits that should get it, the job is stored already RUNNING on that poll's miner
    /// (its first assignment, in the same write) and the poll is answered with it once that write
    /// has committed (`JobQueue+Handover.swift`). Returns the outcome and the job as stored.
    func insert(_ job: Job, idempotency: IdempotencyRecord?) async throws -> (outcome: JobInsertOutcome, stored: Job) {
        let queued = QueuedJob(job)
        if let claim = await queue.claimWaiter(for: queued) {
            if let assigned = JobTransition.assigned(to: claim.miner, attempt: job.attempts + 1, at: job.requestedAt).applied(to: job) {
                return try await insert(assigned, handingTo: claim, idempotency: idempotency, submitted: job)
            }
            await queue.release(claim, of: job.id)
        }
        let outcome = try await store.insertJob(job, idempotency: idempotency)
        if outcome == .inserted {
            await queue.enqueue(queued, reserved: true)
            await bus.publish(.jobQueued(id: job.id))
        }
        return (outcome, job)
    }

    /// Stores `assigned` (the `submitted` job's first assignment, to the claimed poll's miner) and
    /// answers the poll with it once stored; gives the claim up if it was not stored.
    private func insert(
        _ assigned: Job, handingTo claim: JobQueue.Claim, idempotency: IdempotencyRecord?, submitted job: Job
    ) async throws -> (outcome: JobInsertOutcome, stored: Job) {
        let outcome: JobInsertOutcome
        do {
            outcome = try await store.insertJob(assigned, idempotency: idempotency)
        } catch {
            await queue.release(claim, of: job.id)
            throw error
        }
        guard outcome == .inserted else {
            await queue.release(claim, of: job.id)
            return (outcome, job)
        }
        await queue.deliver(assigned, to: claim, reserved: true)
        await bus.publish(.jobAssigned(id: job.id, miner: claim.miner))
        return (outcome, assigned)
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
