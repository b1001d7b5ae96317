import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The webhook routes' rules: validation, where webhooks may point, who may see and change them.
@Suite struct WebhookRouteTests {
    @Test func theSecretIsShownOnceAndEndpointsCanBeListedChangedAndDeleted() async throws {
        try await Harness.makeForWebhooks().test { client in
            let created = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey,
                json: #"{"url": "http://127.0.0.1:9/hook", "events": ["job.completed", "api_key.revoked"], "description": "ops"}"#)
            #expect(created.status == .created)
            #expect(created.header("Cache-Control") == "no-store")
            let view = try created.decode(WebhookView.self)
            #expect(view.webhookID.hasPrefix("we_"))
            #expect(view.secret?.hasPrefix("whsec_") == true)
            #expect(view.events == ["api_key.revoked", "job.completed"])
            #expect(view.description == "ops")
            #expect(view.enabled)
            let secret = try #require(view.secret)

            let listed = try await client.send(.get, "/v1/webhooks", key: Harness.masterKey)
            #expect(listed.status == .ok)
            #expect(!listed.text.contains(secret))
            #expect(try listed.decode(Page<WebhookView>.self).items.map(\.webhookID) == [view.webhookID])
            let one = try await client.send(.get, "/v1/webhooks/\(view.webhookID)", key: Harness.masterKey)
            #expect(one.status == .ok)
            #expect(!one.text.contains(secret))
            #expect(one.json["secret"] == nil)

            let changed = try await client.send(
                .patch, "/v1/webhooks/\(view.webhookID)", key: Harness.masterKey,
                json: #"{"events": ["job.failed"], "description": null, "enabled": false}"#)
            #expect(changed.status == .ok)
            #expect(changed.json["events"] == ["job.failed"])
            #expect(changed.json["description"] == .null)
            #expect(changed.json["enabled"] == false)
            #expect(!changed.text.contains(secret))

            #expect(try await client.send(.delete, "/v1/webhooks/\(view.webhookID)", key: Harness.masterKey).status == .noContent)
            #expect(try await client.send(.get, "/v1/webhooks/\(view.webhookID)", key: Harness.masterKey).status == .notFound)
        }
    }

    @Test func unknownEventTypesAndBadURLsAre400NamingTheField() async throws {
        try await Harness.makeForWebhooks().test { client in
            let unknown = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "http://127.0.0.1:9/", "events": ["job.exploded"]}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.json["error"]?["details"]?["field"] == "events")
            let empty = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "http://127.0.0.1:9/", "events": []}"#)
            #expect(empty.json["error"]?["details"]?["field"] == "events")
            let notSubscribable = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "http://127.0.0.1:9/", "events": ["webhook.test"]}"#)
            #expect(notSubscribable.status == .badRequest)
            // A host that is neither an address nor a name once decoded is refused.
            for url in [
                "ftp://example.com/", "not a url", "/relative", "http://user:pw@127.0.0.1/", "http://127.0.0.1%2F/",
                "http://a%21b.example/", "https://ex%C3%A4mple.com/",
            ] {
                let reply = try await client.send(
                    .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "\#(url)", "events": ["job.failed"]}"#)
                #expect(reply.status == .badRequest, "\(url)")
                #expect(reply.json["error"]?["details"]?["field"] == "url", "\(url)")
            }
        }
    }

    @Test func inProductionOnlyHTTPSURLsAreAccepted() async throws {
        try await Harness.makeForWebhooks(requireHTTPS: true).test { client in
            let plain = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "http://127.0.0.1:9/", "events": ["job.failed"]}"#)
            #expect(plain.status == .badRequest)
            #expect(plain.json["error"]?["details"]?["field"] == "url")
            let secure = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "https://127.0.0.1:9/", "events": ["job.failed"]}"#)
            #expect(secure.status == .created)
        }
    }

    @Test func loopbackPrivateAndMetadataTargetsAreRefusedAtCreationUnlessAllowed() async throws {
        try await Harness.makeForWebhooks(allowPrivate: false).test { client in
            for url in [
                "http://127.0.0.1:8000/hook", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
                "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "http://[::1]/", "http://[fe80::1]/",
                "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[::]/",
                "http://localhost:8000/",
            ] {
                let reply = try await client.send(
                    .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "\#(url)", "events": ["job.failed"]}"#)
                #expect(reply.status == .badRequest, "\(url) was accepted")
                #expect(reply.json["error"]?["details"]?["field"] == "url", "\(url)")
            }
            let list = try await client.send(.get, "/v1/webhooks", key: Harness.masterKey)
            #expect(list.json["items"] == [])
            let public_ = try await client.send(
                .post, "/v1/webhooks", key: Harness.masterKey, json: #"{"url": "http://93.184.215.14/hook", "events": ["job.failed"]}"#)
            #expect(public_.status == .created)
        }
    }

    @Test func aDeliveryToAnInternalAddressIsRefusedWhenItIsMadeNotOnlyAtCreation() async throws {
        let harness = try await Harness.makeForWebhooks(allowPrivate: false)
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                // As if the name had resolved to a public address at creation and to loopback now.
                let endpoint = WebhookEndpoint(
                    id: "we_rebound0000000000000", tenantID: "test-tenant", url: "http://127.0.0.1:\(port)/hook",
                    events: [.keyCreated], description: nil, secret: "whsec_x", createdAt: harness.clock.now())
                try await harness.coordinator.store.insertWebhookEndpoint(endpoint)
                await harness.coordinator.webhooks.refreshSubscriptions()
                _ = try await client.createKey(using: Harness.masterKey)
                try await waitUntil { (try? await harness.deliveries(endpoint.id, client: client).first?.attempts) == 1 }
                let refused = try #require(try await harness.deliveries(endpoint.id, client: client).first)
                #expect(refused.lastError?.contains("internal address") == true)
                #expect(refused.status == "pending")
                #expect(receiver.received.isEmpty)
            }
        }
    }

    @Test func anotherTenantsWebhookIsNotFoundOnEveryRoute() async throws {
        let harness = try await Harness.makeForWebhooks()
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            try await harness.test { client in
                let mine = try await client.createWebhook(url: "http://127.0.0.1:\(port)/hook", events: ["api_key.created"])
                _ = try await client.createKey(using: Harness.masterKey)
                try await waitUntil { receiver.received.count == 1 }
                let delivery = try #require(try await harness.deliveries(mine.webhookID, client: client).first)
                let other = try await client.createTenant("t-other")
                let otherKey = try #require(other.masterKey?.apiKey)
                let id = mine.webhookID
                let routes: [(HTTPRequest.Method, String, String?)] = [
                    (.get, "/v1/webhooks/\(id)", nil), (.patch, "/v1/webhooks/\(id)", #"{"enabled": false}"#),
                    (.delete, "/v1/webhooks/\(id)", nil), (.post, "/v1/webhooks/\(id)/rotate-secret", nil),
                    (.post, "/v1/webhooks/\(id)/test", nil), (.get, "/v1/webhooks/\(id)/deliveries", nil),
                    (.post, "/v1/webhooks/\(id)/deliveries/\(delivery.deliveryID)/redeliver", nil),
                ]
                for (method, path, body) in routes {
                    let reply = try await client.send(method, path, key: otherKey, json: body)
                    #expect(reply.status == .notFound, "\(method) \(path): \(reply.status)")
                }
                #expect(try await client.send(.get, "/v1/webhooks", key: otherKey).json["items"] == [])
                // Still there, unchanged, and nothing more was sent.
                let still = try await client.send(.get, "/v1/webhooks/\(id)", key: Harness.masterKey)
                #expect(still.json["enabled"] == true)
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.received.count == 1)
                // Another tenant's changes never reach this endpoint.
                _ = try await client.createKey(using: otherKey)
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.received.count == 1)
            }
        }
    }

    @Test func aKeyWithoutWebhooksWriteIsRefusedAndOneWithoutWebhooksReadSeesNothing() async throws {
        try await Harness.makeForWebhooks().test { client in
            let reader = try await client.createKey(using: Harness.masterKey, role: "master", extra: #", "scopes": ["webhooks:read"]"#)
            let readerKey = try reader.secret()
            let create = try await client.send(
                .post, "/v1/webhooks", key: readerKey, json: #"{"url": "http://127.0.0.1:9/", "events": ["job.failed"]}"#)
            #expect(create.status == .forbidden)
            #expect(create.errorCode == "INSUFFICIENT_SCOPE")
            #expect(try await client.send(.get, "/v1/webhooks", key: readerKey).status == .ok)
            let endpoint = try await client.createWebhook(url: "http://127.0.0.1:9/", events: ["job.failed"])
            for (method, path) in [
                (HTTPRequest.Method.delete, "/v1/webhooks/\(endpoint.webhookID)"),
                (.post, "/v1/webhooks/\(endpoint.webhookID)/rotate-secret"), (.post, "/v1/webhooks/\(endpoint.webhookID)/test"),
            ] {
                #expect(try await client.send(method, path, key: readerKey).status == .forbidden, "\(method) \(path)")
            }
            let keysOnly = try await client.createKey(using: Harness.masterKey, role: "master", extra: #", "scopes": ["keys:read"]"#)
            #expect(try await client.send(.get, "/v1/webhooks", key: try keysOnly.secret()).status == .forbidden)
            #expect(try await client.send(.get, "/v1/webhooks", key: Harness.clientKey).status == .forbidden)
            #expect(try await client.send(.get, "/v1/webhooks", key: Harness.minerKey).status == .forbidden)
            #expect(try await client.send(.get, "/v1/webhooks").status == .unauthorized)

            // A secret superseded by a regeneration may read the endpoints but not point them elsewhere.
            let master = try await client.createKey(using: Harness.masterKey, role: "master")
            let old = try master.secret()
            let regenerated = try await client.send(
                .post, "/v1/api-keys/\(master.keyID)/regenerate", key: Harness.masterKey, json: #"{"grace_period_seconds": 600}"#)
            #expect(regenerated.status == .ok)
            #expect(try await client.send(.get, "/v1/webhooks", key: old).status == .ok)
            let viaOld = try await client.send(
                .patch, "/v1/webhooks/\(endpoint.webhookID)", key: old, json: #"{"url": "http://127.0.0.1:10/"}"#)
            #expect(viaOld.status == .forbidden)
            #expect(viaOld.json["error"]?["details"]?["superseded_secret"] == true)
        }
    }
}
