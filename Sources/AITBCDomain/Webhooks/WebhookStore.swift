import Foundation

/// Storage of webhook endpoints, the event outbox and deliveries. Events caused by another change
/// (a key revoked, a job finished) are written by that change's own store call, in its transaction,
/// when ``webhookOutbox`` says the tenant has an endpoint subscribed to the type.
public protocol WebhookStore: Sendable {
    /// Which (tenant, type) pairs have an endpoint, and the deliverer's wake-up.
    var webhookOutbox: WebhookOutbox { get }
    func insertWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws
    func webhookEndpoint(id: String) async throws -> WebhookEndpoint?
    /// A tenant's endpoints, oldest first.
    func webhookEndpoints(tenantID: String) async throws -> [WebhookEndpoint]
    /// Writes every field of `endpoint` (matched by id); false when it is gone.
    func updateWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws -> Bool
    /// Deletes an endpoint and its deliveries; false when it was gone.
    func deleteWebhookEndpoint(id: String) async throws -> Bool
    /// Every (tenant, type) pair an enabled endpoint subscribes to.
    func webhookSubscriptions() async throws -> [WebhookSubscription]
    /// Writes `event` with a delivery to each enabled endpoint of its tenant subscribed to its type,
    /// or (with `endpointID`) to that endpoint only.
    func insertWebhookEvent(_ event: WebhookEvent, endpointID: String?) async throws
    /// Claims up to `limit` pending deliveries due at `now` for this instance: each is due again only
    /// at `leaseUntil`, so no other instance sends it meanwhile (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedWebhookDelivery]
    /// Records an attempt's outcome on its delivery and endpoint.
    func recordWebhookAttempt(_ outcome: WebhookAttemptOutcome) async throws
    /// An endpoint's deliveries, newest first, after `cursor`.
    func webhookDeliveries(endpointID: String, after cursor: ListCursor?, limit: Int) async throws -> [WebhookDelivery]
    func webhookDelivery(id: String) async throws -> WebhookDelivery?
    /// Makes a delivery pending and due at `now` again; false when it is gone.
    func redeliverWebhook(id: String, at now: Date) async throws -> Bool
    /// Active keys of `tenantIDs` expiring in `after` < t ≤ `before` that have not had `notice` yet.
    func keysAwaitingNotice(
        _ notice: String, tenantIDs: [String], expiringAfter after: Date, before: Date, limit: Int
    ) async throws -> [APIKeyRecord]
    /// Records that `keyID` had `notice` and writes `event` with it, unless it had it already (then
    /// nothing is written and the answer is false): each notice once, however many instances sweep.
    func recordKeyNotice(keyID: String, notice: String, event: WebhookEvent) async throws -> Bool
}

/// A tenant's interest in one event type.
public struct WebhookSubscription: Sendable, Hashable {
    public var tenantID: String
    public var type: WebhookEventType

    public init(tenantID: String, type: WebhookEventType) {
        self.tenantID = tenantID
        self.type = type
    }
}
