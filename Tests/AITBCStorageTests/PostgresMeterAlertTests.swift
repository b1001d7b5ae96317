import AITBCDomain
@testable import AITBCStorage
import AITBCWire
import Foundation
import Testing

/// On a live PostgreSQL shared by several instances (each its own store): a threshold crossing of a
/// quota or a balance gives exactly one event, written by the lease that moved the counter, and only
/// for a tenant subscribed to it.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason), .freshPostgresDatabases, .timeLimit(.minutes(2)))
struct PostgresMeterAlertTests {
    static let start = PostgresMeterLeaseTests.start

    /// An endpoint of `tenant` subscribed to both meter events, known to every instance's outbox.
    static func subscribe(_ instances: [(store: PostgresStore, meters: SpendingMeters)], tenant: String = "t1") async throws -> String {
        let endpoint = WebhookEndpoint(
            id: "we_\(tenant)", tenantID: tenant, url: "https://example.com/hook", events: [.creditsLow, .quotaThreshold],
            description: nil, secret: "whsec_test", createdAt: start)
        try await instances[0].store.insertWebhookEndpoint(endpoint)
        for instance in instances { instance.store.webhookOutbox.replace(with: try await instance.store.webhookSubscriptions()) }
        return endpoint.id
    }

    /// The events of the deliveries of `endpointID`, as their (type, data) pairs.
    static func delivered(_ store: PostgresStore, _ endpointID: String) async throws -> [(type: String, data: JSONValue)] {
        let rows = try await store.read { session in
            try await session.rows(
                """
                SELECT e.type, e.data FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                WHERE d.endpoint_id = \(endpointID)
                """
            ).map { try $0.decode((String, String).self) }
        }
        return try rows.map { (type: $0.0, data: try JSONDecoder().decode(JSONValue.self, from: Data($0.1.utf8))) }
    }

    @Test func aQuotaCrossingLeasedByThreeInstancesGivesExactlyOneEventPerThreshold() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await PostgresMeterLeaseTests.instances(3, time: time)
        let endpoint = try await Self.subscribe(instances)
        let caller = PostgresMeterLeaseTests.principal(quota: RequestQuota(perDay: 200), credits: nil)
        _ = try await PostgresMeterLeaseTests.hammer(instances, caller, attempts: 120)
        let events = try await Self.delivered(instances[0].store, endpoint)
        #expect(events.map(\.type) == ["quota.threshold", "quota.threshold"], "\(events)")
        #expect(events.filter { $0.data["threshold_percent"] == 80 }.count == 1)
        #expect(events.filter { $0.data["threshold_percent"] == 100 && $0.data["used"] == 200 }.count == 1)
        #expect(events.allSatisfy { $0.data["period"] == "day" && $0.data["limit"] == 200 && $0.data["tenant_id"] == "t1" })
        for instance in instances { try await instance.store.close() }
    }

    @Test func aBalanceSpentByThreeInstancesGivesOneLowAndOneEmptyEventAndATopUpArmsThemAgain() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await PostgresMeterLeaseTests.instances(3, time: time)
        let endpoint = try await Self.subscribe(instances)
        let caller = PostgresMeterLeaseTests.principal(quota: nil, credits: KeyCredits())
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 300, refill: nil)
        _ = try await PostgresMeterLeaseTests.hammer(instances, caller, attempts: 120)
        var events = try await Self.delivered(instances[0].store, endpoint)
        #expect(events.map(\.type) == ["credits.low", "credits.low"], "\(events)")
        #expect(events.filter { $0.data["threshold"] == 30 && $0.data["key_id"] == "key_a" }.count == 1)
        #expect(events.filter { $0.data["threshold"] == 0 && $0.data["remaining"] == 0 }.count == 1)

        try await instances[1].meters.setBalance(keyID: "key_a", remaining: 40, refill: nil)
        for instance in instances { await instance.meters.leases?.end(for: .keyChanged(digests: [caller.key.digest])) }
        _ = try await PostgresMeterLeaseTests.hammer(instances, caller, attempts: 20)
        events = try await Self.delivered(instances[0].store, endpoint)
        #expect(events.count == 4, "\(events)")
        #expect(events.filter { $0.data["threshold"] == 4 }.count == 1)
        for instance in instances { try await instance.store.close() }
    }

    @Test func onlyASubscribedTenantPaysForAnEventRow() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await PostgresMeterLeaseTests.instances(1, time: time)
        _ = try await Self.subscribe(instances, tenant: "t2")
        let caller = PostgresMeterLeaseTests.principal(quota: RequestQuota(perDay: 5), credits: nil)
        for _ in 0..<5 { _ = try await instances[0].meters.charge(caller, cost: 1) }
        let count = { @Sendable in
            try await instances[0].store.read { session in
                try await session.rows("SELECT count(*) FROM webhook_events").first.map { try $0.decode(Int64.self) } ?? 0
            }
        }
        #expect(try await count() == 0, "t1 crossed 80 % and 100 % with no endpoint")
        let endpoint = try await Self.subscribe(instances)
        time.set(Date(timeIntervalSince1970: 1_795_046_400))
        for _ in 0..<5 { _ = try await instances[0].meters.charge(caller, cost: 1) }
        #expect(try await count() == 2)
        #expect(try await Self.delivered(instances[0].store, endpoint).count == 2)
        for instance in instances { try await instance.store.close() }
    }
}
