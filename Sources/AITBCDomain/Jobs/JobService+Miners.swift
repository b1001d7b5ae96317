import AITBCWire
import Crypto
import Foundation

/// What miners do: register, heartbeat, drain, poll, deliver; and releasing a miner id. A miner id
/// belongs to the key that registered it.
extension JobService {
    /// Registers (or re-registers) a miner of the caller's tenant.
    public func register(
        minerID: String?, capabilities: [String: JSONValue], concurrency: Int?, region: String?, by caller: Principal
    ) async throws -> Miner {
        try caller.require(.minersWrite)
        let concurrency = concurrency ?? 1
        guard (1...1024).contains(concurrency) else {
            throw CoordinatorError.invalidField("concurrency", "concurrency must be 1 … 1024")
        }
        guard try Self.canonical(capabilities).count <= settings.maximumCapabilitiesBytes else {
            throw Self.tooLarge("capabilities", limit: settings.maximumCapabilitiesBytes)
        }
        if let region, region.isEmpty || region.utf8.count > 128 {
            throw CoordinatorError.invalidField("region", "region must be 1 … 128 characters")
        }
        let now = time.now()
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let id = try minerID.map(Self.validMinerID) ?? caller.key.id
        let key = MinerKey(tenantID: tenantID, minerID: id)
        let existing = try await knownMiner(key)
        if let existing, existing.keyID != caller.key.id { throw Self.minerNotOwned(id) }
        if existing == nil { try await reserveMiner(key, for: caller) }
        let miner = Miner(
            id: id, tenantID: tenantID, keyID: caller.key.id, capabilities: capabilities, concurrency: concurrency,
            region: region, status: .online, reportedInflight: existing?.reportedInflight ?? 0,
            metadata: existing?.metadata ?? [:], registeredAt: now, lastSeenAt: now)
        do {
            try await save(miner)
        } catch {
            await queue.cancelMinerReservation(key)
            throw error
        }
        return miner
    }

    /// Records a heartbeat: the miner is alive, with what it runs and its status.
    public func heartbeat(
        minerID: String?, inflight: Int?, status: String?, metadata: [String: JSONValue]?, by caller: Principal
    ) async throws -> Miner {
        try caller.require(.minersWrite)
        if let metadata, try Self.canonical(metadata).count > settings.maximumCapabilitiesBytes {
            throw Self.tooLarge("metadata", limit: settings.maximumCapabilitiesBytes)
        }
        var miner = try await resolveMiner(minerID, for: caller)
        miner.lastSeenAt = time.now()
        if let inflight { miner.reportedInflight = max(0, inflight) }
        if let metadata { miner.metadata = metadata }
        switch status?.uppercased() {
        case "DRAINING": miner.status = .draining
        case "OFFLINE": miner.status = .offline
        default: if miner.status == .offline { miner.status = .online }
        }
        try await save(miner)
        // A miner that says it is going away runs nothing any more: its jobs go back to the queue now.
        if miner.status == .offline { await requeueRunningJobs(of: MinerKey(tenantID: miner.tenantID, minerID: miner.id)) }
        return miner
    }

    /// Releases a miner id so that another key may register it: its running jobs go back to the
    /// queue and its waiting polls end. Its own key, or a master or operator of the tenant, may.
    /// Returns how many running jobs went back to the queue.
    public func release(minerID: String, by caller: Principal) async throws -> Int {
        try caller.require(.minersWrite)
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let key = MinerKey(tenantID: tenantID, minerID: try Self.validMinerID(minerID))
        guard let miner = try await knownMiner(key) else {
            throw CoordinatorError.notFound("MINER_NOT_FOUND", "No such miner")
        }
        guard miner.keyID == caller.key.id || caller.key.role == .master || caller.isOperator else {
            throw Self.minerNotOwned(key.minerID)
        }
        guard try await storageCall({ try await store.deleteMiner(tenantID: key.tenantID, id: key.minerID) }) else {
            throw CoordinatorError.notFound("MINER_NOT_FOUND", "No such miner")
        }
        let requeued = await requeueRunningJobs(of: key)
        await queue.removeMiner(key)
        await bus.publish(.minerChanged(key))
        logger.notice("miner released", metadata: ["tenant_id": .string(key.tenantID), "miner_id": .string(key.minerID)])
        return requeued
    }

    /// Stops a miner from receiving new jobs; it finishes what it runs.
    public func drain(minerID: String?, by caller: Principal) async throws -> Miner {
        try caller.require(.minersWrite)
        var miner = try await resolveMiner(minerID, for: caller)
        miner.status = .draining
        miner.lastSeenAt = time.now()
        try await save(miner)
        return miner
    }

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
        let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
        // The queue picks a job; storage makes the assignment (QUEUED → RUNNING only once, whichever
        // instance asks first). A job someone else got meanwhile is dropped and the wait goes on.
        while let queued = await queue.next(for: key, until: deadline, caller: presence) {
            // Handed over in memory only so far: a poll whose caller left puts it back untouched.
            if let presence, presence.hasDeparted {
                await queue.unassign(queued)
                return nil
            }
            do {
                guard var job = try await store.job(id: queued.id), job.state == .queued else {
                    await queue.finishRunning(queued.id)
                    continue
                }
                job.state = .running
                job.assignedMinerID = miner.id
                job.startedAt = time.now()
                job.attempts += 1
                guard try await store.updateJob(job, ifStateIn: [.queued]) else {
                    await queue.finishRunning(queued.id)
                    continue
                }
                await bus.publish(.jobAssigned(id: job.id, miner: key))
                return job
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
        let encoded = try Self.canonical(result)
        guard encoded.count <= settings.maximumResultBytes else {
            throw CoordinatorError(
                .payloadTooLarge, code: "PAYLOAD_TOO_LARGE",
                message: "Results are accepted inline up to \(settings.maximumResultBytes) bytes of JSON")
        }
        var job = try await runningJob(jobID, minerID: minerID, attempt: attempt, by: caller)
        let now = time.now()
        job.state = .completed
        job.result = result
        job.metrics = metrics
        job.finishedAt = now
        let started = job.startedAt ?? job.requestedAt
        job.receipt = [
            "receipt_id": .string("rcpt_" + secrets.base62(count: 20)), "job_id": .string(job.id),
            "miner_id": .string(job.assignedMinerID ?? ""), "tenant_id": .string(job.tenantID),
            "started_at": .string(RFC3339.string(from: started)), "completed_at": .string(RFC3339.string(from: now)),
            "duration_ms": .int(Int((now.timeIntervalSince(started) * 1000).rounded())),
            "result_sha256": .string(SHA256.hash(data: encoded).map { String(format: "%02x", $0) }.joined()),
            "metrics": .object(metrics ?? [:]),
        ]
        // Only over the assignment that was checked: one taken back meanwhile is not overwritten.
        guard try await storageCall({ try await store.updateJob(job, ifStateIn: [.running], attempt: job.attempts) }) else {
            throw Self.conflict(try await visibleJob(jobID, tenantID: job.tenantID), "complete")
        }
        await queue.finishRunning(job.id)
        await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
        return job
    }

    /// Fails a RUNNING job assigned to the calling miner.
    public func fail(
        _ jobID: String, minerID: String?, attempt: Int? = nil, code: String?, message: String?,
        metrics: [String: JSONValue]?, by caller: Principal
    ) async throws -> Job {
        try caller.require(.minersWrite)
        var job = try await runningJob(jobID, minerID: minerID, attempt: attempt, by: caller)
        job.state = .failed
        job.failure = JobFailure(
            code: String((code ?? "MINER_ERROR").prefix(100)), message: String((message ?? "The miner reported a failure").prefix(2000)))
        job.metrics = metrics
        job.finishedAt = time.now()
        guard try await storageCall({ try await store.updateJob(job, ifStateIn: [.running], attempt: job.attempts) }) else {
            throw Self.conflict(try await visibleJob(jobID, tenantID: job.tenantID), "fail")
        }
        await queue.finishRunning(job.id)
        await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
        return job
    }

    // MARK: rules

    static func minerNotOwned(_ id: String) -> CoordinatorError {
        CoordinatorError(
            .forbidden, code: "MINER_NOT_OWNED",
            message: "This miner id belongs to another key; a master key of the tenant can release it "
                + "(DELETE /v1/miners/{miner_id})",
            details: ["miner_id": .string(id)])
    }

    /// The miner `key` as this instance knows it, or (shared storage) as another instance registered it.
    func knownMiner(_ key: MinerKey) async throws -> Miner? {
        if let known = await queue.miner(key) { return known }
        guard bus.isShared, let stored = try await storageCall({ try await store.miner(tenantID: key.tenantID, id: key.minerID) })
        else { return nil }
        await queue.update(stored)
        return stored
    }

    func runningJob(_ jobID: String, minerID: String?, attempt: Int?, by caller: Principal) async throws -> Job {
        let job = try await visibleJob(jobID, to: caller)
        if let minerID {
            let id = try Self.validMinerID(minerID)
            if let named = try await knownMiner(MinerKey(tenantID: job.tenantID, minerID: id)), named.keyID != caller.key.id {
                throw Self.minerNotOwned(id)
            }
        }
        guard job.state == .running else { throw Self.conflict(job, "report on") }
        if let attempt, attempt != job.attempts {
            throw CoordinatorError(
                .conflict, code: "CONFLICT_STATE",
                message: "This assignment (attempt \(attempt)) was taken back; the job is on attempt \(job.attempts)",
                details: ["state": .string(job.state.rawValue), "attempt": .int(job.attempts)])
        }
        let assignedTo: Bool
        if let minerID {
            assignedTo = job.assignedMinerID == (try Self.validMinerID(minerID))
        } else if let assigned = job.assignedMinerID,
            let miner = try await knownMiner(MinerKey(tenantID: job.tenantID, minerID: assigned))
        {
            // No miner named: any miner this key runs may report on its own jobs.
            assignedTo = miner.keyID == caller.key.id
        } else {
            assignedTo = false
        }
        guard assignedTo else {
            throw CoordinatorError(
                .conflict, code: "CONFLICT_STATE", message: "This job is assigned to another miner",
                details: ["state": .string(job.state.rawValue)])
        }
        return job
    }

    /// The miner a call acts for: named by id, else the one this key registered last, else one named
    /// after the key id (created on first use).
    func resolveMiner(_ requested: String?, for caller: Principal) async throws -> Miner {
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let id: String
        if let requested {
            id = try Self.validMinerID(requested)
        } else if let latest = await queue.miners(of: tenantID).filter({ $0.keyID == caller.key.id })
            .max(by: { $0.registeredAt < $1.registeredAt })
        {
            return latest
        } else {
            id = caller.key.id
        }
        if let known = try await knownMiner(MinerKey(tenantID: tenantID, minerID: id)) {
            guard known.keyID == caller.key.id else { throw Self.minerNotOwned(id) }
            return known
        }
        let now = time.now()
        let key = MinerKey(tenantID: tenantID, minerID: id)
        try await reserveMiner(key, for: caller)
        let miner = Miner(
            id: id, tenantID: tenantID, keyID: caller.key.id, capabilities: [:], concurrency: 1, region: nil,
            status: .online, registeredAt: now, lastSeenAt: now)
        do {
            try await save(miner)
        } catch {
            await queue.cancelMinerReservation(key)
            throw error
        }
        return miner
    }

    /// Holds a place for a new miner `key` within its tenant's miner quota, or throws 429.
    func reserveMiner(_ key: MinerKey, for caller: Principal) async throws {
        let limits = try await limits(of: key.tenantID, for: caller)
        await queue.setLimits(limits, of: key.tenantID)
        if let count = await queue.reserveMiner(key, limit: limits.miners) {
            throw Self.quotaExceeded("miners", limit: limits.miners, current: count)
        }
    }

    /// Writes `miner` and updates the queue; 403 `MINER_NOT_OWNED` when storage says another key
    /// holds the id (registered through another instance, or after a release, meanwhile).
    func save(_ miner: Miner) async throws {
        let previous = await queue.miner(MinerKey(tenantID: miner.tenantID, minerID: miner.id))
        guard try await storageCall({ try await store.upsertMiner(miner) }) else {
            if let stored = try? await store.miner(tenantID: miner.tenantID, id: miner.id) { await queue.update(stored) }
            throw Self.minerNotOwned(miner.id)
        }
        await queue.update(miner)
        if previous?.status != miner.status || previous?.capabilities != miner.capabilities
            || previous?.concurrency != miner.concurrency || previous?.registeredAt != miner.registeredAt
        {
            await bus.publish(.minerChanged(MinerKey(tenantID: miner.tenantID, minerID: miner.id)))
        }
    }

    static func validMinerID(_ raw: String) throws -> String {
        guard !raw.isEmpty, raw.utf8.count <= 128, raw.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { throw CoordinatorError.invalidField("miner_id", "miner_id must be 1 … 128 visible characters") }
        return raw
    }
}
