import AITBCWire
import Crypto
import Foundation

/// What miners do with jobs: long-poll for one, then complete it or report its failure.
extension MinerService {
    /// Long-polls for a job for the miner, for up to `maxWaitSeconds` (capped); nil when none came.
    /// `presence` tells whether the poll's connection is still there: a miner that has gone (its
    /// HTTP client gave up and closed the connection) is not handed a job it would never see.
    public func poll(
        minerID: String?, maxWaitSeconds: Double?, by caller: Principal, presence: (any CallerPresence)? = nil
    ) async throws -> Job? {
        try caller.require(.minersWrite)
        var miner = try await resolveMiner(minerID, for: caller)
        let wait = min(max(0, maxWaitSeconds ?? 15), settings.maximumPollWaitSeconds)
        guard wait.isFinite else { throw CoordinatorError.invalidField("max_wait_seconds", "max_wait_seconds must be a number") }
        // Polling is a sign of life: kept in memory (heartbeats write it down); a comeback from OFFLINE is stored.
        miner.lastSeenAt = time.now()
        let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
        let interval = TimeInterval(settings.heartbeatTimeoutSeconds) / 4
        if miner.status == .offline {
            miner.status = .online
            try await save(miner)
        } else if bus.isShared, await queue.sightingIsDue(key, at: miner.lastSeenAt, every: interval) {
            // Other instances judge silence from storage: write the sighting down now and then.
            try await save(miner)
        } else {
            await queue.update(miner)
        }
        guard miner.status == .online else { return nil }
        let deadline = queue.clock.now + .milliseconds(Int(wait * 1000))
        // The queue picks a job; storage makes the assignment (QUEUED → RUNNING only once, whichever
        // instance asks first). A job someone else got meanwhile is dropped and the wait goes on.
        while let queued = await queue.next(for: key, until: deadline, caller: presence) {
            if let handed = await queue.takeHandedOver(queued.id) {
                // Stored RUNNING on this miner with its submission: nothing is left to read or write,
                // unless the caller left meanwhile and the assignment must be taken back.
                if let presence, presence.hasDeparted {
                    _ = try? await committer.commit(.requeued, of: handed)
                    return nil
                }
                return handed
            }
            // Handed over in memory only so far: a poll whose caller left puts it back untouched.
            if let presence, presence.hasDeparted {
                await queue.unassign(queued)
                return nil
            }
            do {
                guard let job = try await store.job(id: queued.id), job.state == .queued,
                    let assigned = try await committer.commit(
                        .assigned(to: key, attempt: job.attempts + 1, at: time.now()), of: job)
                else {
                    await queue.finishRunning(queued.id)
                    continue
                }
                return assigned
            } catch {
                await queue.unassign(queued)
                throw CoordinatorError.storageUnavailable
            }
        }
        return nil
    }

    /// Completes a RUNNING job assigned to the calling miner.
    public func complete(
        _ jobID: String, minerID: String?, attempt: Int? = nil, result: JSONValue, metrics: [String: JSONValue]?,
        by caller: Principal
    ) async throws -> Job {
        try caller.require(.minersWrite)
        let encoded = try JobRules.canonical(result)
        guard encoded.count <= settings.maximumResultBytes else {
            throw CoordinatorError.payloadTooLarge(
                "Results are accepted inline up to \(settings.maximumResultBytes) bytes of JSON")
        }
        let job = try await runningJob(jobID, minerID: minerID, attempt: attempt, by: caller)
        let now = time.now()
        let receipt = try await issueReceipt(for: job, outcome: .completed(result: result), metrics: metrics, at: now)
        // Only over the assignment that was checked: one taken back meanwhile is not overwritten.
        let completion = JobTransition.completed(result: result, receipt: receipt, metrics: metrics, at: now)
        guard let completed = try await storageCall({ try await committer.commit(completion, of: job) }) else {
            throw JobRules.conflict(try await JobRules.visibleJob(jobID, tenantID: job.tenantID, in: store), "complete")
        }
        return completed
    }

    /// Fails a RUNNING job assigned to the calling miner.
    public func fail(
        _ jobID: String, minerID: String?, attempt: Int? = nil, code: String?, message: String?,
        metrics: [String: JSONValue]?, by caller: Principal
    ) async throws -> Job {
        try caller.require(.minersWrite)
        let job = try await runningJob(jobID, minerID: minerID, attempt: attempt, by: caller)
        let failure = JobFailure(
            code: String((code ?? "MINER_ERROR").prefix(100)), message: String((message ?? "The miner reported a failure").prefix(2000)))
        let now = time.now()
        let receipt = try await issueReceipt(for: job, outcome: .failed(failure), metrics: metrics, at: now)
        // Only over the assignment that was checked, as for a completion.
        let transition = JobTransition.failed(failure, metrics: metrics, receipt: receipt, at: now)
        guard let failed = try await storageCall({ try await committer.commit(transition, of: job) }) else {
            throw JobRules.conflict(try await JobRules.visibleJob(jobID, tenantID: job.tenantID, in: store), "fail")
        }
        return failed
    }

    /// The signed receipt of `job` ending with `outcome` (see ``ReceiptPayload``), its numbers as the
    /// wire reads them back, so that what is stored and served verifies as it was signed.
    func issueReceipt(
        for job: Job, outcome: ReceiptPayload.Outcome, metrics: [String: JSONValue]?, at now: Date
    ) async throws -> [String: JSONValue] {
        let receiptID = Hex.lowercase(SHA256.hash(data: Data(secrets.base62(count: 43).utf8)).prefix(16))
        let payload = ReceiptPayload.make(job: job, outcome: outcome, metrics: metrics, receiptID: receiptID, now: now)
        let signed = try await receipts.signer().signed(payload)
        return CanonicalJSON.normalized(.object(signed)).objectValue ?? signed
    }

    /// The RUNNING job `jobID` if the caller's miner (the one named, else any of the caller's key) runs
    /// it, on attempt `attempt` when one is given; 404, 403 or 409 otherwise.
    func runningJob(_ jobID: String, minerID: String?, attempt: Int?, by caller: Principal) async throws -> Job {
        let job = try await JobRules.visibleJob(jobID, to: caller, in: store)
        if let minerID {
            let id = try JobRules.validMinerID(minerID)
            if let named = try await knownMiner(MinerKey(tenantID: job.tenantID, minerID: id)), named.keyID != caller.key.id {
                throw JobRules.minerNotOwned(id)
            }
        }
        guard job.state == .running else { throw JobRules.conflict(job, "report on") }
        if let attempt, attempt != job.attempts {
            throw CoordinatorError.conflictState(
                "This assignment (attempt \(attempt)) was taken back; the job is on attempt \(job.attempts)",
                details: ["state": .string(job.state.rawValue), "attempt": .int(job.attempts)])
        }
        let assignedTo: Bool
        if let minerID {
            assignedTo = job.assignedMinerID == (try JobRules.validMinerID(minerID))
        } else if let assigned = job.assignedMinerID,
            let miner = try await knownMiner(MinerKey(tenantID: job.tenantID, minerID: assigned))
        {
            // No miner named: any miner this key runs may report on its own jobs.
            assignedTo = miner.keyID == caller.key.id
        } else {
            assignedTo = false
        }
        guard assignedTo else {
            throw CoordinatorError.conflictState(
                "This job is assigned to another miner", details: ["state": .string(job.state.rawValue)])
        }
        return job
    }
}
