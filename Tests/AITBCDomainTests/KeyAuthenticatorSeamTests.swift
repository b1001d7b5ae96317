import AITBCDomain
import Foundation
import Synchronization
import Testing

/// Keys and tenants in memory: all a ``KeyAuthenticator`` needs of storage (``KeyStore`` and
/// ``TenantStore``, nothing of jobs or accounts). It keeps the ``MasterKeyRule`` as every
/// store must, and can be made to fail as a store that is down.
final class KeysAndTenantsInMemory: KeyStore, TenantStore {
    private let state = Mutex((keys: [String: APIKeyRecord](), tenants: [String: Tenant](), down: false))

    /// From now on every call fails as a store that cannot be reached.
    func goDown() { state.withLock { $0.down = true } }

    private func read<T>(_ body: (inout (keys: [String: APIKeyRecord], tenants: [String: Tenant], down: Bool)) -> T) throws -> T {
        try state.withLock { state in
            guard !state.down else { throw StorageError.unavailable }
            return body(&state)
        }
    }

    func insertKey(_ key: APIKeyRecord, event: AuditEvent) async throws { try read { $0.keys[key.id] = key } }
    func upsertKey(_ key: APIKeyRecord) async throws { try read { $0.keys[key.id] = key } }
    func key(matching digest: APIKeyDigest) async throws -> APIKeyRecord? {
        try read { $0.keys.values.first { $0.digest == digest || $0.previousDigest == digest } }
    }
    func key(id: String) async throws -> APIKeyRecord? { try read { $0.keys[id] } }
    func keys(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        try read { Array($0.keys.values.filter { tenantID == nil || $0.tenantID == tenantID }.prefix(limit)) }
    }
    func revokeKey(id: String, at now: Date, event: AuditEvent) async throws -> RevokeOutcome {
        try read { state in
            guard var key = state.keys[id] else { return .notFound }
            if key.revokedAt != nil { return .alreadyRevoked(key) }
            if MasterKeyRule.protects(key, at: now),
                !state.keys.values.contains(where: { MasterKeyRule.isReplacement($0, for: key, at: now) })
            {
                return .lastMasterKey
            }
            key.revokedAt = now
            state.keys[id] = key
            return .revoked(key)
        }
    }
    func replaceSecret(
        id: String, digest: APIKeyDigest, hint: String, previousValidUntil: Date?, event: AuditEvent
    ) async throws -> APIKeyRecord? { nil }
    func updateKey(_ key: APIKeyRecord, event: AuditEvent) async throws -> APIKeyRecord? { nil }
    func hasAnyKey() async throws -> Bool { try read { !$0.keys.isEmpty } }

    func insertTenant(_ tenant: Tenant, event: AuditEvent?) async throws -> Bool {
        try read { state in
            guard state.tenants[tenant.id] == nil else { return false }
            state.tenants[tenant.id] = tenant
            return true
        }
    }
    func upsertTenant(_ tenant: Tenant) async throws { try read { $0.tenants[tenant.id] = tenant } }
    func tenant(id: String) async throws -> Tenant? { try read { $0.tenants[id] } }
    func tenants(after cursor: ListCursor?, limit: Int) async throws -> [Tenant] { try read { Array($0.tenants.values.prefix(limit)) } }
    func updateTenant(_ tenant: Tenant, event: AuditEvent) async throws { try read { $0.tenants[tenant.id] = tenant } }
}

/// A service takes only the store protocols it uses, so a few methods in memory stand in for storage.
@Suite struct KeyAuthenticatorSeamTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// A store with tenant `t1` on the free plan and one key of `role`; the key's secret.
    static func store(with role: Role) async throws -> (KeysAndTenantsInMemory, String) {
        let store = KeysAndTenantsInMemory()
        _ = try await store.insertTenant(Tenant(id: "t1", name: "one", plan: "free", createdAt: start), event: nil)
        let secret = APIKeyFormat.generate(role: role, using: SystemSecretSource())
        let record = APIKeyRecord(
            id: "key_1", tenantID: "t1", name: "first", role: role, scopes: nil, digest: APIKeyDigest(of: secret),
            hint: APIKeyFormat.hint(for: secret), createdAt: start)
        try await store.insertKey(record, event: AuditEvent(id: "evt_1", kind: .keyCreated, tenantID: "t1", actorKeyID: nil, targetID: "key_1", createdAt: start))
        return (store, secret)
    }

    @Test func aStoredKeyIsVerifiedWithItsTenantsLimitAndRefusedOnceRevokedInStorage() async throws {
        let (store, secret) = try await Self.store(with: .client)
        var second = try #require(try await store.key(id: "key_1"))
        second.id = "key_2"
        second.role = .master
        second.digest = APIKeyDigest(of: "another")
        try await store.insertKey(second, event: AuditEvent(id: "evt_2", kind: .keyCreated, tenantID: "t1", actorKeyID: nil, targetID: "key_2", createdAt: Self.start))
        let time = ManualTimeSource(Self.start)
        let authenticator = KeyAuthenticator(store: store, plans: .standard, time: time, cacheLifetime: .seconds(30))

        let principal = try await authenticator.authenticate(secret, from: "192.0.2.1")
        #expect(principal.key.id == "key_1")
        #expect(principal.tenant.id == "t1")
        #expect(principal.tenantLimit == 60)

        guard case .revoked = try await store.revokeKey(id: "key_1", at: Self.start, event: AuditEvent(id: "evt_3", kind: .keyRevoked, tenantID: "t1", actorKeyID: nil, targetID: "key_1", createdAt: Self.start))
        else { Issue.record("not revoked"); return }
        // Another instance revoked it: this one learns at the end of the cache lifetime.
        time.advance(by: 31)
        await #expect(throws: CoordinatorError.revokedKey) { try await authenticator.authenticate(secret, from: "192.0.2.1") }
    }

    @Test func aStoreThatIsDownIsAnsweredAsStorageUnavailable() async throws {
        let (store, secret) = try await Self.store(with: .client)
        let authenticator = KeyAuthenticator(store: store, plans: .standard, time: ManualTimeSource(Self.start))
        store.goDown()
        await #expect(throws: CoordinatorError.storageUnavailable) { try await authenticator.authenticate(secret, from: nil) }
    }

    @Test func revokingTheLastMasterKeyIsRefusedByTheRuleAndAnswered409() async throws {
        let (store, secret) = try await Self.store(with: .master)
        let time = ManualTimeSource(Self.start)
        let authenticator = KeyAuthenticator(store: store, plans: .standard, time: time)
        let keys = KeyService(store: store, authenticator: authenticator, usage: UsageRecorder(), time: time, secrets: SystemSecretSource())
        let master = try await authenticator.authenticate(secret, from: nil)
        await #expect(throws: MasterKeyRule.refusal) { try await keys.revoke("key_1", by: master) }
        #expect(MasterKeyRule.refusal.code == .lastMasterKey)
        #expect(MasterKeyRule.refusal.kind == .conflict)
        #expect(try await store.key(id: "key_1")?.revokedAt == nil)
    }

    @Test func storageErrorsAreAnsweredAsTheDomainSays() {
        #expect(StorageError.unavailable.coordinatorError == .storageUnavailable)
        #expect(StorageError.unstorableText.coordinatorError.kind == .invalidRequest)
        #expect(StorageError.unstorableText.coordinatorError.code == .invalidRequest)
    }
}

/// What ``KeyService`` needs beyond keys: the audit log and usage counters, neither kept here.
extension KeysAndTenantsInMemory: AuditStore, UsageStore {
    func insertAuditEvent(_ event: AuditEvent) async throws {}
    func auditEvents(tenantID: String?, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] { [] }
    func addUsage(_ batch: UsageBatch) async throws {}
    func usage(keyID: String, sinceMinute: Int64) async throws -> [(minute: Int64, counts: UsageCounts)] { [] }
    func usage(tenantID: String, sinceMinute: Int64, keyLimit: Int) async throws -> TenantUsage { TenantUsage(keys: [], minutes: []) }
}
