import Foundation

/// What a revocation found.
public enum RevokeOutcome: Sendable, Equatable {
    /// Revoked now.
    case revoked(APIKeyRecord)
    /// It was revoked before; nothing changed.
    case alreadyRevoked(APIKeyRecord)
    /// Refused: it is the tenant's last active master key.
    case lastMasterKey
    case notFound
}

/// Storage of API keys. Every write is durable when the call returns.
public protocol KeyStore: Sendable {
    /// Stores a new key and its audit event in one transaction.
    func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws
    /// Stores a development key, replacing any earlier one with the same id (and reactivating it).
    func upsertKey(_ key: APIKeyRecord) async throws
    /// The key whose current or previous secret has `digest`.
    func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord?
    /// The key with public id `id`.
    func key(id: String) async throws -> APIKeyRecord?
    /// Keys newest first, of one tenant or (nil) of all, after `cursor`.
    func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord]
    /// Revokes a key unless it is its tenant's last active master key at `now`; records `event` if it does.
    func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome
    /// Gives a key a new secret, keeping the old one valid until `previousValidUntil` (nil: not at all).
    func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord?
    /// Writes name, scopes, expiry, limit and metadata of `key` (matched by id) and records `event`,
    /// unless it is revoked; returns the stored key as it is now, or nil (revoked or gone).
    func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord?
    /// Whether any key exists (without counting them: start-up must not scan the table).
    func hasAnyKey() async throws -> Bool
}

/// Storage of tenants.
public protocol TenantStore: Sendable {
    /// Stores a new tenant and its audit event; false if the id is taken.
    func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool
    /// Creates or replaces a tenant (development tenant at start).
    func upsertTenant(_ tenant: Tenant) async throws
    func tenant(id: String) async throws -> Tenant?
    /// Tenants newest first after `cursor`.
    func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant]
    /// Replaces a tenant's fields and records `event`.
    func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws
}

/// Storage of usage counters, written in batches.
public protocol UsageStore: Sendable {
    /// Adds a batch of counts and last uses in one transaction.
    func addUsage(_ batch: UsageBatch) async throws
    /// Counts of `keyID` from `sinceMinute` (Unix seconds) on, oldest first: per minute, and per hour
    /// (at the hour's start) for hours beginning then or later whose minutes were rolled up (see
    /// ``RetentionStore/rollUpUsageMinutes(before:limit:)``). An hour may have both, when a minute
    /// arrived after the roll-up; their sum is the hour's total.
    func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)]
    /// In one read: the newest `keyLimit` keys of `tenantID` with their totals from `sinceMinute` on, and
    /// the per-minute counts of all its keys together (a page whose cost does not grow with its keys).
    func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage
}

/// Storage of the audit log.
public protocol AuditStore: Sendable {
    /// Records an event that no other write carries (a refused delegation).
    func insertAuditEvent(_ event: AuditEvent) async throws
    /// Events newest first, of one tenant or (nil) of all, after `cursor`.
    func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent]
}

/// How storage has been doing: operations and the time they took, for `/metrics`.
public struct StorageStatistics: Sendable, Equatable {
    public var operations: Int
    public var failures: Int
    public var totalSeconds: Double

    public init(operations: Int = 0, failures: Int = 0, totalSeconds: Double = 0) {
        self.operations = operations
        self.failures = failures
        self.totalSeconds = totalSeconds
    }
}

/// Everything the coordinator keeps, behind one handle.
public protocol CoordinatorStore: KeyStore, TenantStore, UsageStore, AuditStore, JobStore, AccountStore,
    RetentionStore
{
    /// Operations so far and the time they took.
    var statistics: StorageStatistics { get }
    /// Jobs of all tenants by state.
    func jobCountsByState() async throws -> [JobState: Int]
    /// Whether the store answers now (for `/ready`).
    func isHealthy() async -> Bool
    /// Flushes and closes the store.
    func close() async throws
}

/// What inserting a job with an idempotency key found.
public enum JobInsertOutcome: Sendable, Equatable {
    case inserted
    /// The key was used within 24 hours: the original job and the digest of its request.
    case existing(jobID: String, requestDigest: [UInt8])
}

/// A client's `Idempotency-Key`, remembered with the digest of the request it came with.
public struct IdempotencyRecord: Sendable, Equatable {
    public var key: String
    public var requestDigest: [UInt8]
    /// Records older than this are forgotten (24 hours after use).
    public var notBefore: Date

    public init(key: String, requestDigest: [UInt8], notBefore: Date) {
        self.key = key
        self.requestDigest = requestDigest
        self.notBefore = notBefore
    }
}

/// Counts for `GET /v1/admin/stats`.
public struct JobStatistics: Sendable, Equatable {
    public var byState: [JobState: Int]
    /// Mean seconds from submission to completion of completed jobs.
    public var averageSecondsToCompletion: Double?

    public init(byState: [JobState: Int], averageSecondsToCompletion: Double?) {
        self.byState = byState
        self.averageSecondsToCompletion = averageSecondsToCompletion
    }
}

/// Storage of jobs, miners and idempotency keys.
public protocol JobStore: Sendable {
    /// Stores a new job; with `idempotency`, only if that key was not used since `notBefore`.
    func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome
    func job(id: String) async throws -> Job?
    /// Jobs of a tenant newest first, optionally in one state, after `cursor` or from `offset`.
    func jobs(tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int) async throws -> [Job]
    /// Writes `job` if its stored state is one of `expected` and (when given) its stored attempt
    /// number is `attempt`; false (nothing written) otherwise.
    func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool
    /// Every job in `states`, whole.
    func jobs(inStates states: Set<JobState>) async throws -> [Job]
    /// Every QUEUED and RUNNING job as the queue needs it (at start): without payload or result.
    func activeJobs() async throws -> [ActiveJob]
    func statistics(tenantID: String) async throws -> JobStatistics

    /// Creates or replaces a miner unless its id is held by another key; false (nothing written) then.
    func upsertMiner(_ miner: Miner) async throws -> Bool
    /// Forgets a miner (released); false if there was none.
    func deleteMiner(tenantID: String, id: String) async throws -> Bool
    func miners() async throws -> [Miner]
    func miner(tenantID: String, id: String) async throws -> Miner?
}

extension JobStore {
    /// Writes `job` if its stored state is one of `expected`, whatever its attempt.
    public func updateJob(_ job: Job, ifStateIn expected: Set<JobState>) async throws -> Bool {
        try await updateJob(job, ifStateIn: expected, attempt: nil)
    }
}
