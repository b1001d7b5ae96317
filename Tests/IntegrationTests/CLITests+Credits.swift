import Foundation
import Testing

extension CLITests {
    /// The credits block of a key's or `me`'s JSON.
    static func credits(_ run: Run) -> [String: Any]? { run.object["credits"] as? [String: Any] }

    /// `aitbc api-keys top-up` sets the balance the server then spends, request by request, and
    /// changes or stops the refill; the key's own `me` shows it.
    @Test func apiKeysTopUpSetsTheBalanceTheServerSpends() async throws {
        try await withServer { url in
            let created = try Self.aitbc(
                ["api-keys", "create", "--name", "metered", "--credits", "1", "--json"], key: Self.master, url: url)
            #expect(created.status == 0, "\(created.stderr)")
            let keyID = try #require(created.object["key_id"] as? String)
            let secret = try #require(created.object["api_key"] as? String)
            #expect(Self.credits(created)?["remaining"] as? Int == 1)

            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)
            // Spent: refused at once (a spent balance is not waited out), with the server's code.
            let spent = try Self.aitbc(["me"], key: secret, url: url)
            #expect(spent.status == 4)
            #expect(spent.stderr.hasPrefix("error: CREDITS_EXHAUSTED: "), "\(spent.stderr)")

            let topped = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "2"], key: Self.master, url: url)
            #expect(topped.status == 0, "\(topped.stderr)")
            #expect(topped.stdout.contains("credits") && topped.stdout.contains("2 left, no refill"), "\(topped.stdout)")
            let stored = try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url)
            #expect(Self.credits(stored)?["remaining"] as? Int == 2)
            // Exactly the two credits given: two requests, then the third is refused.
            let me = try Self.aitbc(["me", "--json"], key: secret, url: url)
            #expect(me.status == 0)
            #expect(Self.credits(me)?["remaining"] as? Int == 1)
            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)
            #expect(try Self.aitbc(["me"], key: secret, url: url).stderr.contains("CREDITS_EXHAUSTED"))

            let refilled = try Self.aitbc(
                ["api-keys", "top-up", keyID, "--credits", "5", "--refill", "daily", "--json"], key: Self.master, url: url)
            #expect(refilled.status == 0, "\(refilled.stderr)")
            let refill = try #require(Self.credits(refilled)?["refill"] as? [String: Any])
            #expect(refill["amount"] as? Int == 5 && refill["interval"] as? String == "daily")
            #expect(Self.credits(refilled)?["next_refill_at"] is String)
            let human = try Self.aitbc(["me"], key: secret, url: url)
            #expect(human.stdout.contains("4 left, refills to 5 daily"), "\(human.stdout)")

            let stopped = try Self.aitbc(
                ["api-keys", "top-up", keyID, "--credits", "3", "--refill", "none", "--json"], key: Self.master, url: url)
            #expect(Self.credits(stopped)?["remaining"] as? Int == 3)
            #expect(Self.credits(stopped)?["refill"] is NSNull)
            let after = try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url)
            #expect(Self.credits(after)?["refill"] is NSNull && Self.credits(after)?["remaining"] as? Int == 3)

            let badRefill = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "3", "--refill", "weekly"], key: Self.master, url: url)
            #expect(badRefill.status == 64 && badRefill.stderr.contains("--refill"))
            let negative = try Self.aitbc(["api-keys", "top-up", keyID, "--credits=-1"], key: Self.master, url: url)
            #expect(negative.status == 6 && negative.stderr.contains("credits.remaining"), "\(negative.stderr)")
            let missing = try Self.aitbc(["api-keys", "top-up", keyID], key: Self.master, url: url)
            #expect(missing.status == 64)
            let gone = try Self.aitbc(["api-keys", "top-up", "key_nope", "--credits", "3"], key: Self.master, url: url)
            #expect(gone.status == 5 && gone.stderr.contains("KEY_NOT_FOUND"))
            #expect(Self.credits(try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url))?["remaining"] as? Int == 3)
        }
    }

    /// Who may not top a key up: a client key, another tenant's master, and a master that spends
    /// credits itself asking for more than it has; each is refused and the balance stays.
    @Test func apiKeysTopUpIsRefusedToCallersThatMayNotSetTheBalance() async throws {
        try await withServer { url in
            let created = try Self.aitbc(
                ["api-keys", "create", "--name", "metered", "--credits", "10", "--json"], key: Self.master, url: url)
            let keyID = try #require(created.object["key_id"] as? String)
            func remaining() throws -> Int? {
                Self.credits(try Self.aitbc(["api-keys", "get", keyID, "--json"], key: Self.master, url: url))?["remaining"] as? Int
            }

            let client = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "1000"], key: Self.client, url: url)
            #expect(client.status == 3 && client.stderr.contains("INSUFFICIENT_SCOPE"), "\(client.stderr)")

            let tenant = try Self.aitbc(["tenants", "create", "--id", "acme", "--name", "Acme", "--json"], key: Self.operator, url: url)
            let acme = try #require((tenant.object["master_key"] as? [String: Any])?["api_key"] as? String)
            let foreign = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "1000"], key: acme, url: url)
            #expect(foreign.status == 5 && foreign.stderr.contains("KEY_NOT_FOUND"), "\(foreign.stderr)")

            let meteredMaster = try Self.aitbc(
                ["api-keys", "create", "--name", "budgeted", "--role", "master", "--credits", "50", "--json"], key: Self.master, url: url)
            let budgeted = try #require(meteredMaster.object["api_key"] as? String)
            let beyond = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "1000"], key: budgeted, url: url)
            #expect(beyond.status == 3 && beyond.stderr.contains("INSUFFICIENT_SCOPE"), "\(beyond.stderr)")
            #expect(try remaining() == 10)

            // Within its own balance it may.
            let within = try Self.aitbc(["api-keys", "top-up", keyID, "--credits", "20", "--json"], key: budgeted, url: url)
            #expect(within.status == 0, "\(within.stderr)")
            #expect(try remaining() == 20)
        }
    }
}
