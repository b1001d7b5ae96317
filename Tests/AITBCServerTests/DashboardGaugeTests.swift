import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The dashboard's quota and credit gauges show the API's own counters: after some requests, the
/// same numbers the API's headers and key views give, on either backend.
@Suite struct DashboardGaugeTests {
    static func number(_ pattern: String, in text: String) -> Int? {
        DashboardBrowser.first(pattern, in: text).flatMap { Int($0) }
    }

    @Test func theTenantsDayAndMonthQuotaShowTheRequestsItsKeysMade() async throws {
        let harness = try await Harness.make {
            $0.plans = PlanTable(parsing: "free=60/day:50/month:1000,pro=600,enterprise=6000")!
            // On PostgreSQL every flush hands unspent slices back, and units on their way back show
            // as used for that moment: no flush while the pages are compared.
            $0.usageFlushIntervalSeconds = 3600
        }
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("gus@example.com")
            let master = try #require(browser.shownSecret)
            let before = try await browser.get("/dashboard/api-keys")
            #expect(before.text.contains(#"id="quota-day" data-used="0" data-limit="50""#))

            var last: Reply?
            for _ in 1...7 { last = try await client.send(.get, "/v1/api-keys", key: master) }
            #expect(last?.header("X-Quota-Remaining") == "43")
            // Dashboard pages themselves are not API requests: viewing them twice changes nothing.
            for path in ["/dashboard/api-keys", "/dashboard/usage", "/dashboard/api-keys"] {
                let page = try await browser.get(path)
                #expect(page.text.contains(#"id="quota-day" data-used="7" data-limit="50""#), "\(path)")
                #expect(page.text.contains(#"id="quota-month" data-used="7" data-limit="1000""#), "\(path)")
                #expect(page.text.contains("43 left"))
                let dayEnd = Date(timeIntervalSince1970: TimeInterval(QuotaPeriod.day.end(containing: harness.clock.now())))
                #expect(page.text.contains(#"<time datetime="\#(RFC3339.string(from: dayEnd))">"#))
            }
        }
    }

    @Test func aTenantWithoutAQuotaSeesNoQuotaGauge() async throws {
        try await Harness.make().test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("hal@example.com")
            for path in ["/dashboard/api-keys", "/dashboard/usage"] {
                #expect(try await browser.get(path).text.contains(#"id="quota""#) == false)
            }
        }
    }

    @Test func aKeysPageShowsItsCreditsAndRefillAsTheAPIDoes() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("ida@example.com")
            let master = try #require(browser.shownSecret)
            let metered = try await client.createKey(
                using: master, name: "metered",
                extra: #", "credits": {"remaining": 10, "refill": {"amount": 20, "interval": "monthly"}}"#)
            let fixed = try await client.createKey(using: master, name: "fixed", extra: #", "credits": {"remaining": 4}"#)
            let plain = try await client.createKey(using: master, name: "plain")
            for _ in 1...3 { #expect(try await client.send(.get, "/v1/me", key: try #require(metered.apiKey)).status == .ok) }
            #expect(try await client.send(.get, "/v1/me", key: try #require(fixed.apiKey)).status == .ok)

            let viaAPI = try await client.send(.get, "/v1/api-keys/\(metered.keyID)", key: master).decode(APIKeyView.self)
            #expect(viaAPI.credits?.remaining == 7)
            let page = try await browser.get("/dashboard/api-keys/\(metered.keyID)")
            #expect(Self.number(#"id="credits-remaining">([0-9]+)<"#, in: page.text) == 7)
            #expect(page.text.contains("Refills to <strong>20</strong> monthly"))
            let next = try #require(viaAPI.credits?.nextRefillAt)
            #expect(page.text.contains(#"next at <time datetime="\#(RFC3339.string(from: next))">"#))

            let fixedPage = try await browser.get("/dashboard/api-keys/\(fixed.keyID)")
            #expect(Self.number(#"id="credits-remaining">([0-9]+)<"#, in: fixedPage.text) == 3)
            #expect(fixedPage.text.contains("No refill"))
            #expect(try await browser.get("/dashboard/api-keys/\(plain.keyID)").text.contains(#"id="credits""#) == false)
        }
    }
}
