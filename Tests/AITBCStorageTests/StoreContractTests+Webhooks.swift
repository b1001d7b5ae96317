import AITBCDomain
import AITBCStorage
import Foundation
import Testing

/// The webhook outbox as every backend keeps it: a change writes its event (and a delivery per
/// subscribed endpoint) in its own transaction, only for subscribed tenants; a due delivery is
/// claimed by one caller at a time.
extension StoreContractTests {
    static func endpoint(_ id: String, tenant: String = "t1", events: [WebhookEventType]) -> WebhookEndpoint {
        WebhookEndpoint(
            id: id, tenantID: tenant, url: "https://example.com/\(id)", events: events, description: nil,
            secret: "whsec_\(id)", createdAt: now)
    }

    @Test(arguments: backends.map { $0.name })
    func changesWriteWebhookEventsWithThemOnlyForSubscribedTenantsAndTypes(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        try await store.insertWebhookEndpoint(Self.endpoint("we_one", events: [.keyRevoked, .jobCompleted]))
        try await store.insertWebhookEndpoint(Self.endpoint("we_two", events: [.keyRevoked]))
        var disabled = Self.endpoint("we_off", events: [.keyRevoked])
        disabled.disabledAt = Self.now
        try await store.insertWebhookEndpoint(disabled)
        store.webhookOutbox.replace(with: try await store.webhookSubscriptions())
        #expect(store.webhookOutbox.isSubscribed("t1", .keyRevoked))
        #expect(!store.webhookOutbox.isSubscribed("t1", .keyCreated))
        #expect(!store.webhookOutbox.isSubscribed("t2", .keyRevoked))

        for (id, tenant) in [("k1", "t1"), ("k2", "t2")] {
            try await store.insertKey(Self.key(id, tenant: tenant), event: Self.event(.keyCreated, tenant: tenant, target: id))
            #expect(try await store.revokeKey(id: id, at: Self.now, event: Self.event(.keyRevoked, tenant: tenant, target: id))
                != .notFound)
        }
        var job = Job(
            id: "job1", tenantID: "t1", clientKeyID: "k1", payload: [:], constraints: nil, ttlSeconds: 60,
            requestedAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
        #expect(try await store.insertJob(job, idempotency: nil) == .inserted)
        job.state = .completed
        job.finishedAt = Self.now
        // A compare-and-set that loses writes no event.
        #expect(try await !store.updateJob(job, ifStateIn: [.running]))
        #expect(try await store.updateJob(job, ifStateIn: [.queued]))

        let claimed = try await store.claimWebhookDeliveries(
            now: Self.now.addingTimeInterval(1), leaseUntil: Self.now.addingTimeInterval(60), limit: 50)
        let pairs = Set(claimed.map { "\($0.endpoint.id) \($0.event.type.rawValue)" })
        #expect(pairs == ["we_one api_key.revoked", "we_two api_key.revoked", "we_one job.completed"])
        #expect(claimed.count == 3)
        let revoked = try #require(claimed.first { $0.event.type == .keyRevoked })
        #expect(revoked.event.data["key_id"] == "k1")
        #expect(revoked.event.data["status"] == "revoked")
        #expect(revoked.event.data["api_key"] == nil)
        #expect(revoked.endpoint.secret == "whsec_" + revoked.endpoint.id)
        let completed = try #require(claimed.first { $0.event.type == .jobCompleted })
        #expect(completed.event.data["job_id"] == "job1")
        #expect(completed.event.data["state"] == "COMPLETED")
        // Both endpoints' deliveries of one event share its id.
        #expect(Set(claimed.filter { $0.event.type == .keyRevoked }.map(\.event.id)).count == 1)
        try await store.close()
    }

    @Test(arguments: StorePairs.all.map { $0.name })
    func aDueDeliveryIsClaimedByOneCallerUntilItsLeaseEnds(backend: String) async throws {
        let (first, second) = try await StorePairs.all.first { $0.name == backend }!.make()
        for tenant in ["t1"] {
            _ = try await first.insertTenant(Tenant(id: tenant, name: tenant, plan: "free", createdAt: Self.now), event: nil)
        }
        try await first.insertWebhookEndpoint(Self.endpoint("we_one", events: [.keyRevoked]))
        for index in 0..<20 {
            try await first.insertWebhookEvent(
                WebhookEvent(id: "evt_\(index)_0000000000000000", tenantID: "t1", type: .keyRevoked, createdAt: Self.now, data: [:]),
                endpointID: nil)
        }
        let at = Self.now.addingTimeInterval(1)
        let lease = Self.now.addingTimeInterval(60)
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for index in 0..<6 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask { try await store.claimWebhookDeliveries(now: at, leaseUntil: lease, limit: 5).map(\.delivery.id) }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claims.count == 20)
        #expect(Set(claims).count == 20, "a delivery was claimed twice")
        #expect(try await first.claimWebhookDeliveries(now: at, leaseUntil: lease, limit: 50).isEmpty)
        // Once the lease has passed, an unrecorded attempt is due again (its instance died mid-send).
        #expect(try await second.claimWebhookDeliveries(now: lease, leaseUntil: lease.addingTimeInterval(60), limit: 50).count == 20)
        try await first.close()
        if backend != "sqlite" { try await second.close() }
    }
}
