import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

extension OpenAPITests {
    /// Real answers of the webhook routes for ``everyDocumentedResponseBodyIsWhatTheServerWrites()``.
    static func takeWebhookResponses(
        _ client: some TestClientProtocol, _ take: (String, Reply, HTTPResponse.Status) -> Void
    ) async throws {
        let master = Harness.masterKey
        // A public address literal: accepted without a private-target setting, and never resolved.
        let created = try await client.send(
            .post, "/v1/webhooks", key: master,
            json: #"{"url": "https://93.184.215.14/hook", "events": ["job.failed"], "description": "d"}"#)
        take("Webhook", created, .created)
        let id = try #require(created.json["webhook_id"]?.stringValue)
        take("Webhook", try await client.send(.get, "/v1/webhooks/\(id)", key: master), .ok)
        take("Webhook", try await client.send(.patch, "/v1/webhooks/\(id)", key: master, json: #"{"enabled": true}"#), .ok)
        take("Webhook", try await client.send(.post, "/v1/webhooks/\(id)/rotate-secret", key: master), .ok)
        take("Page<Webhook>", try await client.send(.get, "/v1/webhooks", key: master), .ok)
        take("WebhookTest", try await client.send(.post, "/v1/webhooks/\(id)/test", key: master), .accepted)
        let deliveries = try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: master)
        take("Page<WebhookDelivery>", deliveries, .ok)
        let delivery = try #require(deliveries.json["items"]?.arrayValue?.first?["delivery_id"]?.stringValue)
        take(
            "WebhookDelivery",
            try await client.send(.post, "/v1/webhooks/\(id)/deliveries/\(delivery)/redeliver", key: master), .accepted)
    }
}
