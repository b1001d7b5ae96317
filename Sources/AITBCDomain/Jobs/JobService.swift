import AITBCWire
import Crypto
import Foundation

/// The client side of the job flow: submit, read, list, cancel, results and statistics, inside the
/// tenant and key model. Miners are served by ``MinerService``.
public struct JobService: Sendable {
    let store: any JobStore & MinerStore & TenantStore
    let queue: JobQueue
    let committer: JobCommitter
    let time: any TimeSource
    let secrets: any SecretSource
    public let settings: JobSettings

    /// `queue` is the one this instance's ``MinerService``, ``JobSweeper`` and ``ClusterSync`` share;
    /// `bus` tells other instances on a shared store what changed here.
    public init(
        store: any JobStore & MinerStore & TenantStore, queue: JobQueue, time: any TimeSource, secrets: any SecretSource,
        settings: JobSettings, bus: any ClusterBus = StandaloneBus()
    ) {
        self.store = store
        self.queue = queue
        self.committer = JobCommitter(store: store, queue: queue, bus: bus)
        self.time = time
        self.secrets = secrets
        self.settings = settings
    }

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
            let size = try JobRules.canonical(constraints).count
            guard size <= settings.maximumConstraintsBytes else {
                throw JobRules.tooLarge("constraints", limit: settings.maximumConstraintsBytes)
            }
        }
        let canonical = try JobRules.canonical(SubmitJobRequest(payload: payload, constraints: constraints, ttlSeconds: ttl))
        guard canonical.count <= settings.maximumPayloadBytes else {
            throw CoordinatorError.payloadTooLarge(
                "The job is larger than \(settings.maximumPayloadBytes) bytes of JSON")
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
        let limits = try await JobRules.limits(of: tenantID, for: caller, quotas: settings.quotas, in: store)
        await queue.setLimits(limits, of: tenantID)
        if let queued = await queue.reserveQueued(of: tenantID, limit: limits.queued) {
            throw JobRules.quotaExceeded("queued_jobs", limit: limits.queued, current: queued)
        }
        let outcome: JobInsertOutcome
        let stored: Job
        do {
            let inserted = try await storageCall { try await committer.insert(job, idempotency: record) }
            outcome = inserted.outcome
            stored = inserted.stored
        } catch {
            await queue.cancelReservation(of: tenantID)
            throw error
        }
        switch outcome {
        case .inserted:
            return (stored, true)
        case .existing(let jobID, let storedDigest):
            await queue.cancelReservation(of: tenantID)
            guard storedDigest == digest else {
                throw CoordinatorError(
                    .conflict, code: .idempotencyConflict,
                    message: "This Idempotency-Key was used with a different request in the last 24 hours")
            }
            guard let original = try await storageCall({ try await store.job(id: jobID) }) else { throw JobRules.jobNotFound }
            return (original, false)
        }
    }

    /// The job `id` of the caller's tenant.
    public func get(_ id: String, by caller: Principal) async throws -> Job {
        try caller.require(.jobsRead)
        return try await JobRules.visibleJob(id, to: caller, in: store)
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
        var job = try await JobRules.visibleJob(id, to: caller, in: store)
        let now = time.now()
        if job.state == .queued {
            // Storage decides: a poll that takes the job at the same moment finds it canceled.
            if let canceled = try await storageCall({ try await committer.commit(.canceled(at: now), of: job) }) {
                return canceled
            }
            // Assigned in the meantime: cancel it as running.
            job = try await JobRules.visibleJob(id, to: caller, in: store)
        }
        guard job.state == .running else { throw JobRules.conflict(job, "cancel") }
        guard let canceled = try await storageCall({ try await committer.commit(.canceled(at: now), of: job) }) else {
            throw JobRules.conflict(try await JobRules.visibleJob(id, to: caller, in: store), "cancel")
        }
        return canceled
    }

    /// The result of a COMPLETED job; 425 before it is done; 409 if it will never have one.
    public func result(of id: String, by caller: Principal) async throws -> Job {
        try caller.require(.jobsRead)
        let job = try await JobRules.visibleJob(id, to: caller, in: store)
        switch job.state {
        case .completed: return job
        case .queued, .running:
            throw CoordinatorError(
                .notReady, code: .jobNotReady, message: "The job is \(job.state.rawValue); its result is not ready",
                details: ["state": .string(job.state.rawValue)])
        default:
            throw CoordinatorError.conflictState(
                "The job is \(job.state.rawValue) and has no result", details: ["state": .string(job.state.rawValue)])
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

    /// Jobs queued and running, and miners online, on this instance over all tenants (for `/metrics`).
    public func queueTotals() async -> (queued: Int, running: Int, minersOnline: Int) {
        await queue.totals()
    }

    /// How many jobs of `tenantID` run now, as this instance counts them against its plan's bound.
    public func runningCount(of tenantID: String) async -> Int {
        await queue.runningCount(of: tenantID)
    }
}
