import Foundation
import Synchronization

/// Where a key is verified: from a presented string to a ``Principal``, from memory whenever it can.
///
/// Order of checks: length and shape (a corrupt checksum never reaches storage), SHA-256, the
/// bounded digest cache, storage on a miss, a constant-time comparison, then revocation and
/// expiry. Failed attempts are counted per client address; an address over its failure budget
/// gets 429 for anything not already known, while a cached valid key from it still works.
public final class KeyAuthenticator: Sendable {
    struct CachedKey: Sendable {
        var record: APIKeyRecord?
        /// Monotonic nanoseconds.
        var freshUntil: Int64
    }

    struct CachedTenant: Sendable {
        var tenant: Tenant
        /// Monotonic nanoseconds.
        var freshUntil: Int64
    }

    let store: any KeyStore & TenantStore
    public let plans: PlanTable
    let time: any TimeSource
    let keys: BoundedCache<APIKeyDigest, CachedKey>
    let tenants: BoundedCache<String, CachedTenant>
    let failures: AttemptBudgets
    let developmentDigests: Set<APIKeyDigest>
    let positiveLifetime: Int64
    let negativeLifetime: Int64
    let failureLimitPerMinute: Int
    private let counters = Mutex(CacheStatistics())

    /// Key-cache hits and storage lookups so far, for `/metrics`.
    public struct CacheStatistics: Sendable, Equatable {
        public var hits = 0
        public var lookups = 0
    }

    public var cacheStatistics: CacheStatistics { counters.withLock { $0 } }

    /// - Parameters:
    ///   - developmentDigests: digests of development keys, which need not have the generated shape.
    ///   - cacheLifetime: how long a cached key is trusted before storage is asked again (the backstop
    ///     for changes made by other instances).
    ///   - failures: where failed attempts per address are counted (shared by all instances on PostgreSQL).
    public init(
        store: any KeyStore & TenantStore, plans: PlanTable, time: any TimeSource, cacheCapacity: Int = 100_000,
        cacheLifetime: Duration = .seconds(30), developmentDigests: Set<APIKeyDigest> = [],
        failureLimitPerMinute: Int = 30, failures: AttemptBudgets = AttemptBudgets()
    ) {
        self.store = store
        self.plans = plans
        self.time = time
        self.keys = BoundedCache(capacity: cacheCapacity)
        self.tenants = BoundedCache(capacity: max(1024, cacheCapacity / 10))
        self.developmentDigests = developmentDigests
        self.positiveLifetime = Self.nanoseconds(cacheLifetime)
        self.negativeLifetime = min(Self.nanoseconds(cacheLifetime), 5_000_000_000)
        self.failureLimitPerMinute = failureLimitPerMinute
        self.failures = failures
    }

    /// Verifies `presented` sent from `address` and returns who it is.
    public func authenticate(_ presented: String, from address: String?) async throws -> Principal {
        let now = time.now()
        // Rate budgets and cache lifetimes run on monotonic time; expiry compares stored (wall-clock) times.
        let instant = time.rateInstant(wall: now)
        let nowNanoseconds = instant.monotonic
        let length = presented.utf8.count
        // Malformed keys are counted by this instance alone: they never reach storage.
        guard length > 0, length <= APIKeyFormat.maximumLength else {
            throw await failure(.invalidKey, from: address, malformed: true, now: instant)
        }
        let digest: APIKeyDigest
        switch APIKeyFormat.shape(of: presented) {
        case .corrupt:
            throw await failure(.invalidKey, from: address, malformed: true, now: instant)
        case .foreign:
            digest = APIKeyDigest(of: presented)
            guard developmentDigests.contains(digest) else {
                throw await failure(.invalidKey, from: address, malformed: true, now: instant)
            }
        case .wellFormed:
            digest = APIKeyDigest(of: presented)
        }

        let record: APIKeyRecord?
        let cached = keys.value(for: digest)
        if let cached, cached.freshUntil > nowNanoseconds {
            record = cached.record
            counters.withLock { $0.hits += 1 }
        } else {
            // A throttled address gets no storage lookups, except to refresh a key that was valid
            // when last seen: offices share addresses, and a flood must not lock out their keys.
            if cached?.record == nil, let address, let throttled = throttle(address, now: instant) {
                throw throttled
            }
            counters.withLock { $0.lookups += 1 }
            let changesBefore = keys.changeCount
            do {
                record = try await store.key(matching: digest)
            } catch {
                throw CoordinatorError.storageUnavailable
            }
            let lifetime = record == nil ? negativeLifetime : positiveLifetime
            // A revoke or regeneration acknowledged while this read was under way must not be undone.
            keys.fill(CachedKey(record: record, freshUntil: nowNanoseconds + lifetime), for: digest, ifUnchangedSince: changesBefore)
        }

        guard let record else { throw await failure(.invalidKey, from: address, now: instant) }
        var superseded = false
        if !record.digest.constantTimeEquals(digest) {
            guard let previous = record.previousDigest, previous.constantTimeEquals(digest),
                let validUntil = record.previousValidUntil, validUntil > now
            else { throw await failure(.invalidKey, from: address, now: instant) }
            superseded = true
        }
        if record.revokedAt != nil { throw await failure(.revokedKey, from: address, now: instant) }
        if let expiresAt = record.expiresAt, expiresAt <= now {
            throw await failure(.expiredKey, from: address, now: instant)
        }
        guard let tenant = try await tenant(id: record.tenantID) else {
            throw await failure(.invalidKey, from: address, now: instant)
        }
        return Principal(
            key: record, tenant: tenant, tenantLimit: plans.effectiveLimit(for: tenant), viaSupersededSecret: superseded,
            quota: plans.effectiveQuota(for: tenant))
    }

    /// `principal` acting in the tenant a request names (`X-Tenant-ID`), or as it is when it names none.
    /// An operator may act in any tenant that exists (404 `TENANT_NOT_FOUND` otherwise); any other
    /// key only in its own (403 `TENANT_MISMATCH`).
    public func principal(_ principal: Principal, actingIn requested: String?) async throws -> Principal {
        guard let requested else { return principal }
        guard principal.isOperator else {
            guard requested == principal.key.tenantID else { throw CoordinatorError.tenantMismatch }
            return principal
        }
        guard try await tenant(id: requested) != nil else {
            throw CoordinatorError.notFound(.tenantNotFound, "X-Tenant-ID names no tenant")
        }
        return principal.acting(in: requested)
    }

    /// The tenant `id`, from memory when fresh.
    public func tenant(id: String) async throws -> Tenant? {
        let now = time.monotonicNanoseconds()
        if let cached = tenants.value(for: id), cached.freshUntil > now { return cached.tenant }
        let changesBefore = tenants.changeCount
        let tenant: Tenant?
        do {
            tenant = try await store.tenant(id: id)
        } catch {
            throw CoordinatorError.storageUnavailable
        }
        // A plan change acknowledged while this read was under way must not be undone.
        if let tenant { tenants.fill(CachedTenant(tenant: tenant, freshUntil: now + positiveLifetime), for: id, ifUnchangedSince: changesBefore) }
        return tenant
    }

    /// Makes a change to `record` (created, revoked, regenerated) visible to the very next request.
    public func remember(_ record: APIKeyRecord) {
        let entry = CachedKey(record: record, freshUntil: time.monotonicNanoseconds() + positiveLifetime)
        keys.set(entry, for: record.digest)
        if let previous = record.previousDigest { keys.set(entry, for: previous) }
    }

    /// Forgets whatever is cached for `digest`.
    public func forget(_ digest: APIKeyDigest) { keys.remove(digest) }

    /// Forgets every cached key and tenant: changes made elsewhere may have been missed.
    public func forgetAll() {
        keys.removeAll()
        tenants.removeAll()
    }

    /// Forgets what is cached of tenant `id` (it changed on another instance).
    public func forgetTenant(_ id: String) { tenants.remove(id) }

    /// Makes a change to `tenant` (plan, limit) visible to the very next request.
    public func remember(_ tenant: Tenant) {
        tenants.set(CachedTenant(tenant: tenant, freshUntil: time.monotonicNanoseconds() + positiveLifetime), for: tenant.id)
    }

    private func throttle(_ address: String, now: RateInstant) -> CoordinatorError? {
        guard let refused = failures.knownRefusal(.address(address), limit: failureLimitPerMinute, now: now) else { return nil }
        return Self.tooManyFailures(retryAfter: refused.retryAfterSeconds)
    }

    /// Counts a failed attempt from `address`; past the budget the answer becomes 429.
    private func failure(
        _ error: CoordinatorError, from address: String?, malformed: Bool = false, now: RateInstant
    ) async -> CoordinatorError {
        guard let address else { return error }
        let decision = await failures.charge((.address(address), failureLimitPerMinute), locally: malformed, now: now)
        return decision.admitted ? error : Self.tooManyFailures(retryAfter: decision.retryAfterSeconds)
    }

    /// The only 429 authentication answers: an address over its failure budget.
    static func tooManyFailures(retryAfter: Int) -> CoordinatorError {
        CoordinatorError.rateLimited(
            retryAfter: retryAfter, "Too many failed authentication attempts from this address; retry later",
            details: ["retry_after_seconds": .int(retryAfter)])
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
    }
}
