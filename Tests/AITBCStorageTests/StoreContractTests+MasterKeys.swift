import AITBCDomain
import AITBCStorage
import Foundation
import Testing

/// Makes two stores on one database of each backend.
enum StorePairs {
    typealias Factory = @Sendable () async throws -> (any CoordinatorStore, any CoordinatorStore)

    /// Two handles on one database, as two callers at once would use it: on SQLite the same store
    /// twice (a file belongs to one instance, whose one connection takes each transaction in turn),
    /// on PostgreSQL two pools, as two coordinator instances have.
    static let all: [(name: String, make: Factory)] = {
        var pairs: [(name: String, make: Factory)] = [
            ("sqlite", {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-store-\(UUID().uuidString)/db.sqlite").path
                let store = try await SQLiteStore.open(path: path)
                return (store, store)
            })
        ]
        if PostgresTestDatabase.isConfigured {
            pairs.append(("postgres", {
                let database = try await PostgresDatabaseScope.makeDatabase()
                return (try await database.open(), try await database.open())
            }))
        }
        return pairs
    }()
}

/// The ``MasterKeyRule`` as every backend keeps it: stated once in the domain, enforced by each store
/// in its own transaction.
extension StoreContractTests {
    @Test(arguments: StorePairs.all.map { $0.name })
    func concurrentRevokesOfATenantsLastTwoMasterKeysLeaveExactlyOne(backend: String) async throws {
        let (first, second) = try await StorePairs.all.first { $0.name == backend }!.make()
        let tenants = (0..<20).map { "tenant-\($0)" }
        for tenant in tenants {
            _ = try await first.insertTenant(Tenant(id: tenant, name: tenant, plan: "free", createdAt: Self.now), event: nil)
            for index in 1...2 {
                let id = "\(tenant)-m\(index)"
                try await first.insertKey(Self.key(id, tenant: tenant, role: .master), event: Self.event(.keyCreated, tenant: tenant, target: id))
            }
        }
        let outcomes = try await withThrowingTaskGroup(of: (String, RevokeOutcome).self) { group in
            for tenant in tenants {
                for (index, store) in [(1, first), (2, second)] {
                    group.addTask {
                        let id = "\(tenant)-m\(index)"
                        do {
                            return (tenant, try await store.revokeKey(id: id, at: Self.now, event: Self.event(.keyRevoked, tenant: tenant, target: id)))
                        } catch {
                            Issue.record("revoking \(id) failed: \(String(reflecting: error))")
                            throw error
                        }
                    }
                }
            }
            return try await group.reduce(into: [String: [RevokeOutcome]]()) { $0[$1.0, default: []].append($1.1) }
        }
        for tenant in tenants {
            let results = try #require(outcomes[tenant])
            #expect(results.filter { if case .revoked = $0 { true } else { false } }.count == 1, "\(tenant): \(results)")
            #expect(results.filter { $0 == .lastMasterKey }.count == 1, "\(tenant): \(results)")
            let active = try await first.keys(tenantID: tenant, after: nil, limit: 10).filter { $0.isActive(at: Self.now) }
            #expect(active.count == 1, "\(tenant) has \(active.count) active master keys")
            let revocations = try await first.auditEvents(tenantID: tenant, after: nil, limit: 10).filter { $0.kind == .keyRevoked }
            #expect(revocations.count == 1, "\(tenant): a refused revocation records nothing")
        }
        try await first.close()
        if backend != "sqlite" { try await second.close() }
    }

    @Test(arguments: backends.map { $0.name })
    func anExpiredMasterKeyNeitherCountsAsTheOtherNorIsProtected(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        var expired = Self.key("key_old", role: .master)
        expired.expiresAt = Self.now.addingTimeInterval(-1)
        try await store.insertKey(expired, event: Self.event(.keyCreated, target: "key_old"))
        try await store.insertKey(Self.key("key_m", role: .master), event: Self.event(.keyCreated, target: "key_m"))
        #expect(MasterKeyRule.protects(try #require(try await store.key(id: "key_m")), at: Self.now))
        #expect(try await store.revokeKey(id: "key_m", at: Self.now, event: Self.event(.keyRevoked, target: "key_m")) == .lastMasterKey)
        #expect(try await store.key(id: "key_m")?.revokedAt == nil)
        guard case .revoked = try await store.revokeKey(id: "key_old", at: Self.now, event: Self.event(.keyRevoked, target: "key_old"))
        else { Issue.record("an expired master key is not protected by the rule"); return }
        try await store.close()
    }
}
