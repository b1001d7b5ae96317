import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The dashboard's webhooks pages: an account sees and changes only its tenant's endpoints, through
/// the API's rules; the signing secret is shown once; every action needs the form token; what the
/// tenant typed is escaped.
@Suite struct DashboardWebhookTests {
    static let hook = "http://127.0.0.1:9/hook"

    /// Signs `browser` up as `email`, creates an endpoint from the webhooks page and returns its id and secret.
    static func createEndpoint(
        _ browser: DashboardBrowser, url: String = hook, description: String = "billing"
    ) async throws -> (id: String, secret: String) {
        try await browser.get("/dashboard/webhooks")
        let created = try await browser.post(
            "/dashboard/webhooks", ["url": url, "events[]": "job.completed", "description": description])
        #expect(created.status == .created, "\(created.text)")
        let secret = try #require(browser.shownSecret)
        let id = try #require(DashboardBrowser.first(#"<code>(we_[A-Za-z0-9]+)</code>"#, in: created.text))
        return (id, secret)
    }

    @Test func anEndpointCreatedInTheDashboardIsTheAPIsAndItsSecretIsShownOnlyOnce() async throws {
        try await Harness.makeForWebhooks().test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("wanda@example.com")
            let master = try #require(browser.shownSecret)
            let nav = try await browser.get("/dashboard/api-keys")
            #expect(nav.text.contains(#"href="/dashboard/webhooks""#))

            let (id, secret) = try await Self.createEndpoint(browser)
            #expect(secret.hasPrefix("whsec_"))
            let viaAPI = try await client.send(.get, "/v1/webhooks/\(id)", key: master)
            #expect(viaAPI.status == .ok)
            #expect(viaAPI.json["url"]?.stringValue == Self.hook)
            #expect(viaAPI.json["events"] == ["job.completed"])
            #expect(viaAPI.json["description"]?.stringValue == "billing")

            let list = try await browser.get("/dashboard/webhooks")
            #expect(list.status == .ok)
            #expect(list.text.contains(#"data-webhook-id="\#(id)" data-state="enabled""#))
            #expect(list.text.contains(Self.hook) && list.text.contains("billing"))
            let page = try await browser.get("/dashboard/webhooks/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("<code>job.completed</code>"))
            for shown in [list, page] { #expect(!shown.text.contains(secret)) }

            // A disabled endpoint says so.
            _ = try await client.send(.patch, "/v1/webhooks/\(id)", key: master, json: #"{"enabled": false}"#)
            #expect(try await browser.get("/dashboard/webhooks").text.contains(#"data-state="disabled""#))
        }
    }

    @Test func aRefusedEndpointIsExplainedBesideItsFieldAndNothingIsCreated() async throws {
        try await Harness.makeForWebhooks(allowPrivate: false).test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("xena@example.com")
            let master = try #require(browser.shownSecret)
            try await browser.get("/dashboard/webhooks")
            var reply = try await browser.post("/dashboard/webhooks", ["url": Self.hook, "events[]": "job.completed"])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="url-error""#) && reply.text.contains("internal address"))
            reply = try await browser.post("/dashboard/webhooks", ["url": "https://example.com/hook"])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="events-error""#))
            #expect(browser.shownSecret == nil)
            let listed = try await client.send(.get, "/v1/webhooks", key: master)
            #expect(listed.json["items"] == [])
        }
    }

    @Test func anotherTenantsEndpointIsNotFoundOnEveryPageAndAction() async throws {
        try await Harness.makeForWebhooks().test { client in
            let owner = DashboardBrowser(client)
            try await owner.signUp("yuri@example.com")
            let ownerMaster = try #require(owner.shownSecret)
            let (id, _) = try await Self.createEndpoint(owner, description: "owner's private hook")
            try await owner.post("/dashboard/webhooks/\(id)/test")
            let deliveryID = try #require(
                try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: ownerMaster)
                    .json["items"]?.arrayValue?.first?["delivery_id"]?.stringValue)

            let other = DashboardBrowser(client, address: "203.0.113.20")
            try await other.signUp("zed@example.com")
            let list = try await other.get("/dashboard/webhooks")
            #expect(!list.text.contains(id) && !list.text.contains("owner&#39;s private hook"))
            let page = try await other.get("/dashboard/webhooks/\(id)")
            #expect(page.status == .notFound)
            #expect(!page.text.contains(Self.hook) && !page.text.contains("private hook"))
            for action in ["delete", "test", "deliveries/\(deliveryID)/redeliver"] {
                let reply = try await other.post("/dashboard/webhooks/\(id)/\(action)")
                #expect(reply.status == .notFound, "\(action)")
            }
            // A delivery id of another endpoint, under one's own endpoint, is not found either.
            let (ownID, _) = try await Self.createEndpoint(other)
            try await other.get("/dashboard/webhooks/\(ownID)")
            let crossed = try await other.post("/dashboard/webhooks/\(ownID)/deliveries/\(deliveryID)/redeliver")
            #expect(crossed.status == .notFound)

            let still = try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: ownerMaster)
            #expect(still.json["items"]?.arrayValue?.count == 1)
            #expect(try await client.send(.get, "/v1/webhooks/\(id)", key: ownerMaster).status == .ok)
        }
    }

    @Test func testRedeliverAndDeleteWorkFromTheDashboardAndTheDeliveriesAreListed() async throws {
        let harness = try await Harness.makeForWebhooks()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("ada@example.com")
            let master = try #require(browser.shownSecret)
            let (id, _) = try await Self.createEndpoint(browser)
            try await browser.get("/dashboard/webhooks/\(id)")

            let tested = try await browser.post("/dashboard/webhooks/\(id)/test")
            #expect(tested.status == .seeOther)
            let location = try #require(tested.header("Location"))
            #expect(location.hasPrefix("/dashboard/webhooks/\(id)?tested=evt_"))
            let page = try await browser.get(location)
            #expect(page.text.contains(#"id="notice""#) && page.text.contains("A test event is queued."))
            #expect(page.text.contains("<code>webhook.test</code>"))
            let deliveries = try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: master)
            let deliveryID = try #require(deliveries.json["items"]?.arrayValue?.first?["delivery_id"]?.stringValue)
            #expect(page.text.contains(#"data-delivery-id="\#(deliveryID)""#))
            // A crafted link does not make the page claim anything.
            let crafted = try await browser.get("/dashboard/webhooks/\(id)?tested=evt_made_up&redelivered=wd_made_up")
            #expect(!crafted.text.contains(#"id="notice""#))

            // Once the first attempt has failed (nothing listens on port 9), redeliver makes it due again.
            // Read from the store: polling the API would spend the free plan's 60 requests a minute.
            func attempts() async -> Int {
                (try? await harness.coordinator.store.webhookDelivery(id: deliveryID))?.attempts ?? 0
            }
            try await waitUntil { await attempts() >= 1 }
            let failed = try await browser.get("/dashboard/webhooks/\(id)")
            let shownAttempts = DashboardBrowser.first(#"class="attempts">([0-9]+)<"#, in: failed.text).flatMap { Int($0) }
            #expect((shownAttempts ?? 0) >= 1)
            // The hand-moved clock never reaches the retry's time: only the redelivery makes a second attempt.
            let again = try await browser.post("/dashboard/webhooks/\(id)/deliveries/\(deliveryID)/redeliver")
            #expect(again.status == .seeOther)
            #expect(again.header("Location") == "/dashboard/webhooks/\(id)?redelivered=\(deliveryID)")
            try await waitUntil { await attempts() >= 2 }

            let deleted = try await browser.post("/dashboard/webhooks/\(id)/delete")
            #expect(deleted.status == .seeOther)
            #expect(deleted.header("Location") == "/dashboard/webhooks?deleted=1")
            #expect(try await client.send(.get, "/v1/webhooks/\(id)", key: master).status == .notFound)
            #expect(try await browser.get("/dashboard/webhooks/\(id)").status == .notFound)
        }
    }

    @Test func everyWebhookActionNeedsTheFormTokenAndChangesNothingWithout() async throws {
        try await Harness.makeForWebhooks().test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("bea@example.com")
            let master = try #require(browser.shownSecret)
            let (id, _) = try await Self.createEndpoint(browser)
            try await browser.get("/dashboard/webhooks/\(id)")
            try await browser.post("/dashboard/webhooks/\(id)/test")
            let deliveryID = try #require(
                try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: master)
                    .json["items"]?.arrayValue?.first?["delivery_id"]?.stringValue)

            var reply = try await browser.post(
                "/dashboard/webhooks", ["url": Self.hook, "events[]": "job.failed"], csrf: false)
            #expect(reply.status == .forbidden)
            try await browser.get("/dashboard/webhooks")
            reply = try await browser.post(
                "/dashboard/webhooks", ["url": Self.hook, "events[]": "job.failed"], headers: ["Sec-Fetch-Site": "cross-site"])
            #expect(reply.status == .forbidden)
            for action in ["test", "deliveries/\(deliveryID)/redeliver", "delete"] {
                #expect(try await browser.post("/dashboard/webhooks/\(id)/\(action)", csrf: false).status == .forbidden)
            }
            #expect(try await client.send(.get, "/v1/webhooks", key: master).json["items"]?.arrayValue?.count == 1)
            #expect(try await client.send(.get, "/v1/webhooks/\(id)/deliveries", key: master).json["items"]?.arrayValue?.count == 1)
            #expect(try await client.send(.get, "/v1/webhooks/\(id)", key: master).status == .ok)

            // Signed out, the pages send to sign-in.
            browser.forget("aitbc_session")
            #expect(try await browser.get("/dashboard/webhooks").header("Location") == "/dashboard/sign-in")
        }
    }

    @Test func htmlInADescriptionOrURLIsEscaped() async throws {
        try await Harness.makeForWebhooks().test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("cy@example.com")
            let url = "http://127.0.0.1:9/hook?a=1&b='x'"
            let (id, _) = try await Self.createEndpoint(
                browser, url: url, description: #"<script>alert("x")</script>"#)
            for path in ["/dashboard/webhooks", "/dashboard/webhooks/\(id)"] {
                let page = try await browser.get(path)
                #expect(!page.text.contains("<script>alert"))
                #expect(page.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
                #expect(page.text.contains("hook?a=1&amp;b=&#39;x&#39;"))
            }
            // A refused URL comes back in its field, escaped.
            try await browser.get("/dashboard/webhooks")
            let refused = try await browser.post(
                "/dashboard/webhooks", ["url": #"javascript:"><img src=x onerror=alert(1)>"#, "events[]": "job.failed"])
            #expect(refused.status == .badRequest)
            #expect(!refused.text.contains("<img src=x"))
            #expect(refused.text.contains(#"value="javascript:&quot;&gt;&lt;img src=x onerror=alert(1)&gt;""#))
        }
    }
}
