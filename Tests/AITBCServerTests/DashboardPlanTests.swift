import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The dashboard obeys the plan: its actions spend the tenant's rate budget as API calls do, it refuses
/// over it, and its usage page costs the same few storage reads whatever the number of keys.
@Suite struct DashboardPlanTests {
    static func remaining(_ reply: Reply) -> Int? { reply.header("X-RateLimit-Remaining").flatMap { Int($0) } }

    @Test func dashboardActionsSpendTheTenantsBudgetAndAreRefusedOverIt() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client, address: "192.0.2.30")
            try await browser.signUp("rae@example.com")
            let master = try #require(browser.shownSecret)
            let tenantID = try #require(try await client.send(.get, "/v1/me", key: master).json["tenant_id"]?.stringValue)
            let before = try #require(Self.remaining(try await client.send(.get, "/v1/me", key: master)))

            // Six dashboard actions and one API call: the API sees all seven.
            try await browser.get("/dashboard/api-keys")
            try await browser.post("/dashboard/api-keys", ["name": "spare", "role": "client", "expires_in_days": "0"])
            let spare = try #require(browser.shownKeyID)
            try await browser.get("/dashboard/api-keys/\(spare)")
            try await browser.get("/dashboard/api-keys/\(spare)/revoke")
            try await browser.get("/dashboard/usage")
            try await browser.get("/dashboard/api-keys")
            let after = try #require(Self.remaining(try await client.send(.get, "/v1/me", key: master)))
            #expect(after == before - 7)

            // Spend the rest through the API (the free plan: 60 a minute, the clock stands still).
            var spent = 0
            while try await client.send(.get, "/v1/me", key: master).status == .ok { spent += 1 }
            #expect(spent == after)
            let keysBefore = try await Self.keys(of: tenantID, in: harness)

            // Every charged page and action is refused, and nothing is done.
            for path in ["/dashboard/api-keys", "/dashboard/usage", "/dashboard/api-keys/\(spare)", "/dashboard/api-keys/\(spare)/revoke"] {
                let page = try await browser.get(path)
                #expect(page.status == .tooManyRequests, "\(path)")
                #expect(Int(page.header("Retry-After") ?? "") ?? 0 >= 1, "\(path)")
                #expect(page.header("X-RateLimit-Limit") == "60" && page.header("X-RateLimit-Remaining") == "0", "\(path)")
                #expect(page.text.contains("Over your plan&#39;s rate limit") || page.text.contains("Over your plan's rate limit"))
                #expect(page.text.contains("Nothing was done"))
            }
            var reply = try await browser.post("/dashboard/api-keys", ["name": "one more", "role": "client", "expires_in_days": "0"])
            #expect(reply.status == .tooManyRequests)
            reply = try await browser.post("/dashboard/api-keys/\(spare)/revoke")
            #expect(reply.status == .tooManyRequests)
            reply = try await browser.post("/dashboard/api-keys/\(spare)/regenerate", ["grace_period_seconds": "0"])
            #expect(reply.status == .tooManyRequests)
            #expect(try await Self.keys(of: tenantID, in: harness) == keysBefore)

            // Another tenant's dashboard is not affected.
            let other = DashboardBrowser(client, address: "192.0.2.31")
            try await other.signUp("sid@example.com")
            #expect(try await other.get("/dashboard/api-keys").status == .ok)
            #expect(try await other.get("/dashboard/usage").status == .ok)

            // A second later the budget admits one request again.
            harness.clock.advance(by: 1)
            reply = try await browser.post("/dashboard/api-keys/\(spare)/revoke")
            #expect(reply.status == .seeOther)
            #expect(try await harness.coordinator.store.key(id: spare)?.revokedAt != nil)
            #expect(try await browser.get("/dashboard/api-keys").status == .tooManyRequests)
        }
    }

    /// The tenant's stored keys without their last use, which the usage flusher writes on its own time.
    static func keys(of tenantID: String, in harness: Harness) async throws -> [APIKeyRecord] {
        try await harness.coordinator.store.keys(tenantID: tenantID, after: nil, limit: 100).map { key in
            var key = key
            key.lastUsedAt = nil
            key.lastUsedFrom = nil
            return key
        }
    }

    @Test func theUsagePageReadsStorageOnceHoweverManyKeysTheTenantHas() async throws {
        let harness = try await Harness.make()
        let counting = CountingStore(harness.coordinator.store)
        let coordinator = Coordinator(store: counting, settings: harness.settings, time: harness.clock)
        try await buildApplication(coordinator: coordinator, settings: harness.settings).test(.router) { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("tao@example.com")
            let master = try #require(browser.shownSecret)

            var secrets: [String] = []
            // Adds `count` keys, then uses every key once; each step in a fresh minute (free plan: 60 a minute).
            func addKeys(_ count: Int) async throws {
                for index in 0..<count {
                    let created = try await client.createKey(using: master, name: "worker \(secrets.count + index)")
                    secrets.append(try created.secret())
                }
                harness.clock.advance(by: 60)
                for secret in secrets { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
                await coordinator.flusher.flush()
                harness.clock.advance(by: 60)
            }
            func usagePageReads() async throws -> (reads: Int, page: Reply) {
                let before = counting.keyAndUsageReads
                let page = try await browser.get("/dashboard/usage")
                return (counting.keyAndUsageReads - before, page)
            }

            try await addKeys(2)
            let few = try await usagePageReads()
            #expect(few.page.status == .ok)
            try await addKeys(30)
            let many = try await usagePageReads()
            #expect(many.page.status == .ok)
            #expect(few.reads == 1)
            #expect(many.reads == few.reads, "\(few.reads) reads for 3 keys, \(many.reads) for 33")

            // The one read still shows every key (the master and 32) and every admitted request: 32 creations
            // by the master, the first 2 keys used twice, the other 30 once.
            #expect(many.page.text.components(separatedBy: "<tr data-key-id=").count - 1 == 33)
            #expect(many.page.text.contains(#"<strong id="total-admitted">66</strong>"#))
        }
    }
}
