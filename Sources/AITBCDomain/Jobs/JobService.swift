import AITBCWire
import Crypto
import Foundation
import Logging

/// Limits of the job flow.
public struct JobSettings: Sendable {
    public var defaultTTLSeconds = 900
    public var maximumTTLSeconds = 7 * 24 * 3600
    /// Largest payload and largest inline result, in bytes of JSON.
    public var maximumPayloadBytes = 1 << 20
    public var maximumResultBytes = 1 << 20
    /// A miner silent this long goes OFFLINE and its running jobs go back to the queue.
    public var heartbeatTimeoutSeconds = 60
    /// Longest a poll may wait.
    public var maximumPollWaitSeconds = 60.0
    /// Queued jobs, running jobs and miners per tenant, by plan.
    public var quotas = JobQuotaTable.standard
    /// Largest `constraints` of a job, in bytes of JSON (the payload has its own, larger bound).
    public var maximumConstraintsBytes = 16 * 1024
    /// Largest capabilities document of a miner, and largest heartbeat metadata, in bytes of JSON.
    public var maximumCapabilitiesBytes = 16 * 1024
    /// An OFFLINE miner unseen this long is forgotten (memory and storage); its id is free again.
    public var forgetMinersAfterSeconds = 7 * 24 * 3600

    public init() {}
}

/// The job lifecycle for clients and miners, inside the tenant and key model.
public struct JobService: Sendable {
    let store: any CoordinatorStore
    public let queue: JobQueue
    let time: any TimeSource
    let secrets: any SecretSource
    public let settings: JobSettings
    let logger: Logger
    /// Tells other instances on a shared store what changed here.
    let bus: any ClusterBus

    public init(
        store: any CoordinatorStore, queue: JobQueue, time: any TimeSource, secrets: any SecretSource,
        settings: JobSettings, logger: Logger, bus: any ClusterBus = StandaloneBus()
    ) {
        self.store = store
        self.queue = queue
        self.time = time
        self.secrets = secrets
        self.settings = settings
        self.logger = logger
        self.bus = bus
    }

    /// Loads queued and running jobs and the miners into the queue (at start).
    public func restore() async throws {
        let jobs = try await store.activeJobs()
        let miners = try await store.miners()
        await queue.load(jobs: jobs, miners: miners)
    }

    // MARK: other instances

    /// A job another instance queued: queue it here too (storage decides who gets it).
    public func adoptQueued(_ id: String) async {
        guard let job = try? await store.job(id: id), job.state == .queued else { return }
        await queue.adopt(QueuedJob(job))
    }

    /// A miner another instance registered or changed: take storage's version.
    public func adoptMiner(_ key: MinerKey) async {
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

    /// Makes the queue what storage holds (the backstop for events that never arrived).
    public func reconcile() async throws {
        let jobs = try await store.activeJobs()
        let miners = try await store.miners()
        await queue.reconcile(jobs: jobs, miners: miners)
    }

    static let jobNotFound = CoordinatorError.notFound("JOB_NOT_FOUND", "No such job")

    // MARK: clients

    /// Submits a job; with an idempotency key, a repeat of the same request returns the original
    /// job (`created` false) and a different request under the same key is 409.
    public func submit(
        payload: JSONValue, constraints: [String: JSONValue]?, ttlSeconds: Int?, idempotencyKey: String?,
        by caller: Principal
    ) async throws -> (job: Job, created: Bool) {
        try caller.require(.jobsWrite)
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let ttl = ttlSeconds ?? settings.defaultTTLSeconds
        guard (1...settings.maximumTTLSeconds).contains(ttl) else {
            throw CoordinatorError.invalidField("ttl_seconds", "ttl_seconds must be 1 … \(settings.maximumTTLSeconds)")
        }
        if let problem = JobRequirement.problem(in: constraints) {
            throw CoordinatorError.invalidField(problem.field, problem.message)
        }
        if let constraints {
            let size = try Self.canonical(constraints).count
            guard size <= settings.maximumConstraintsBytes else {
                throw Self.tooLarge("constraints", limit: settings.maximumConstraintsBytes)
            }
        }
        let canonical = try Self.canonical(SubmitJobRequest(payload: payload, constraints: constraints, ttlSeconds: ttl))
        guard canonical.count <= settings.maximumPayloadBytes else {
            throw CoordinatorError(
                .payloadTooLarge, code: "PAYLOAD_TOO_LARGE",
                message: "The job is larger than \(settings.maximumPayloadBytes) bytes of JSON")
        }
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.utf8.count > 255 {
            throw CoordinatorError.invalidField("Idempotency-Key", "Idempotency-Key must be 1 … 255 characters")
        }
        let now = time.now()
        let job = Job(
            id: "job_" + secrets.base62(count: 20), tenantID: tenantID, clientKeyID: caller.key.id, payload: payload,
            constraints: constraints, ttlSeconds: ttl, requestedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl)))
        let digest = Array(SHA256.hash(data: canonical))
        let record = idempotencyKey.map {
            IdempotencyRecord(key: $0, requestDigest: digest, notBefore: now.addingTimeInterval(-24 * 3600))
        }
        let limits = try await limits(of: tenantID, for: caller)
        await queue.setLimits(limits, of: tenantID)
        if let queued = await queue.reserveQueued(of: tenantID, limit: limits.queued) {
            throw Self.quotaExceeded("queued_jobs", limit: limits.queued, current: queued)
        }
        let outcome: JobInsertOutcome
        do {
            outcome = try await storageCall { try await store.insertJob(job, idempotency: record) }
        } catch {
            await queue.cancelReservation(of: tenantID)
            throw error
        }
        switch outcome {
        case .inserted:
            await queue.enqueue(QueuedJob(job), reserved: true)
            await bus.publish(.jobQueued(id: job.id))
            return (job, true)
        case .existing(let jobID, let storedDigest):
            await queue.cancelReservation(of: tenantID)
            guard storedDigest == digest else {
                throw CoordinatorError(
                    .conflict, code: "IDEMPOTENCY_CONFLICT",
                    message: "This Idempotency-Key was used with a different request in the last 24 hours")
            }
            guard let original = try await storageCall({ try await store.job(id: jobID) }) else { throw Self.jobNotFound }
            return (original, false)
        }
    }

    /// The job `id` of the caller's tenant.
    public func get(_ id: String, by caller: Principal) async throws -> Job {
        try caller.require(.jobsRead)
        return try await visibleJob(id, to: caller)
    }

    /// A page of the tenant's jobs, newest first.
    public func list(
        state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int, by caller: Principal
    ) async throws -> [Job] {
        try caller.require(.jobsRead)
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        return try await storageCall {
            try await store.jobs(tenantID: tenantID, state: state, after: cursor, offset: offset, limit: limit)
        }
    }

    /// Cancels a QUEUED or RUNNING job; any other state is 409.
    public func cancel(_ id: String, by caller: Principal) async throws -> Job {
        try caller.require(.jobsWrite)
        var job = try await visibleJob(id, to: caller)
        let now = time.now()
        if job.state == .queued {
            // Storage decides: a poll that takes the job at the same moment finds it canceled.
            var canceled = job
            canceled.state = .canceled
            canceled.finishedAt = now
            if try await storageCall({ try await store.updateJob(canceled, ifStateIn: [.queued]) }) {
                await queue.forget(job.id, tenantID: job.tenantID)
                await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
                return canceled
            }
            // Assigned in the meantime: cancel it as running.
            job = try await visibleJob(id, to: caller)
        }
        guard job.state == .running else { throw Self.conflict(job, "cancel") }
        var canceled = job
        canceled.state = .canceled
        canceled.finishedAt = now
        guard try await storageCall({ try await store.updateJob(canceled, ifStateIn: [.running]) }) else {
            throw Self.conflict(try await visibleJob(id, to: caller), "cancel")
        }
        await queue.finishRunning(job.id)
        await bus.publish(.jobFinished(id: job.id, tenantID: job.tenantID))
        return canceled
    }

    /// The result of a COMPLETED job; 425 before it is done; 409 if it will never have one.
    public func result(of id: String, by caller: Principal) async throws -> Job {
        try caller.require(.jobsRead)
        let job = try await visibleJob(id, to: caller)
        switch job.state {
        case .completed: return job
        case .queued, .running:
            throw CoordinatorError(
                .notReady, code: "JOB_NOT_READY", message: "The job is \(job.state.rawValue); its result is not ready",
                details: ["state": .string(job.state.rawValue)])
        default:
            throw CoordinatorError(
                .conflict, code: "CONFLICT_STATE", message: "The job is \(job.state.rawValue) and has no result",
                details: ["state": .string(job.state.rawValue)])
        }
    }

    /// Queue depth, miners online, success rate and time to completion of the caller's tenant.
    public func statistics(by caller: Principal) async throws -> (JobStatistics, queueDepth: Int, minersOnline: Int) {
        try caller.require(.statsRead)
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let stats = try await storageCall { try await store.statistics(tenantID: tenantID) }
        let depth = await queue.depth(of: tenantID)
        let online = await queue.miners(of: tenantID).filter { $0.status == .online }.count
        return (stats, depth, online)
    }

    // MARK: miners

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

    // MARK: sweeps

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

    // MARK: rules

    /// 429 `JOB_QUOTA_EXCEEDED` naming the tenant's quota that was reached.
    static func quotaExceeded(_ quota: String, limit: Int, current: Int) -> CoordinatorError {
        CoordinatorError(
            .rateLimited(retryAfterSeconds: 5), code: "JOB_QUOTA_EXCEEDED",
            message: "The tenant's plan allows \(limit) \(quota.replacingOccurrences(of: "_", with: " ")); it has \(current)",
            details: ["quota": .string(quota), "limit": .int(limit), "current": .int(current)])
    }

    /// 413 `PAYLOAD_TOO_LARGE` naming the field over its bound.
    static func tooLarge(_ field: String, limit: Int) -> CoordinatorError {
        CoordinatorError(
            .payloadTooLarge, code: "PAYLOAD_TOO_LARGE", message: "\(field) may be at most \(limit) bytes of JSON",
            details: ["field": .string(field), "limit_bytes": .int(limit)])
    }

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

    func visibleJob(_ id: String, to caller: Principal) async throws -> Job {
        try await visibleJob(id, tenantID: caller.actingTenantID ?? caller.key.tenantID)
    }

    func visibleJob(_ id: String, tenantID: String) async throws -> Job {
        guard id.utf8.count <= 64, let job = try await storageCall({ try await store.job(id: id) }), job.tenantID == tenantID
        else { throw Self.jobNotFound }
        return job
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

    /// The queue limits of `tenantID`'s plan (the caller's own tenant, or the one an operator acts in).
    func limits(of tenantID: String, for caller: Principal) async throws -> TenantJobLimits {
        if tenantID == caller.tenant.id { return settings.quotas.limits(for: caller.tenant.plan) }
        guard let tenant = try await storageCall({ try await store.tenant(id: tenantID) }) else {
            throw CoordinatorError.notFound("TENANT_NOT_FOUND", "No tenant \(tenantID) exists")
        }
        return settings.quotas.limits(for: tenant.plan)
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

    static func conflict(_ job: Job, _ verb: String) -> CoordinatorError {
        CoordinatorError(
            .conflict, code: "CONFLICT_STATE", message: "Cannot \(verb) a job that is \(job.state.rawValue)",
            details: ["state": .string(job.state.rawValue)])
    }

    static func canonical(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw CoordinatorError.invalidField("payload", "The payload cannot be represented as JSON")
        }
    }
}
