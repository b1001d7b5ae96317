import AITBCDomain
import AITBCStorage
import Foundation
import Testing

extension StoreContractTests {
    @Test(arguments: backends.map { $0.name })
    func aKeysAllowListIsStoredChangedClearedAndKeptByRegeneration(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let list = try IPAllowList(parsing: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
        var key = Self.key("key_ips", secret: "secret-ips")
        key.allowedIPs = list
        try await store.insertKey(key, event: Self.event(.keyCreated, target: key.id))
        try await store.insertKey(Self.key("key_open"), event: Self.event(.keyCreated, target: "key_open"))
        #expect(try await store.key(id: "key_ips")?.allowedIPs == list)
        #expect(try await store.key(matching: APIKeyDigest(of: "secret-ips"))?.allowedIPs == list)
        #expect(try await store.keys(tenantID: "t1", after: nil, limit: 10).map(\.allowedIPs) == [nil, list])
        #expect(try await store.key(id: "key_open")?.allowedIPs == nil)

        var changed = try #require(try await store.key(id: "key_ips"))
        changed.allowedIPs = try IPAllowList(parsing: ["10.0.0.0/8"])
        #expect(try await store.updateKey(changed, event: Self.event(.keyUpdated, target: key.id))?.allowedIPs == changed.allowedIPs)
        let renewed = try await store.replaceSecret(
            id: key.id, digest: APIKeyDigest(of: "secret-ips-2"), hint: "h2", previousValidUntil: nil,
            event: Self.event(.keyRegenerated, target: key.id))
        #expect(renewed?.allowedIPs == changed.allowedIPs)
        #expect(try await store.key(matching: APIKeyDigest(of: "secret-ips-2"))?.allowedIPs == changed.allowedIPs)

        changed.allowedIPs = nil
        #expect(try await store.updateKey(changed, event: Self.event(.keyUpdated, target: key.id))?.allowedIPs == nil)
        #expect(try await store.key(id: "key_ips")?.allowedIPs == nil)

        var development = Self.key("key_dev", secret: "dev")
        development.allowedIPs = list
        try await store.upsertKey(development)
        #expect(try await store.key(id: "key_dev")?.allowedIPs == list)
        development.allowedIPs = nil
        try await store.upsertKey(development)
        #expect(try await store.key(id: "key_dev")?.allowedIPs == nil)
        try await store.close()
    }
}
