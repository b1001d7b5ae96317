import AITBCDomain
import AITBCStorage
import Foundation
import Logging
import Testing

/// Retention of webhook events and deliveries on every backend, swept by the janitor on a
/// hand-moved clock: delivered and given-up deliveries past the age go with their events, in
/// batches; a pending delivery (and so its event) stays however old.
extension StoreContractTests {
    static func webhookEvent(_ id: String, daysAfterNow days: Double = 0) -> WebhookEvent {
        WebhookEvent(
            id: "evt_\(id)_000000000000", tenantID: "t1", type: .keyRevoked, createdAt: now.addingTimeInterval(days * day),
            data: [:])
    }

    /// Records one finished attempt of `claimed`: delivered at `at`, or given up.
    static func finish(_ claimed: ClaimedWebhookDelivery, delivered: Bool, at: Date, in store: any CoordinatorStore) async throws {
        var delivery = claimed.delivery
        delivery.status = delivered ? .delivered : .failed
        delivery.attempts = 1
        delivery.nextAttemptAt = nil
        delivery.deliveredAt = delivered ? at : nil
        try await store.recordWebhookAttempt(
            WebhookAttemptOutcome(delivery: delivery, succeeded: delivered, at: at, disabling: nil))
    }

    @Test(arguments: backends.map { $0.name })
    func webhookDeliveriesNoLongerPendingGoWithTheirEventsPastTheAgeAndPendingOnesStay(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        try await store.insertWebhookEndpoint(Self.endpoint("we_a", events: [.keyRevoked]))
        try await store.insertWebhookEndpoint(Self.endpoint("we_b", events: [.keyRevoked]))
        try await store.insertWebhookEndpoint(Self.endpoint("we_c", events: [.jobFailed]))
        let old = ["done", "failed", "pending", "late", "late-failed", "d1", "d2", "d3", "d4"]
        for id in old { try await store.insertWebhookEvent(Self.webhookEvent(id), endpointID: "we_a") }
        // One event to two endpoints: delivered to one, still pending at the other.
        try await store.insertWebhookEvent(Self.webhookEvent("mixed"), endpointID: nil)
        try await store.insertWebhookEvent(Self.webhookEvent("young", daysAfterNow: 20), endpointID: "we_a")
        // An event whose endpoint (and with it its delivery) was deleted.
        try await store.insertWebhookEvent(Self.webhookEvent("orphan"), endpointID: "we_c")
        #expect(try await store.deleteWebhookEndpoint(id: "we_c"))

        let claimed = try await store.claimWebhookDeliveries(
            now: Self.now.addingTimeInterval(21 * Self.day), leaseUntil: Self.now.addingTimeInterval(21 * Self.day + 60),
            limit: 50)
        func delivery(_ event: String, _ endpoint: String = "we_a") throws -> ClaimedWebhookDelivery {
            try #require(claimed.first { $0.event.id == Self.webhookEvent(event).id && $0.endpoint.id == endpoint })
        }
        for id in ["done", "d1", "d2", "d3", "d4", "mixed"] {
            try await Self.finish(try delivery(id), delivered: true, at: Self.now.addingTimeInterval(30), in: store)
        }
        try await Self.finish(try delivery("failed"), delivered: false, at: Self.now.addingTimeInterval(30), in: store)
        // Delivered only on a redelivery 25 days later: its log is as young as that.
        try await Self.finish(try delivery("late"), delivered: true, at: Self.now.addingTimeInterval(25 * Self.day), in: store)
        // Given up again on a redelivery 25 days later: its log is as young as that too.
        try await Self.finish(
            try delivery("late-failed"), delivered: false, at: Self.now.addingTimeInterval(25 * Self.day), in: store)
        try await Self.finish(try delivery("young"), delivered: true, at: Self.now.addingTimeInterval(20 * Self.day), in: store)
        let pending = [try delivery("pending").delivery.id, try delivery("mixed", "we_b").delivery.id]

        let clock = ManualTimeSource(Self.now.addingTimeInterval(30 * Self.day - 60))
        var policy = RetentionPolicy()
        policy.webhookDays = 30
        let janitor = RetentionJanitor(
            store: store, policy: policy, time: clock, interval: .seconds(3600), batchSize: 2, pause: .zero,
            logger: Logger(label: "test"))
        var swept = try await janitor.sweep()
        #expect(swept.webhookDeliveries == 0 && swept.webhookEvents == 0)

        clock.advance(by: 120)
        swept = try await janitor.sweep()
        // done, failed, d1…d4 and mixed's delivered half; then their events but mixed's, and the orphan.
        #expect(swept.webhookDeliveries == 7)
        #expect(swept.webhookEvents == 7)
        for id in ["done", "failed", "d1", "d4"] { #expect(try await store.webhookDelivery(id: try delivery(id).delivery.id) == nil) }
        #expect(try await store.webhookDelivery(id: try delivery("mixed").delivery.id) == nil)
        #expect(try await store.webhookDelivery(id: try delivery("late").delivery.id)?.status == .delivered)
        #expect(try await store.webhookDelivery(id: try delivery("late-failed").delivery.id)?.status == .failed)
        #expect(try await store.webhookDelivery(id: try delivery("young").delivery.id)?.status == .delivered)
        for id in pending { #expect(try await store.webhookDelivery(id: id)?.status == .pending, "\(id)") }

        // The pending deliveries are still sent, with their events.
        let due = try await store.claimWebhookDeliveries(
            now: Self.now.addingTimeInterval(40 * Self.day), leaseUntil: Self.now.addingTimeInterval(40 * Self.day + 60),
            limit: 50)
        #expect(Set(due.map(\.delivery.id)) == Set(pending))
        #expect(Set(due.map(\.event.id)) == [Self.webhookEvent("pending").id, Self.webhookEvent("mixed").id])
        #expect(try await janitor.sweep().webhookDeliveries == 0)

        // Sixty days on, the late and young ones are past the age too; the pending ones never are.
        clock.advance(by: 60 * Self.day)
        swept = try await janitor.sweep()
        #expect(swept.webhookDeliveries == 3 && swept.webhookEvents == 3)
        for id in pending { #expect(try await store.webhookDelivery(id: id)?.status == .pending, "\(id)") }
        try await store.close()
    }
}
