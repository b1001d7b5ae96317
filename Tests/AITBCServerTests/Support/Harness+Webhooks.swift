import AITBCDomain
import AITBCWire
import Foundation
import HummingbirdTesting

@testable import AITBCServer

extension Harness {
    /// A harness whose webhooks may reach loopback (the test receiver), poll often and retry after `retryBase`.
    static func makeForWebhooks(
        retryBase: Duration = .seconds(1), allowPrivate: Bool = true, requireHTTPS: Bool = false
    ) async throws -> Harness {
        try await make { settings in
            settings.webhooks.targets = WebhookTargetPolicy(requireHTTPS: requireHTTPS, allowPrivate: allowPrivate)
            settings.webhooks.pollInterval = .milliseconds(50)
            settings.webhooks.retryBase = retryBase
        }
    }

    /// The deliveries of `webhookID`, newest first, as the API lists them.
    func deliveries(_ webhookID: String, client: some TestClientProtocol) async throws -> [WebhookDeliveryView] {
        try await client.send(.get, "/v1/webhooks/\(webhookID)/deliveries", key: Harness.masterKey)
            .decode(Page<WebhookDeliveryView>.self).items
    }
}

extension TestClientProtocol {
    /// Creates a webhook endpoint with `key` and returns its view (with its secret).
    func createWebhook(
        url: String, events: [String], key: String = Harness.masterKey
    ) async throws -> WebhookView {
        let list = events.map { "\"\($0)\"" }.joined(separator: ", ")
        let reply = try await send(.post, "/v1/webhooks", key: key, json: #"{"url": "\#(url)", "events": [\#(list)]}"#)
        guard reply.status == .created else {
            throw HarnessError(description: "create webhook failed: \(reply.status) \(reply.text)")
        }
        return try reply.decode(WebhookView.self)
    }
}
