import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The dashboard's allow-list field: a key created with one is the API's key with that list, the key
/// page shows it, and a bad entry is refused next to the field.
@Suite struct DashboardAllowListTests {
    @Test func aKeyCreatedWithAnAllowListInTheDashboardIsRestrictedAndShowsItsList() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("ivan@example.com")
            let master = try #require(browser.shownSecret)
            let form = try await browser.get("/dashboard/api-keys")
            #expect(form.text.contains(#"name="allowed_ips""#))

            var reply = try await browser.post(
                "/dashboard/api-keys",
                ["name": "office", "role": "client", "expires_in_days": "0", "allowed_ips": "203.0.113.0/24, 2001:DB8::/32"])
            #expect(reply.status == .created, "\(reply.text)")
            let secret = try #require(browser.shownSecret)
            let keyID = try #require(browser.shownKeyID)
            let viaAPI = try await client.send(.get, "/v1/api-keys/\(keyID)", key: master)
            #expect(viaAPI.json["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32"])
            #expect(try await client.send(.get, "/v1/me", key: secret, from: "203.0.113.5").status == .ok)
            #expect(try await client.send(.get, "/v1/me", key: secret, from: "192.0.2.1").errorCode == "IP_NOT_ALLOWED")

            let page = try await browser.get("/dashboard/api-keys/\(keyID)")
            #expect(page.text.contains("<code>203.0.113.0/24</code>") && page.text.contains("<code>2001:db8::/32</code>"))
            // A key without a list says so.
            let keys = try await client.send(.get, "/v1/api-keys", key: master)
            let open = try #require(keys.json["items"]?.arrayValue?.first { $0["key_id"]?.stringValue != keyID }?["key_id"]?.stringValue)
            #expect(try await browser.get("/dashboard/api-keys/\(open)").text.contains("Any address"))

            reply = try await browser.post(
                "/dashboard/api-keys", ["name": "typo", "role": "client", "expires_in_days": "0", "allowed_ips": "10.1.2.3/8"])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="allowed_ips-error""#) && reply.text.contains("10.0.0.0/8"))
            #expect(reply.text.contains(#"value="10.1.2.3/8""#))
        }
    }
}
