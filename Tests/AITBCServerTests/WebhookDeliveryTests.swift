import AITBC
import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Webhooks delivered to a real HTTP receiver on loopback: every event type, signed so the SDK's
/// verifier accepts it; retries with back-off; a rotated secret's two signatures.
@Suite struct WebhookDeliveryTests {
    static let allTypes = [
        "api_key.created", "api_key.regenerated", "api_key.revoked", "job.completed", "job.failed", "job.expired",
    ]

    @Test func everyEventTypeIsDeliveredSignedAndVerifiesWithTheSDKHelper() async throws {
        let harness = try await Harness.makeForWebhooks()
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                let endpoint = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: Self.allTypes)
                let secret = try #require(endpoint.secret)
                #expect(secret.hasPrefix("whsec_"))

                let key = try await client.createKey(using: Harness.masterKey)
                let regenerated = try await client.send(.post, "/v1/api-keys/\(key.keyID)/regenerate", key: Harness.masterKey)
                #expect(regenerated.status == .ok)
                let keySecrets = [try key.secret(), try #require(regenerated.json["api_key"]?.stringValue)]
                #expect(try await client.send(.delete, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey).status == .ok)

                _ = try await client.send(
                    .post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: JobLifecycleTests.capabilities)
                for outcome in ["result", "fail"] {
                    let job = try await JobLifecycleTests().submit(client)
                    let polled = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 5}"#)
                    #expect(polled.json["job_id"]?.stringValue == job)
                    let body = outcome == "result"
                        ? #"{"result": {"output": "hi"}, "metrics": {}}"#
                        : #"{"error_code": "OOM", "error_message": "out of memory", "metrics": {}}"#
                    #expect(try await client.send(.post, "/v1/miners/\(job)/\(outcome)", key: Harness.minerKey, json: body).status == .ok)
                }
                let expiring = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}, "ttl_seconds": 10}"#)
                let expiringID = try #require(expiring.json["job_id"]?.stringValue)
                harness.clock.advance(by: 11)
                try await harness.sweep {
                    try await client.send(.get, "/v1/jobs/\(expiringID)", key: Harness.clientKey).json["state"] == "EXPIRED"
                }

                try await waitUntil { receiver.received.count >= Self.allTypes.count }
                let received = receiver.received
                #expect(received.count == Self.allTypes.count)
                var types: [String] = []
                for webhook in received {
                    try WebhookVerifier.verify(
                        payload: webhook.body, header: webhook.signature, secret: secret, now: harness.clock.now())
                    let event = try JSONDecoder().decode(JSONValue.self, from: Data(webhook.body.utf8))
                    types.append(try #require(event["type"]?.stringValue))
                    #expect(event["id"]?.stringValue == webhook.eventID)
                    #expect(webhook.eventID.hasPrefix("evt_"))
                    #expect(event["created_at"]?.stringValue?.hasSuffix("Z") == true)
                    #expect(webhook.userAgent == "AITBC-Webhooks/1")
                    #expect(webhook.contentType == "application/json")
                    // No secret of any kind travels in an event.
                    #expect(!webhook.body.contains("api_key\""))
                    #expect(!keySecrets.contains { webhook.body.contains($0) })
                    #expect(!webhook.body.contains(secret))
                }
                #expect(types.sorted() == Self.allTypes.sorted())
                let revoked = try #require(received.first { $0.body.contains("\"api_key.revoked\"") })
                let revokedEvent = try JSONDecoder().decode(JSONValue.self, from: Data(revoked.body.utf8))
                #expect(revokedEvent["data"]?["key_id"]?.stringValue == key.keyID)
                #expect(revokedEvent["data"]?["status"] == "revoked")
                let failed = try #require(received.first { $0.body.contains("\"job.failed\"") })
                #expect(failed.body.contains("OOM"))

                // A wrong secret, or a changed body, does not verify.
                #expect(throws: WebhookVerifier.Failure.noMatchingSignature) {
                    try WebhookVerifier.verify(
                        payload: received[0].body, header: received[0].signature, secret: "whsec_wrong", now: harness.clock.now())
                }
                #expect(throws: WebhookVerifier.Failure.timestampOutsideTolerance) {
                    try WebhookVerifier.verify(
                        payload: received[0].body, header: received[0].signature, secret: secret,
                        now: harness.clock.now().addingTimeInterval(3600))
                }

                // The receiver has answered; the deliverer records each attempt just after.
                try await waitUntil {
                    (try? await harness.deliveries(endpoint.webhookID, client: client).allSatisfy { $0.status == "delivered" }) == true
                }
                let deliveries = try await harness.deliveries(endpoint.webhookID, client: client)
                #expect(deliveries.count == Self.allTypes.count)
                #expect(deliveries.allSatisfy { $0.status == "delivered" && $0.attempts == 1 && $0.lastStatusCode == 200 })
            }
        }
    }

    @Test func aReceiverAnswering503IsRetriedWithBackOffUntilItTakesTheEvent() async throws {
        let harness = try await Harness.makeForWebhooks(retryBase: .seconds(10))
        let receiver = WebhookReceiver()
        receiver.answer([503, 503])
        try await receiver.listening { port in
            try await harness.test { client in
                let endpoint = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: ["api_key.created"])
                _ = try await client.createKey(using: Harness.masterKey)
                try await waitUntil { receiver.received.count == 1 }
                try await waitUntil { (try? await harness.deliveries(endpoint.webhookID, client: client).first?.attempts) == 1 }
                let first = try #require(try await harness.deliveries(endpoint.webhookID, client: client).first)
                #expect(first.status == "pending")
                #expect(first.lastStatusCode == 503)
                let firstAttempt = try #require(first.attemptLog.first)
                let firstDelay = try #require(firstAttempt.nextAttemptAt).timeIntervalSince(firstAttempt.at)
                #expect((8...12).contains(firstDelay), "the first retry is the base (10 s) with jitter, got \(firstDelay)")

                // Not due yet: nothing more arrives until the clock passes the retry.
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.received.count == 1)
                harness.clock.advance(by: 13)
                try await waitUntil { (try? await harness.deliveries(endpoint.webhookID, client: client).first?.attempts) == 2 }
                let second = try #require(try await harness.deliveries(endpoint.webhookID, client: client).first)
                let secondAttempt = try #require(second.attemptLog.last)
                let secondDelay = try #require(secondAttempt.nextAttemptAt).timeIntervalSince(secondAttempt.at)
                #expect((16...24).contains(secondDelay), "the second retry doubles, got \(secondDelay)")

                harness.clock.advance(by: 25)
                try await waitUntil { (try? await harness.deliveries(endpoint.webhookID, client: client).first?.status) == "delivered" }
                let delivered = try #require(try await harness.deliveries(endpoint.webhookID, client: client).first)
                #expect(delivered.attempts == 3)
                #expect(delivered.attemptLog.map(\.statusCode) == [503, 503, 200])
                #expect(delivered.nextAttemptAt == nil)
                #expect(Set(receiver.received.map(\.eventID)).count == 1, "every attempt carries the same event id")
            }
        }
    }

    @Test func aReceiverThatRefusesConnectionsGetsTheEventOnceItListens() async throws {
        let harness = try await Harness.makeForWebhooks(retryBase: .seconds(5))
        // A port that was free a moment ago and has nothing listening now.
        let port = try await WebhookReceiver().listening { $0 }
        try await harness.test { client in
            let endpoint = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: ["api_key.created"])
            _ = try await client.createKey(using: Harness.masterKey)
            try await waitUntil { (try? await harness.deliveries(endpoint.webhookID, client: client).first?.attempts) == 1 }
            let refused = try #require(try await harness.deliveries(endpoint.webhookID, client: client).first)
            #expect(refused.status == "pending")
            #expect(refused.lastStatusCode == nil)
            #expect(refused.lastError != nil)
            let receiver = WebhookReceiver()
            try await receiver.listening(port: port) { _ in
                harness.clock.advance(by: 7)
                try await waitUntil { receiver.received.count == 1 }
                try await waitUntil { (try? await harness.deliveries(endpoint.webhookID, client: client).first?.status) == "delivered" }
            }
            let delivered = try #require(try await harness.deliveries(endpoint.webhookID, client: client).first)
            #expect(delivered.attempts == 2)
            #expect(delivered.attemptLog.first?.error != nil)
            #expect(delivered.attemptLog.last?.statusCode == 200)
        }
    }

    @Test func aRotatedSecretSignsWithTheOldAndTheNewSecretDuringItsGracePeriod() async throws {
        let harness = try await Harness.makeForWebhooks()
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                let endpoint = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: ["api_key.created"])
                let old = try #require(endpoint.secret)
                let rotated = try await client.send(
                    .post, "/v1/webhooks/\(endpoint.webhookID)/rotate-secret", key: Harness.masterKey,
                    json: #"{"grace_period_seconds": 3600}"#)
                #expect(rotated.status == .ok)
                #expect(rotated.header("Cache-Control") == "no-store")
                let new = try #require(try rotated.decode(WebhookView.self).secret)
                #expect(new != old && new.hasPrefix("whsec_"))

                #expect(try await client.send(.post, "/v1/webhooks/\(endpoint.webhookID)/test", key: Harness.masterKey).status == .accepted)
                try await waitUntil { receiver.received.count == 1 }
                let during = receiver.received[0]
                #expect(during.signature.components(separatedBy: "v1=").count == 3, "two v1 signatures: \(during.signature)")
                #expect(during.body.contains("\"webhook.test\""))
                let now = harness.clock.now()
                try WebhookVerifier.verify(payload: during.body, header: during.signature, secret: old, now: now)
                try WebhookVerifier.verify(payload: during.body, header: during.signature, secret: new, now: now)

                // After the grace period only the new secret signs.
                harness.clock.advance(by: 3601)
                #expect(try await client.send(.post, "/v1/webhooks/\(endpoint.webhookID)/test", key: Harness.masterKey).status == .accepted)
                try await waitUntil { receiver.received.count == 2 }
                let after = receiver.received[1]
                #expect(after.signature.components(separatedBy: "v1=").count == 2)
                try WebhookVerifier.verify(payload: after.body, header: after.signature, secret: new, now: harness.clock.now())
                #expect(throws: WebhookVerifier.Failure.noMatchingSignature) {
                    try WebhookVerifier.verify(payload: after.body, header: after.signature, secret: old, now: harness.clock.now())
                }
            }
        }
    }
}
