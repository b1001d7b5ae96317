import AITBCDomain
import AITBCStorage
import AITBCWire
import Foundation
import Testing

/// The behaviour every `CoordinatorStore` must have, run against each backend: SQLite, and
/// PostgreSQL (a fresh database per test) when `AITBC_TEST_POSTGRES_URL` names a server.
@Suite(.freshPostgresDatabases) struct StoreContractTests {
    typealias Factory = @Sendable () async throws -> any CoordinatorStore

    static let backends: [(name: String, make: Factory)] = {
        var backends: [(name: String, make: Factory)] = [
            ("sqlite", {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-store-\(UUID().uuidString)/db.sqlite").path
                return try await SQLiteStore.open(path: path)
            })
        ]
        if PostgresTestDatabase.isConfigured {
            backends.append(("postgres", { try await PostgresDatabaseScope.makeDatabase().open() }))
        }
        return backends
    }()

    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// Plain `swift test` without a PostgreSQL server runs the cases below on SQLite only; this is the
    /// skipped test that says so (scripts/test always has a server, so there it checks both ran).
    @Test(.enabled(
        if: PostgresTestDatabase.isConfigured,
        "the PostgreSQL cases of every StoreContractTests test were skipped: they need AITBC_TEST_POSTGRES_URL, which scripts/test sets"))
    func everyCaseRunsOnBothBackends() {
        #expect(Self.backends.map(\.name) == ["sqlite", "postgres"])
    }

    static func key(_ id: String, tenant: String = "t1", role: Role = .client, secret: String? = nil, at offset: TimeInterval = 0)
        -> APIKeyRecord
    {
        APIKeyRecord(
            id: id, tenantID: tenant, name: "name of \(id)", role: role, scopes: role == .client ? [.jobsRead] : nil,
            digest: APIKeyDigest(of: secret ?? "secret-\(id)"), hint: "h", createdAt: now.addingTimeInterval(offset),
            metadata: ["n": 1])
    }

    static func event(_ kind: AuditEvent.Kind, tenant: String = "t1", target: String, at offset: TimeInterval = 0) -> AuditEvent {
        AuditEvent(id: "evt_\(UUID().uuidString)", kind: kind, tenantID: tenant, actorKeyID: nil, targetID: target, createdAt: now.addingTimeInterval(offset))
    }

    static func prepared(_ make: Factory) async throws -> any CoordinatorStore {
        let store = try await make()
        for tenant in ["t1", "t2"] {
            _ = try await store.insertTenant(Tenant(id: tenant, name: tenant, plan: "free", createdAt: now), event: nil)
        }
        return store
    }

    @Test(arguments: backends.map(\.name))
    func keysAreFoundByCurrentAndPreviousDigestOnly(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        #expect(try await !store.hasAnyKey())
        let record = Self.key("key_a")
        try await store.insertKey(record, event: Self.event(.keyCreated, target: "key_a"))
        #expect(try await store.hasAnyKey())
        #expect(try await store.key(matching: APIKeyDigest(of: "secret-key_a")) == record)
        #expect(try await store.key(id: "key_a") == record)
        #expect(try await store.key(matching: APIKeyDigest(of: "other")) == nil)

        let until = Self.now.addingTimeInterval(60)
        let updated = try #require(
            try await store.replaceSecret(
                id: "key_a", digest: APIKeyDigest(of: "new"), hint: "h2", previousValidUntil: until,
                event: Self.event(.keyRegenerated, target: "key_a")))
        #expect(updated.previousDigest == record.digest)
        #expect(try await store.key(matching: APIKeyDigest(of: "new"))?.id == "key_a")
        #expect(try await store.key(matching: APIKeyDigest(of: "secret-key_a"))?.previousValidUntil == until)
        _ = try await store.replaceSecret(
            id: "key_a", digest: APIKeyDigest(of: "newer"), hint: "h3", previousValidUntil: nil,
            event: Self.event(.keyRegenerated, target: "key_a"))
        #expect(try await store.key(matching: APIKeyDigest(of: "new")) == nil)
        #expect(try await store.replaceSecret(id: "key_none", digest: APIKeyDigest(of: "x"), hint: "", previousValidUntil: nil, event: Self.event(.keyRegenerated, target: "x")) == nil)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func revocationOutcomesAndTheLastMasterKey(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        try await store.insertKey(Self.key("key_m1", role: .master), event: Self.event(.keyCreated, target: "key_m1"))
        try await store.insertKey(Self.key("key_c", role: .client), event: Self.event(.keyCreated, target: "key_c"))
        #expect(try await store.revokeKey(id: "key_m1", at: Self.now, event: Self.event(.keyRevoked, target: "key_m1")) == .lastMasterKey)
        try await store.insertKey(Self.key("key_m2", role: .master), event: Self.event(.keyCreated, target: "key_m2"))
        guard case .revoked(let revoked) = try await store.revokeKey(id: "key_m1", at: Self.now, event: Self.event(.keyRevoked, target: "key_m1"))
        else { Issue.record("not revoked"); return }
        #expect(revoked.revokedAt == Self.now)
        guard case .alreadyRevoked = try await store.revokeKey(id: "key_m1", at: Self.now, event: Self.event(.keyRevoked, target: "key_m1"))
        else { Issue.record("second revoke changed something"); return }
        #expect(try await store.revokeKey(id: "key_nope", at: Self.now, event: Self.event(.keyRevoked, target: "x")) == .notFound)
        #expect(try await store.key(id: "key_m1")?.revokedAt == Self.now)
        let events = try await store.auditEvents(tenantID: "t1", after: nil, limit: 100)
        #expect(events.filter { $0.kind == .keyRevoked }.count == 1)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func listingsAreNewestFirstPerTenantWithCursors(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        for index in 0..<5 {
            try await store.insertKey(Self.key("key_\(index)", at: TimeInterval(index)), event: Self.event(.keyCreated, target: "key_\(index)", at: TimeInterval(index)))
        }
        try await store.insertKey(Self.key("key_other", tenant: "t2", at: 10), event: Self.event(.keyCreated, tenant: "t2", target: "key_other", at: 10))
        let first = try await store.keys(tenantID: "t1", after: nil, limit: 2)
        #expect(first.map(\.id) == ["key_4", "key_3"])
        let cursor = ListCursor(createdAtMilliseconds: first[1].createdAt.unixMilliseconds, id: first[1].id)
        #expect(try await store.keys(tenantID: "t1", after: cursor, limit: 10).map(\.id) == ["key_2", "key_1", "key_0"])
        #expect(try await store.keys(tenantID: nil, after: nil, limit: 1).map(\.id) == ["key_other"])
        let audit = try await store.auditEvents(tenantID: "t2", after: nil, limit: 10)
        #expect(audit.map(\.targetID) == ["key_other"])
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func tenantsInsertOnceAndUpdate(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        #expect(try await !store.insertTenant(Tenant(id: "t1", name: "again", plan: "pro", createdAt: Self.now), event: nil))
        var tenant = try #require(try await store.tenant(id: "t1"))
        tenant.plan = "enterprise"
        tenant.customRateLimitPerMinute = 1234
        try await store.updateTenant(tenant, event: Self.event(.tenantUpdated, target: "t1"))
        #expect(try await store.tenant(id: "t1") == tenant)
        #expect(try await store.tenants(after: nil, limit: 10).count == 2)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func usageBatchesAddUpAndLastUseOnlyMovesForward(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        try await store.insertKey(Self.key("key_u"), event: Self.event(.keyCreated, target: "key_u"))
        let minute = Int64(Self.now.timeIntervalSince1970) / 60 * 60
        let bucket = UsageBucketKey(keyID: "key_u", minute: minute)
        try await store.addUsage(UsageBatch(counts: [bucket: UsageCounts(admitted: 2, rateLimited: 1, errors: 0)], lastUses: ["key_u": LastUse(at: Self.now, from: "10.0.0.1")]))
        try await store.addUsage(UsageBatch(counts: [bucket: UsageCounts(admitted: 3, rateLimited: 0, errors: 4)], lastUses: ["key_u": LastUse(at: Self.now.addingTimeInterval(-60), from: "10.0.0.2")]))
        let rows = try await store.usage(keyID: "key_u", sinceMinute: 0)
        #expect(rows.count == 1)
        #expect(rows.first?.counts == UsageCounts(admitted: 5, rateLimited: 1, errors: 4))
        let key = try #require(try await store.key(id: "key_u"))
        #expect(key.lastUsedFrom == "10.0.0.1")
        #expect(key.lastUsedAt == Self.now)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func jobsIdempotencyCompareAndSetAndStatistics(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let job = Job(
            id: "job_1", tenantID: "t1", clientKeyID: "key_c", payload: ["prompt": "hi", "n": [1, 2]], constraints: ["gpu": "4090"],
            ttlSeconds: 60, requestedAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
        let record = IdempotencyRecord(key: "idem", requestDigest: [1, 2, 3], notBefore: Self.now.addingTimeInterval(-86400))
        #expect(try await store.insertJob(job, idempotency: record) == .inserted)
        var second = job
        second.id = "job_2"
        #expect(try await store.insertJob(second, idempotency: record) == .existing(jobID: "job_1", requestDigest: [1, 2, 3]))
        #expect(try await store.job(id: "job_2") == nil)
        #expect(try await store.job(id: "job_1") == job)
        // What the queue loads at start: no payload, the constraints read into a requirement.
        #expect(try await store.activeJobs() == [ActiveJob(job)])
        #expect(try await store.activeJobs().first?.requirement.gpu == "4090")

        var running = job
        running.state = .running
        running.assignedMinerID = "m"
        running.startedAt = Self.now
        running.attempts = 1
        #expect(try await store.updateJob(running, ifStateIn: [.queued]))
        #expect(try await !store.updateJob(running, ifStateIn: [.queued]))
        var done = running
        done.state = .completed
        done.result = ["text": "ok"]
        done.receipt = ["job_id": "job_1"]
        done.finishedAt = Self.now.addingTimeInterval(3)
        // A result over an assignment that was taken back (the stored attempt moved on) writes nothing.
        var stale = done
        stale.result = ["text": "stale"]
        #expect(try await !store.updateJob(stale, ifStateIn: [.running], attempt: 0))
        #expect(try await store.job(id: "job_1") == running)
        #expect(try await store.updateJob(done, ifStateIn: [.running], attempt: 1))
        #expect(try await store.job(id: "job_1") == done)
        #expect(try await store.jobs(inStates: [.queued, .running]).isEmpty)
        #expect(try await store.activeJobs().isEmpty)
        let stats = try await store.statistics(tenantID: "t1")
        #expect(stats.byState[.completed] == 1)
        #expect(stats.averageSecondsToCompletion == 3)
        #expect(try await store.jobCountsByState()[.completed] == 1)
        #expect(try await store.jobs(tenantID: "t1", state: .completed, after: nil, offset: 0, limit: 10).map(\.id) == ["job_1"])
        #expect(try await store.jobs(tenantID: "t2", state: nil, after: nil, offset: 0, limit: 10).isEmpty)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func minersUpsertPerTenant(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        var miner = Miner(
            id: "gpu-1", tenantID: "t1", keyID: "key_m", capabilities: ["gpu": ["model": "RTX 4090"]], concurrency: 2,
            region: "eu", status: .online, registeredAt: Self.now, lastSeenAt: Self.now)
        #expect(try await store.upsertMiner(miner))
        miner.status = .draining
        #expect(try await store.upsertMiner(miner))
        var other = miner
        other.tenantID = "t2"
        #expect(try await store.upsertMiner(other))
        // The id stays with its key: another key's write changes nothing, until the miner is released.
        var squatter = miner
        squatter.keyID = "key_other"
        squatter.status = .online
        #expect(try await !store.upsertMiner(squatter))
        let miners = try await store.miners()
        #expect(miners.count == 2)
        #expect(miners.first { $0.tenantID == "t1" } == miner)
        #expect(try await store.deleteMiner(tenantID: "t1", id: "gpu-1"))
        #expect(try await !store.deleteMiner(tenantID: "t1", id: "gpu-1"))
        #expect(try await store.miner(tenantID: "t2", id: "gpu-1") == other)
        #expect(try await store.upsertMiner(squatter))
        #expect(try await store.miner(tenantID: "t1", id: "gpu-1")?.keyID == "key_other")
        #expect(store.statistics.operations > 0)
        #expect(await store.isHealthy())
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func keysAreChangedUnlessRevokedAndRefusalsCanBeAudited(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let record = Self.key("key_a")
        try await store.insertKey(record, event: Self.event(.keyCreated, target: "key_a"))
        var changed = record
        changed.name = "renamed"
        changed.scopes = nil
        changed.expiresAt = Self.now.addingTimeInterval(3600)
        changed.rateLimitPerMinute = 7
        changed.metadata = ["team": "ml"]
        changed.digest = APIKeyDigest(of: "not written")
        let stored = try #require(try await store.updateKey(changed, event: Self.event(.keyUpdated, target: "key_a", at: 1)))
        var expected = changed
        expected.digest = record.digest
        #expect(stored == expected)
        #expect(try await store.key(matching: record.digest) == expected)
        _ = try await store.revokeKey(id: "key_a", at: Self.now.addingTimeInterval(2), event: Self.event(.keyRevoked, target: "key_a", at: 2))
        #expect(try await store.updateKey(record, event: Self.event(.keyUpdated, target: "key_a", at: 3)) == nil)
        #expect(try await store.updateKey(Self.key("key_none"), event: Self.event(.keyUpdated, target: "key_none")) == nil)
        try await store.insertAuditEvent(Self.event(.delegationRefused, target: "key_a", at: 4))
        let kinds = try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).map(\.kind)
        #expect(kinds == [.delegationRefused, .keyRevoked, .keyUpdated, .keyCreated])
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func accountsAreCreatedWithTheirTenantAndKeyOnceAndSessionsComeAndGo(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let tenant = Tenant(id: "t_acct", name: "ann@example.com", plan: "free", createdAt: Self.now)
        let account = Account(
            id: "acct_1", email: "ann@example.com", passwordHash: "$2b$04$hash", tenantID: "t_acct", createdAt: Self.now)
        let master = Self.key("key_master", tenant: "t_acct", role: .master)
        let events = [Self.event(.accountCreated, tenant: "t_acct", target: "acct_1")]
        #expect(try await store.insertAccount(account, tenant: tenant, masterKey: master, events: events))
        #expect(try await store.account(email: "ann@example.com") == account)
        #expect(try await store.account(id: "acct_1") == account)
        #expect(try await store.tenant(id: "t_acct") == tenant)
        #expect(try await store.key(id: "key_master") == master)
        #expect(try await store.auditEvents(tenantID: "t_acct", after: nil, limit: 10).map(\.kind) == [.accountCreated])

        // The same email again writes nothing: no second tenant, no key.
        let twin = Account(
            id: "acct_2", email: "ann@example.com", passwordHash: "x", tenantID: "t_twin", createdAt: Self.now)
        let twinTenant = Tenant(id: "t_twin", name: "twin", plan: "free", createdAt: Self.now)
        #expect(try await !store.insertAccount(
            twin, tenant: twinTenant, masterKey: Self.key("key_twin", tenant: "t_twin", role: .master), events: []))
        #expect(try await store.tenant(id: "t_twin") == nil)
        #expect(try await store.key(id: "key_twin") == nil)
        #expect(try await store.account(id: "acct_2") == nil)

        let first = DashboardSession(
            digest: DashboardSession.digest(of: "token-1"), accountID: "acct_1", csrfToken: "csrf-1", createdAt: Self.now,
            expiresAt: Self.now.addingTimeInterval(60))
        var second = first
        second.digest = DashboardSession.digest(of: "token-2")
        second.expiresAt = Self.now.addingTimeInterval(7200)
        try await store.insertSession(first)
        try await store.insertSession(second)
        #expect(try await store.session(digest: first.digest) == first)
        try await store.deleteSessions(expiredBefore: Self.now.addingTimeInterval(61))
        #expect(try await store.session(digest: first.digest) == nil)
        #expect(try await store.session(digest: second.digest) == second)
        try await store.deleteSession(digest: second.digest)
        #expect(try await store.session(digest: second.digest) == nil)
        try await store.insertSession(first)
        try await store.insertSession(second)
        try await store.deleteSessions(accountID: "acct_1")
        #expect(try await store.session(digest: first.digest) == nil)
        #expect(try await store.session(digest: second.digest) == nil)
        try await store.close()
    }

    @Test(arguments: backends.map(\.name))
    func tenantUsageSumsEveryKeyOfTheTenantPerKeyAndPerMinuteInOneRead(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        for (index, id) in ["key_a", "key_b", "key_idle"].enumerated() {
            try await store.insertKey(Self.key(id, at: TimeInterval(index)), event: Self.event(.keyCreated, target: id))
        }
        try await store.insertKey(Self.key("key_other", tenant: "t2"), event: Self.event(.keyCreated, tenant: "t2", target: "key_other"))
        let minute = Int64(Self.now.timeIntervalSince1970) / 60 * 60
        func bucket(_ key: String, _ offset: Int64) -> UsageBucketKey { UsageBucketKey(keyID: key, minute: minute + offset * 60) }
        try await store.addUsage(
            UsageBatch(counts: [
                bucket("key_a", 0): UsageCounts(admitted: 2, rateLimited: 1, errors: 0),
                bucket("key_a", 1): UsageCounts(admitted: 3, rateLimited: 0, errors: 1),
                bucket("key_b", 1): UsageCounts(admitted: 10, rateLimited: 0, errors: 0),
                bucket("key_b", -10): UsageCounts(admitted: 100, rateLimited: 100, errors: 100),
                bucket("key_other", 1): UsageCounts(admitted: 1000, rateLimited: 0, errors: 0),
            ]))
        let before = store.statistics.operations
        let usage = try await store.usage(tenantID: "t1", sinceMinute: minute, keyLimit: 10)
        #expect(store.statistics.operations == before + 1)
        // Newest first, the idle key included with zero; minutes before `sinceMinute` and other tenants left out.
        #expect(usage.keys.map(\.record.id) == ["key_idle", "key_b", "key_a"])
        #expect(usage.keys.first { $0.record.id == "key_a" }?.counts == UsageCounts(admitted: 5, rateLimited: 1, errors: 1))
        #expect(usage.keys.first { $0.record.id == "key_b" }?.counts == UsageCounts(admitted: 10, rateLimited: 0, errors: 0))
        #expect(usage.keys.first { $0.record.id == "key_idle" }?.counts == UsageCounts())
        #expect(usage.keys.first { $0.record.id == "key_a" }?.record == Self.key("key_a", at: 0))
        #expect(usage.minutes.map(\.minute) == [minute, minute + 60])
        #expect(usage.minutes.map(\.counts) == [
            UsageCounts(admitted: 2, rateLimited: 1, errors: 0), UsageCounts(admitted: 13, rateLimited: 0, errors: 1),
        ])
        // The key limit bounds the listing, not the per-minute totals.
        let limited = try await store.usage(tenantID: "t1", sinceMinute: minute, keyLimit: 1)
        #expect(limited.keys.map(\.record.id) == ["key_idle"])
        #expect(limited.minutes.map(\.counts) == usage.minutes.map(\.counts))
        let nobody = try await store.usage(tenantID: "t_none", sinceMinute: 0, keyLimit: 10)
        #expect(nobody.keys.isEmpty && nobody.minutes.isEmpty)
        try await store.close()
    }
}
