import AITBC
import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The events recorded from memory and from sweeps: `rate_limit.exceeded` (once per key per minute)
/// and `api_key.expiring` / `api_key.expired` (each once per key).
@Suite struct WebhookNoticeTests {
    static func types(_ receiver: WebhookReceiver) -> [String] {
        receiver.received.compactMap {
            (try? JSONDecoder().decode(JSONValue.self, from: Data($0.body.utf8)))?["type"]?.stringValue
        }
    }

    @Test func aKeyOverItsRateLimitIsReportedAtMostOncePerMinute() async throws {
        let harness = try await Harness.makeForWebhooks()
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                let endpoint = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: ["rate_limit.exceeded"])
                let limited = try await client.createKey(using: Harness.masterKey, extra: #", "rate_limit_per_minute": 2"#)
                let secret = try limited.secret()
                var refused = 0
                for _ in 0..<8 {
                    if try await client.send(.get, "/v1/me", key: secret).status == .tooManyRequests { refused += 1 }
                }
                #expect(refused >= 5)
                try await waitUntil { receiver.received.count == 1 }
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.received.count == 1, "one event for many refusals within a minute")
                let event = try JSONDecoder().decode(JSONValue.self, from: Data(receiver.received[0].body.utf8))
                #expect(event["type"] == "rate_limit.exceeded")
                #expect(event["data"]?["key_id"]?.stringValue == limited.keyID)
                #expect(event["data"]?["limit_per_minute"] == 2)
                try WebhookVerifier.verify(
                    payload: receiver.received[0].body, header: receiver.received[0].signature,
                    secret: try #require(endpoint.secret), now: harness.clock.now())

                // The next minute, the next refusal is reported again.
                harness.clock.advance(by: 61)
                for _ in 0..<6 { _ = try await client.send(.get, "/v1/me", key: secret) }
                try await waitUntil { receiver.received.count == 2 }
                // Another tenant's refusals, or a subscribed tenant's unlimited keys, send nothing.
                for _ in 0..<5 { _ = try await client.send(.get, "/v1/me", key: Harness.clientKey) }
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.received.count == 2)
            }
        }
    }

    @Test func keysNearingAndPastTheirExpiryAreReportedOnceEach() async throws {
        let harness = try await Harness.makeForWebhooks()
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                _ = try await client.createWebhook(
                    url: "http://127.0.0.1:\(port)/hook", events: ["api_key.expiring", "api_key.expired"])
                let day: TimeInterval = 24 * 3600
                let soon = RFC3339.string(from: harness.clock.now().addingTimeInterval(3 * day))
                let later = RFC3339.string(from: harness.clock.now().addingTimeInterval(30 * day))
                let expiring = try await client.createKey(using: Harness.masterKey, extra: #", "expires_at": "\#(soon)""#)
                _ = try await client.createKey(using: Harness.masterKey, extra: #", "expires_at": "\#(later)""#)

                #expect(await harness.coordinator.webhooks.sweepKeyExpiry() == 1)
                #expect(await harness.coordinator.webhooks.sweepKeyExpiry() == 0, "each notice once")
                harness.clock.advance(by: 2.5 * day)
                #expect(await harness.coordinator.webhooks.sweepKeyExpiry() == 1)
                harness.clock.advance(by: day)
                #expect(await harness.coordinator.webhooks.sweepKeyExpiry() == 1)
                #expect(await harness.coordinator.webhooks.sweepKeyExpiry() == 0)

                try await waitUntil { receiver.received.count == 3 }
                // Deliveries run concurrently: their order of arrival is not the order of the events.
                #expect(Self.types(receiver).sorted() == ["api_key.expired", "api_key.expiring", "api_key.expiring"])
                let bodies = receiver.received.map(\.body)
                #expect(bodies.allSatisfy { $0.contains(expiring.keyID) })
                #expect(bodies.filter { $0.contains("\"days_left\":7") }.count == 1)
                #expect(bodies.filter { $0.contains("\"days_left\":1") }.count == 1)
            }
        }
    }
}
