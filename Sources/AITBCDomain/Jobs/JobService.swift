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
        let readSince = ContinuousClock.now
        let jobs = try await store.activeJobs()
        let miners = try await store.miners()
        await queue.reconcile(jobs: jobs, miners: miners, readSince: readSince)
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

    func visibleJob(_ id: String, to caller: Principal) async throws -> Job {
        try await visibleJob(id, tenantID: caller.actingTenantID ?? caller.key.tenantID)
    }

    func visibleJob(_ id: String, tenantID: String) async throws -> Job {
        guard id.utf8.count <= 64, let job = try await storageCall({ try await store.job(id: id) }), job.tenantID == tenantID
        else { throw Self.jobNotFound }
        return job
    }

    /// The queue limits of `tenantID`'s plan (the caller's own tenant, or the one an operator acts in).
    func limits(of tenantID: String, for caller: Principal) async throws -> TenantJobLimits {
        if tenantID == caller.tenant.id { return settings.quotas.limits(for: caller.tenant.plan) }
        guard let tenant = try await storageCall({ try await store.tenant(id: tenantID) }) else {
            throw CoordinatorError.notFound("TENANT_NOT_FOUND", "No tenant \(tenantID) exists")
        }
        return settings.quotas.limits(for: tenant.plan)
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
