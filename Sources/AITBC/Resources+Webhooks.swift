import AITBCWire
import Foundation

extension AITBCClient {
    public var webhooks: Webhooks { Webhooks(client: self) }

    /// The tenant's webhook endpoints (master keys with `webhooks:read` / `webhooks:write`).
    public struct Webhooks: Sendable {
        let client: AITBCClient

        /// Creates an endpoint; the answer's `secret` (`whsec_…`) is shown this once.
        public func create(url: String, events: [String], description: String? = nil) async throws -> WebhookView {
            try await client.send(.POST, "/v1/webhooks", body: CreateWebhookRequest(url: url, events: events, description: description))
                .decode(WebhookView.self)
        }

        public func list() async throws -> [WebhookView] {
            try await client.send(.GET, "/v1/webhooks").decode(Page<WebhookView>.self).items
        }

        public func get(_ webhookID: String) async throws -> WebhookView {
            try await client.send(.GET, "/v1/webhooks/\(Path.escape(webhookID))").decode(WebhookView.self)
        }

        public func update(_ webhookID: String, _ change: UpdateWebhookRequest) async throws -> WebhookView {
            try await client.send(.PATCH, "/v1/webhooks/\(Path.escape(webhookID))", body: change).decode(WebhookView.self)
        }

        public func delete(_ webhookID: String) async throws {
            try await client.send(.DELETE, "/v1/webhooks/\(Path.escape(webhookID))")
        }

        /// A new secret, shown once; the old one keeps signing for `gracePeriod` (default 24 hours).
        public func rotateSecret(_ webhookID: String, gracePeriod: Duration? = nil) async throws -> WebhookView {
            try await client.send(
                .POST, "/v1/webhooks/\(Path.escape(webhookID))/rotate-secret",
                body: RotateWebhookSecretRequest(gracePeriodSeconds: gracePeriod.map { Int($0.components.seconds) })
            ).decode(WebhookView.self)
        }

        /// Queues a `webhook.test` event for this endpoint only.
        public func test(_ webhookID: String) async throws -> WebhookTestView {
            try await client.send(.POST, "/v1/webhooks/\(Path.escape(webhookID))/test").decode(WebhookTestView.self)
        }

        public func deliveries(_ webhookID: String, limit: Int = 20, cursor: String? = nil) async throws -> Page<WebhookDeliveryView> {
            try await client.send(
                .GET, "/v1/webhooks/\(Path.escape(webhookID))/deliveries", query: ["limit": String(limit), "cursor": cursor]
            ).decode(Page<WebhookDeliveryView>.self)
        }

        public func redeliver(_ webhookID: String, deliveryID: String) async throws -> WebhookDeliveryView {
            try await client.send(
                .POST, "/v1/webhooks/\(Path.escape(webhookID))/deliveries/\(Path.escape(deliveryID))/redeliver"
            ).decode(WebhookDeliveryView.self)
        }
    }
}
