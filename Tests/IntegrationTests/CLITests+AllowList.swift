import AITBCTestSupport
import Foundation
import Testing

extension CLITests {
    @Test func apiKeysCreateAndUpdateSetAndClearTheAllowList() async throws {
        try await withServer { url in
            // The CLI reaches the coordinator from loopback (IPv4 or IPv6).
            let created = try Self.aitbc(
                ["api-keys", "create", "--name", "office", "--allow-ip", "127.0.0.1", "--allow-ip", "::1",
                 "--allow-ip", "203.0.113.0/24", "--json"], key: Self.master, url: url)
            #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
            #expect(created.object["allowed_ips"] as? [String] == ["127.0.0.1/32", "::1/128", "203.0.113.0/24"])
            let keyID = try #require(created.object["key_id"] as? String)
            let secret = try #require(created.object["api_key"] as? String)
            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)

            let narrowed = try Self.aitbc(
                ["api-keys", "update", keyID, "--allow-ip", "203.0.113.0/24"], key: Self.master, url: url)
            #expect(narrowed.status == 0, "\(narrowed.stderr)")
            #expect(narrowed.stdout.contains("203.0.113.0/24"))
            let refused = try Self.aitbc(["me"], key: secret, url: url)
            #expect(refused.status == 3)
            #expect(refused.stderr.contains("IP_NOT_ALLOWED"))

            let cleared = try Self.aitbc(["api-keys", "update", keyID, "--allow-any-ip", "--json"], key: Self.master, url: url)
            #expect(cleared.status == 0, "\(cleared.stderr)")
            #expect(cleared.object["allowed_ips"] is NSNull)
            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)

            let shown = try Self.aitbc(["api-keys", "get", keyID], key: Self.master, url: url)
            #expect(shown.stdout.contains("(any address)"))
            let invalid = try Self.aitbc(["api-keys", "update", keyID, "--allow-ip", "10.1.2.3/8"], key: Self.master, url: url)
            #expect(invalid.status == 6)
            #expect(invalid.stderr.contains("INVALID_REQUEST"))
            let nothing = try Self.aitbc(["api-keys", "update", keyID], key: Self.master, url: url)
            #expect(nothing.status == 64)
            let help = try Self.aitbc(["api-keys", "update", "--help"], key: nil, url: url)
            #expect(help.stdout.contains("--allow-ip") && help.stdout.contains("--allow-any-ip"))
        }
    }
}
