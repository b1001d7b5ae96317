import Foundation
import Testing

extension CLITests {
    /// `aitbc tenants set-plan --quota-per-day/--quota-per-month` sets a tenant's overrides, the
    /// server holds the tenant's keys to them, and `0` goes back to the plan's quota.
    @Test func tenantsSetPlanSetsAndClearsTheQuotaOverrides() async throws {
        let server = try await CoordinatorProcess.start(
            databasePath: CoordinatorProcess.temporaryDatabase(),
            environment: [
                "MASTER_API_KEY": Self.master, "OPERATOR_API_KEY": Self.operator,
                "AITBC_PLANS": "free=60,pro=600/month:1000,enterprise=6000",
            ])
        defer { server.terminate() }
        let url = server.baseURL
        let tenant = try Self.aitbc(
            ["tenants", "create", "--id", "acme", "--name", "Acme", "--plan", "pro", "--json"], key: Self.operator, url: url)
        #expect(tenant.status == 0, "\(tenant.stderr)")
        let acme = try #require((tenant.object["master_key"] as? [String: Any])?["api_key"] as? String)
        func stored() async throws -> [String: Any] {
            try await server.request(.GET, "/v1/tenants/acme", key: Self.operator).json
        }
        func quota(_ run: Run) -> [String: Any]? { run.object["quota"] as? [String: Any] }

        let daily = try Self.aitbc(["tenants", "set-plan", "acme", "--quota-per-day", "2", "--json"], key: Self.operator, url: url)
        #expect(daily.status == 0, "\(daily.stderr)")
        #expect(daily.object["quota_per_day"] as? Int == 2 && daily.object["custom_quota_per_day"] as? Int == 2)
        #expect(daily.object["plan"] as? String == "pro")
        // Exactly two requests of acme's keys a day, then QUOTA_EXCEEDED (not waited out).
        let first = try Self.aitbc(["me", "--json"], key: acme, url: url)
        #expect(quota(first)?["period"] as? String == "day" && quota(first)?["limit"] as? Int == 2, "\(first.stdout)")
        #expect(try Self.aitbc(["me"], key: acme, url: url).status == 0)
        let over = try Self.aitbc(["me"], key: acme, url: url)
        #expect(over.status == 4 && over.stderr.hasPrefix("error: QUOTA_EXCEEDED: "), "\(over.stderr)")
        // An operator acting in acme is held to its own tenant's quota, not acme's.
        let acting = try Self.aitbc(["api-keys", "list", "--tenant", "acme", "--json"], key: Self.operator, url: url)
        #expect(acting.status == 0 && (acting.json as? [Any])?.count == 1, "\(acting.stderr)")

        let monthly = try Self.aitbc(
            ["tenants", "set-plan", "acme", "--quota-per-day", "0", "--quota-per-month", "50"], key: Self.operator, url: url)
        #expect(monthly.status == 0, "\(monthly.stderr)")
        #expect(monthly.stdout.split(separator: "\n").contains { $0.hasPrefix("quota_per_month") && $0.hasSuffix(" 50") })
        #expect(monthly.stdout.split(separator: "\n").contains { $0.hasPrefix("quota_per_day") && $0.hasSuffix(" -") })
        var now = try await stored()
        #expect(now["quota_per_day"] is NSNull && now["custom_quota_per_month"] as? Int == 50)
        let again = try Self.aitbc(["me", "--json"], key: acme, url: url)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(quota(again)?["period"] as? String == "month" && quota(again)?["limit"] as? Int == 50)
        let human = try Self.aitbc(["me"], key: acme, url: url)
        #expect(human.stdout.split(separator: "\n").contains { $0.hasPrefix("quota") && $0.hasSuffix("/50 per month left") }, "\(human.stdout)")

        // Cleared, the plan's monthly quota applies again.
        let cleared = try Self.aitbc(["tenants", "set-plan", "acme", "--quota-per-month", "0", "--json"], key: Self.operator, url: url)
        #expect(cleared.object["quota_per_month"] as? Int == 1000 && cleared.object["custom_quota_per_month"] is NSNull)
        now = try await stored()
        #expect(now["quota_per_month"] as? Int == 1000 && now["custom_quota_per_month"] is NSNull)
        #expect(quota(try Self.aitbc(["me", "--json"], key: acme, url: url))?["limit"] as? Int == 1000)
        // The default plans carry no quota: on free nothing is left to show.
        #expect(try Self.aitbc(["tenants", "set-plan", "acme", "free"], key: Self.operator, url: url).status == 0)
        let free = try Self.aitbc(["me", "--json"], key: acme, url: url)
        #expect(free.status == 0 && quota(free) == nil, "\(free.stdout)")

        let byMaster = try Self.aitbc(["tenants", "set-plan", "acme", "--quota-per-day", "1"], key: Self.master, url: url)
        #expect(byMaster.status == 3)
        let byAcme = try Self.aitbc(["tenants", "set-plan", "acme", "--quota-per-day", "1"], key: acme, url: url)
        #expect(byAcme.status == 3)
        #expect(try await stored()["quota_per_day"] is NSNull)
        let negative = try Self.aitbc(["tenants", "set-plan", "acme", "--quota-per-day=-3"], key: Self.operator, url: url)
        #expect(negative.status == 6 && negative.stderr.contains("quota_per_day"), "\(negative.stderr)")
        let nothing = try Self.aitbc(["tenants", "set-plan", "acme"], key: Self.operator, url: url)
        #expect(nothing.status == 64)
        let unknown = try Self.aitbc(["tenants", "set-plan", "nope", "--quota-per-day", "5"], key: Self.operator, url: url)
        #expect(unknown.status == 5)
    }
}
