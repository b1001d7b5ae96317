import AITBC
import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// `quota.threshold` and `credits.low` delivered to a real HTTP receiver on loopback, on either
/// backend: signed so the SDK's verifier accepts them, each threshold once, with no secret in them.
@Suite struct MeterWebhookTests {
    @Test func quotaThresholdsAndLowCreditsArriveOnceEachSignedAndVerify() async throws {
        let harness = try await Harness.make(plan: "enterprise") { settings in
            settings.plans = PlanTable(parsing: "free=60,pro=600,enterprise=6000/day:20")!
            settings.webhooks.targets = WebhookTargetPolicy(requireHTTPS: false, allowPrivate: true)
            settings.webhooks.pollInterval = .milliseconds(50)
        }
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                // Request 1 of the tenant's 20 today.
                let endpoint = try await client.createWebhook(
                    url: "http://127.0.0.1:\(port)/hook", events: ["quota.threshold", "credits.low"])
                let secret = try #require(endpoint.secret)
                // Request 2: a key with 10 credits.
                let metered = try await client.createKey(using: Harness.masterKey, extra: #", "credits": {"remaining": 10}"#)
                let meteredSecret = try metered.secret()
                // Requests 3-12 spend its credits: 10 % of 10 is 1 (the 9th credit), then 0 (the 10th).
                for _ in 0..<10 { #expect(try await client.send(.get, "/v1/jobs", key: meteredSecret).status == .ok) }
                #expect(try await client.send(.get, "/v1/jobs", key: meteredSecret).errorCode == "CREDITS_EXHAUSTED")
                // Requests 13-20: 80 % at the 16th, 100 % at the 20th.
                for _ in 0..<8 { #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok) }
                #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).errorCode == "QUOTA_EXCEEDED")
                // On SQLite the events are written with the counters' write-behind.
                _ = await harness.coordinator.flusher.flush()

                try await waitUntil { receiver.received.count >= 4 }
                try await Task.sleep(for: .milliseconds(300))
                let received = receiver.received
                #expect(received.count == 4, "each threshold once")
                var quota: [JSONValue] = []
                var credits: [JSONValue] = []
                for webhook in received {
                    try WebhookVerifier.verify(
                        payload: webhook.body, header: webhook.signature, secret: secret, now: harness.clock.now())
                    let event = try JSONDecoder().decode(JSONValue.self, from: Data(webhook.body.utf8))
                    #expect(event["id"]?.stringValue == webhook.eventID)
                    #expect(!webhook.body.contains(meteredSecret) && !webhook.body.contains(secret))
                    switch event["type"]?.stringValue {
                    case "quota.threshold": quota.append(try #require(event["data"]))
                    case "credits.low": credits.append(try #require(event["data"]))
                    default: Issue.record("unexpected event \(webhook.body)")
                    }
                }
                let percents = quota.compactMap { $0["threshold_percent"]?.doubleValue.map { Int($0) } }.sorted()
                #expect(percents == [80, 100])
                for data in quota {
                    #expect(data["tenant_id"] == "test-tenant" && data["period"] == "day" && data["limit"] == 20)
                    #expect(data["resets_at"] == "2026-11-19T00:00:00Z")
                }
                #expect(quota.first { $0["threshold_percent"] == 100 }?["used"] == 20)
                let thresholds = credits.compactMap { $0["threshold"]?.doubleValue.map { Int($0) } }.sorted()
                #expect(thresholds == [0, 1])
                for data in credits {
                    #expect(data["key_id"]?.stringValue == metered.keyID && data["tenant_id"] == "test-tenant")
                    #expect(Set(data.objectValue?.keys.map { $0 } ?? []) == ["key_id", "tenant_id", "remaining", "threshold"])
                }
                #expect(credits.first { $0["threshold"] == 0 }?["remaining"] == 0)
            }
        }
    }
}
