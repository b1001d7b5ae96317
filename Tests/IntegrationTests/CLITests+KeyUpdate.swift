import Foundation
import Testing

extension CLITests {
    /// `aitbc api-keys update` renames a key and gives it a limit of its own the server then holds it
    /// to; `--clear-rate-limit` hands it back to the tenant's plan.
    @Test func apiKeysUpdateRenamesAndSetsAndClearsTheKeysOwnLimit() async throws {
        try await withServer { url in
            let created = try Self.aitbc(["api-keys", "create", "--name", "before", "--json"], key: Self.master, url: url)
            let keyID = try #require(created.object["key_id"] as? String)
            let secret = try #require(created.object["api_key"] as? String)

            let renamed = try Self.aitbc(["api-keys", "update", keyID, "--name", "after"], key: Self.master, url: url)
            #expect(renamed.status == 0, "\(renamed.stderr)")
            #expect(renamed.stdout.contains("after"))
            let stored = try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url)
            #expect(stored.object["name"] as? String == "after")
            #expect(stored.object["rate_limit_per_minute"] is NSNull)

            let limited = try Self.aitbc(["api-keys", "update", keyID, "--rate-limit", "2", "--json"], key: Self.master, url: url)
            #expect(limited.status == 0, "\(limited.stderr)")
            #expect(limited.object["rate_limit_per_minute"] as? Int == 2)
            #expect(limited.object["name"] as? String == "after")
            let me = try Self.aitbc(["me", "--json"], key: secret, url: url)
            #expect((me.object["rate_limit"] as? [String: Any])?["limit"] as? Int == 2)
            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)
            let refused = try Self.aitbc(["me", "--retries", "0"], key: secret, url: url)
            #expect(refused.status == 4 && refused.stderr.hasPrefix("error: RATE_LIMIT_EXCEEDED: "), "\(refused.stderr)")

            let cleared = try Self.aitbc(["api-keys", "update", keyID, "--clear-rate-limit", "--json"], key: Self.master, url: url)
            #expect(cleared.status == 0, "\(cleared.stderr)")
            #expect(cleared.object["rate_limit_per_minute"] is NSNull)
            let plan = try Self.aitbc(["me", "--json", "--retries", "0"], key: secret, url: url)
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect((plan.object["rate_limit"] as? [String: Any])?["limit"] as? Int == 6000)

            let both = try Self.aitbc(["api-keys", "update", keyID, "--rate-limit", "5", "--clear-rate-limit"], key: Self.master, url: url)
            #expect(both.status == 64)
            let bothIPs = try Self.aitbc(
                ["api-keys", "update", keyID, "--allow-ip", "127.0.0.1", "--allow-any-ip"], key: Self.master, url: url)
            #expect(bothIPs.status == 64)
            let invalid = try Self.aitbc(["api-keys", "update", keyID, "--rate-limit", "0"], key: Self.master, url: url)
            #expect(invalid.status == 6 && invalid.stderr.contains("INVALID_REQUEST"), "\(invalid.stderr)")
            let byClient = try Self.aitbc(["api-keys", "update", keyID, "--name", "hijacked"], key: Self.client, url: url)
            #expect(byClient.status == 3)
            let tenant = try Self.aitbc(["tenants", "create", "--id", "acme", "--name", "Acme", "--json"], key: Self.operator, url: url)
            let acme = try #require((tenant.object["master_key"] as? [String: Any])?["api_key"] as? String)
            let foreign = try Self.aitbc(["api-keys", "update", keyID, "--name", "hijacked"], key: acme, url: url)
            #expect(foreign.status == 5 && foreign.stderr.contains("KEY_NOT_FOUND"))
            let unchanged = try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url)
            #expect(unchanged.object["name"] as? String == "after")
            #expect(unchanged.object["rate_limit_per_minute"] is NSNull)
        }
    }
}
