import AITBCDomain
import Foundation

extension CountingStore {
    var webhookOutbox: WebhookOutbox { base.webhookOutbox }
    func insertWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws { try await base.insertWebhookEndpoint(endpoint) }
    func webhookEndpoint(id: String) async throws -> WebhookEndpoint? { try await base.webhookEndpoint(id: id) }
    func webhookEndpoints(tenantID: String) async throws -> [WebhookEndpoint] {
        try await base.webhookEndpoints(tenantID: tenantID)
    }
    func updateWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws -> Bool {
        try await base.updateWebhookEndpoint(endpoint)
    }
    func deleteWebhookEndpoint(id: String) async throws -> Bool { try await base.deleteWebhookEndpoint(id: id) }
    func webhookSubscriptions() async throws -> [WebhookSubscription] { try await base.webhookSubscriptions() }
    func insertWebhookEvent(_ event: WebhookEvent, endpointID: String?) async throws {
        try await base.insertWebhookEvent(event, endpointID: endpointID)
    }
    func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedWebhookDelivery] {
        try await base.claimWebhookDeliveries(now: now, leaseUntil: leaseUntil, limit: limit)
    }
    func recordWebhookAttempt(_ outcome: WebhookAttemptOutcome) async throws { try await base.recordWebhookAttempt(outcome) }
    func webhookDeliveries(endpointID: String, after cursor: ListCursor?, limit: Int) async throws -> [WebhookDelivery] {
        try await base.webhookDeliveries(endpointID: endpointID, after: cursor, limit: limit)
    }
    func webhookDelivery(id: String) async throws -> WebhookDelivery? { try await base.webhookDelivery(id: id) }
    func redeliverWebhook(id: String, at now: Date) async throws -> Bool { try await base.redeliverWebhook(id: id, at: now) }
    func keysAwaitingNotice(
        _ notice: String, tenantIDs: [String], expiringAfter after: Date, before: Date, limit: Int
    ) async throws -> [APIKeyRecord] {
        try await base.keysAwaitingNotice(notice, tenantIDs: tenantIDs, expiringAfter: after, before: before, limit: limit)
    }
    func recordKeyNotice(keyID: String, notice: String, event: WebhookEvent) async throws -> Bool {
        try await base.recordKeyNotice(keyID: keyID, notice: notice, event: event)
    }
}
