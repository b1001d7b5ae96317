/// A submission handed straight to a waiting poll: when a poll waits that should get the new job,
/// the job is stored once, already RUNNING on that poll's miner, and the poll is answered with it as
/// stored. One write instead of an insert, a read and an assignment, and the miner has the job as
/// soon as it is durable, never before.
extension JobQueue {
    /// A waiting poll set aside for a job being stored as assigned to its miner.
    struct Claim: Sendable, Equatable {
        var waiterID: UInt64
        var miner: MinerKey
    }

    /// Sets aside the waiting poll that should get `job` (the one ``enqueue(_:reserved:)`` would pick)
    /// and counts `job` as running on its miner, before the job is stored. Nothing else is handed to
    /// that poll meanwhile, and its deadline or departure waits for the claim to be settled by
    /// ``deliver(_:to:reserved:)`` or ``release(_:of:)``. Nil when no poll waits that may take it.
    func claimWaiter(for job: QueuedJob) -> Claim? {
        guard !draining, let waiter = bestWaiter(for: job) else { return nil }
        let continuation: CheckedContinuation<QueuedJob?, Never>?
        switch pendingWaits[waiter.id] {
        case .registered: continuation = nil
        case .waiting(_, let waiting): continuation = waiting
        case .claimed, .done, nil: return nil
        }
        pendingWaits[waiter.id] = .claimed(waiter.miner, continuation, ended: false)
        leaveWaitingLists(waiter.id, of: waiter.miner)
        assign(job.id, to: waiter.miner)
        return Claim(waiterID: waiter.id, miner: waiter.miner)
    }

    /// Answers the claimed poll with `job`, stored RUNNING on the claim's miner; `reserved`: the job
    /// used the place ``reserveQueued(of:limit:)`` held.
    func deliver(_ job: Job, to claim: Claim, reserved: Bool) {
        if reserved { cancelReservation(of: job.tenantID) }
        handedOver[job.id] = job
        answer(claim, with: QueuedJob(job))
    }

    /// Gives the claim up: the job was not stored (storage failed, or its idempotency key was used).
    /// The job no longer counts as running; the poll waits on, or ends with nothing if its deadline
    /// passed, its caller left or the queue drained meanwhile.
    func release(_ claim: Claim, of jobID: String) {
        if case .claimed(let key, let continuation, let ended)? = pendingWaits[claim.waiterID], !ended, !draining,
            let profile = waiterProfiles[claim.waiterID]
        {
            if let continuation {
                pendingWaits[claim.waiterID] = .waiting(key, continuation)
            } else {
                pendingWaits[claim.waiterID] = .registered(key)
            }
            waiters[key.tenantID, default: [:]][profile, default: []].append(Waiter(id: claim.waiterID, miner: key))
        } else {
            answer(claim, with: nil)
        }
        finishRunning(jobID)
    }

    /// Whether the claimed poll's deadline passed, its caller left or the queue drained since it was claimed.
    func hasEnded(_ claim: Claim) -> Bool {
        if case .claimed(_, _, let ended)? = pendingWaits[claim.waiterID] { return ended }
        return true
    }

    /// The job handed over with its submission as `jobID`, as stored, once (the poll that got it asks).
    func takeHandedOver(_ jobID: String) -> Job? {
        handedOver.removeValue(forKey: jobID)
    }

    /// Ends the claimed poll with `job` (nil: nothing).
    private func answer(_ claim: Claim, with job: QueuedJob?) {
        guard case .claimed(_, let continuation, _)? = pendingWaits[claim.waiterID] else { return }
        waiterProfiles[claim.waiterID] = nil
        if let continuation {
            pendingWaits[claim.waiterID] = nil
            continuation.resume(returning: job)
        } else {
            pendingWaits[claim.waiterID] = .done(job)
        }
    }
}
