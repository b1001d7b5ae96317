import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The dashboard's "Download usage CSV": the signed-in tenant's report per key, and nobody else's.
@Suite struct DashboardUsageExportTests {
    @Test func usagePageLinksAPerKeyCSVOfTheSignedInTenantOnly() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("mo@example.com")
            try await browser.get("/dashboard/api-keys")
            try await browser.post("/dashboard/api-keys", ["name": "worker", "role": "client", "expires_in_days": "0"])
            let secret = try #require(browser.shownSecret)
            let keyID = try #require(browser.shownKeyID)
            for _ in 0..<4 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            // Another tenant's traffic in the same hour.
            for _ in 0..<2 { #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok) }

            let page = try await browser.get("/dashboard/usage")
            #expect(page.text.contains(#"href="/dashboard/usage.csv?granularity=day" id="download-usage-csv""#))
            let csv = try await browser.get("/dashboard/usage.csv?granularity=day")
            #expect(csv.status == .ok)
            #expect(csv.header("Content-Type") == "text/csv; charset=utf-8")
            #expect(csv.header("Content-Disposition")?.hasPrefix("attachment; filename=\"usage-") == true)
            let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "start,end,tenant_id,key_id,admitted,rate_limited,errors")
            #expect(lines.contains { $0.contains(",\(keyID),4,0,0") })
            #expect(!csv.text.contains("key_dev_client") && !csv.text.contains("test-tenant"))
            let hourly = try await browser.get("/dashboard/usage.csv?granularity=hour")
            #expect(hourly.text.contains(",\(keyID),4,0,0"))

            let stranger = DashboardBrowser(client, address: "192.0.2.77")
            #expect(try await stranger.get("/dashboard/usage.csv").status == .seeOther)
        }
    }
}
