import AITBCDomain
import Foundation
import Synchronization

/// A store that forwards to another, counts key lookups by digest, and can hold a lookup between
/// its read and its answer (to interleave it with a change, deterministically).
final class CountingStore: CoordinatorStore {
    let base: any CoordinatorStore
    private let lookups = Mutex(0)
    private let keyAndUsageReadCount = Mutex(0)
    private let heldKeyLookup = Mutex<HeldRead?>(nil)
    private let heldTenantLookup = Mutex<HeldRead?>(nil)

    init(_ base: any CoordinatorStore) { self.base = base }

    var keyLookups: Int { lookups.withLock { $0 } }
    /// Reads of keys (by id and listed) and of usage counters: the storage reads a usage page can make.
    var keyAndUsageReads: Int { keyAndUsageReadCount.withLock { $0 } }

    /// The next key lookup by digest reads storage, then waits for `release()` before answering.
    func holdNextKeyLookup() -> HeldRead {
        let held = HeldRead()
        heldKeyLookup.withLock { $0 = held }
        return held
    }

    /// The next tenant lookup reads storage, then waits for `release()` before answering.
    func holdNextTenantLookup() -> HeldRead {
        let held = HeldRead()
        heldTenantLookup.withLock { $0 = held }
        return held
    }

    func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        lookups.withLock { $0 += 1 }
        let record = try await base.key(matching: digest)
        if let held = heldKeyLookup.withLock({ held in defer { held = nil }; return held }) { await held.hold() }
        return record
    }

    func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws { try await base.insertKey(key, event: event) }
    func upsertKey(_ key: APIKeyRecord) async throws { try await base.upsertKey(key) }
    func key(id: String) async throws -> APIKeyRecord? {
        keyAndUsageReadCount.withLock { $0 += 1 }
        return try await base.key(id: id)
    }
    func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        keyAndUsageReadCount.withLock { $0 += 1 }
        return try await base.keys(tenantID: tenantID, after: cursor, limit: limit)
    }
    func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        try await base.revokeKey(id: id, at: now, event: event)
    }
    func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord? {
        try await base.replaceSecret(id: id, digest: digest, hint: hint, previousValidUntil: previousValidUntil, event: event)
    }
    func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? {
        try await base.updateKey(key, event: event)
    }
    func hasAnyKey() async throws -> Bool { try await base.hasAnyKey() }
    func insertAuditEvent(_ event: AuditEvent) async throws { try await base.insertAuditEvent(event) }
    func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try await base.insertTenant(tenant, event: event)
    }
    func upsertTenant(_ tenant: Tenant) async throws { try await base.upsertTenant(tenant) }
    func tenant(id: String) async throws -> Tenant? {
        let tenant = try await base.tenant(id: id)
        if let held = heldTenantLookup.withLock({ held in defer { held = nil }; return held }) { await held.hold() }
        return tenant
    }
    func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] {
        try await base.tenants(after: cursor, limit: limit)
    }
    func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws { try await base.updateTenant(tenant, event: event) }
    func addUsage(_ batch: UsageBatch) async throws { try await base.addUsage(batch) }
    func meterCounts(_ names: [String]) async throws -> [String: MeterCount] { try await base.meterCounts(names) }
    func saveMeterCounts(_ counts: [String: MeterCount], events: [WebhookEvent]) async throws {
        try await base.saveMeterCounts(counts, events: events)
    }
    func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] {
        keyAndUsageReadCount.withLock { $0 += 1 }
        return try await base.usage(keyID: keyID, sinceMinute: sinceMinute)
    }
    func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage {
        keyAndUsageReadCount.withLock { $0 += 1 }
        return try await base.usage(tenantID: tenantID, sinceMinute: sinceMinute, keyLimit: keyLimit)
    }
    func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        try await base.auditEvents(tenantID: tenantID, after: cursor, limit: limit)
    }
    func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome {
        try await base.insertJob(job, idempotency: idempotency)
    }
    func job(id: String) async throws -> Job? { try await base.job(id: id) }
    func jobs(tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int) async throws -> [Job] {
        try await base.jobs(tenantID: tenantID, state: state, after: cursor, offset: offset, limit: limit)
    }
    func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool {
        try await base.updateJob(job, ifStateIn: expected, attempt: attempt)
    }
    func jobs(inStates states: Set<JobState>) async throws -> [Job] { try await base.jobs(inStates: states) }
    func activeJobs() async throws -> [ActiveJob] { try await base.activeJobs() }
    func statistics(tenantID: String) async throws -> JobStatistics { try await base.statistics(tenantID: tenantID) }
    func upsertMiner(_ miner: Miner) async throws -> Bool { try await base.upsertMiner(miner) }
    func deleteMiner(tenantID: String, id: String) async throws -> Bool { try await base.deleteMiner(tenantID: tenantID, id: id) }
    func miners() async throws -> [Miner] { try await base.miners() }
    func miner(tenantID: String, id: String) async throws -> Miner? { try await base.miner(tenantID: tenantID, id: id) }
    func insertAccount(_ account: Account, tenant: Tenant, masterKey: APIKeyRecord, events: [AuditEvent]) async throws
        -> Bool
    { try await base.insertAccount(account, tenant: tenant, masterKey: masterKey, events: events) }
    func account(email: String) async throws -> Account? { try await base.account(email: email) }
    func account(id: String) async throws -> Account? { try await base.account(id: id) }
    func insertSession(_ session: DashboardSession) async throws { try await base.insertSession(session) }
    func session(digest: [UInt8]) async throws -> DashboardSession? { try await base.session(digest: digest) }
    func deleteSession(digest: [UInt8]) async throws { try await base.deleteSession(digest: digest) }
    func deleteSessions(accountID: String) async throws { try await base.deleteSessions(accountID: accountID) }
    func deleteSessions(expiredBefore now: Date) async throws { try await base.deleteSessions(expiredBefore: now) }
    func deleteFinishedJobs(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteFinishedJobs(finishedBefore: cutoff, limit: limit)
    }
    func deleteIdempotencyKeys(usedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteIdempotencyKeys(usedBefore: cutoff, limit: limit)
    }
    func rollUpUsageMinutes(before cutoffMinute: Int64, limit: Int) async throws -> Int {
        try await base.rollUpUsageMinutes(before: cutoffMinute, limit: limit)
    }
    func deleteUsageHours(before cutoffHour: Int64, limit: Int) async throws -> Int {
        try await base.deleteUsageHours(before: cutoffHour, limit: limit)
    }
    func deleteExpiredSessions(at now: Date, limit: Int) async throws -> Int {
        try await base.deleteExpiredSessions(at: now, limit: limit)
    }
    func deleteAuditEvents(recordedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteAuditEvents(recordedBefore: cutoff, limit: limit)
    }
    var statistics: StorageStatistics { base.statistics }
    func jobCountsByState() async throws -> [JobState: Int] { try await base.jobCountsByState() }
    func isHealthy() async -> Bool { await base.isHealthy() }
    func close() async throws { try await base.close() }
}

/// A read that has been made and waits to be answered: `readDone()` waits for the read,
/// `release()` lets it answer.
final class HeldRead: Sendable {
    private let (reads, readContinuation) = AsyncStream<Void>.makeStream()
    private let (releases, releaseContinuation) = AsyncStream<Void>.makeStream()

    func hold() async {
        readContinuation.yield()
        for await _ in releases { return }
    }

    /// Returns once the held read has been made.
    func readDone() async {
        for await _ in reads { return }
    }

    func release() { releaseContinuation.yield() }
}
