import Foundation
import Testing

extension CLITests {
    @Test func usageCommandPrintsTheReportAsTableJSONAndCSV() async throws {
        try await withServer { url in
            for _ in 0..<3 { #expect(try Self.aitbc(["jobs", "list", "--json"], key: Self.client, url: url).status == 0) }

            let json = try Self.aitbc(["usage", "--by-key", "--page-size", "1", "--json"], key: Self.master, url: url)
            #expect(json.status == 0, "\(json.stderr)")
            let rows = try #require(json.json as? [[String: Any]])
            let client = rows.filter { $0["key_id"] as? String == "key_dev_client" }
            #expect(client.compactMap { $0["admitted"] as? Int }.reduce(0, +) == 3)
            #expect(rows.allSatisfy { $0["tenant_id"] as? String == "test-tenant" })

            let table = try Self.aitbc(["usage", "--by-key"], key: Self.master, url: url)
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("START") && table.stdout.contains("key_dev_client"))

            let csv = try Self.aitbc(
                ["usage", "--granularity", "day", "--by-key", "--csv", "--page-size", "1"], key: Self.master, url: url)
            #expect(csv.status == 0)
            let lines = csv.stdout.components(separatedBy: "\r\n")
            #expect(lines.first == "start,end,tenant_id,key_id,admitted,rate_limited,errors")
            #expect(lines.filter { $0.hasPrefix("start,") }.count == 1)
            #expect(lines.contains { $0.contains(",test-tenant,key_dev_client,3,0,0") })

            let help = try Self.aitbc(["usage", "--help"], key: nil, url: url)
            #expect(help.status == 0 && help.stdout.contains("--by-key") && help.stdout.contains("--csv"))
            let bad = try Self.aitbc(["usage", "--from", "yesterday"], key: Self.master, url: url)
            #expect(bad.status == 64)
            let tooLong = try Self.aitbc(
                ["usage", "--from", "2020-01-01T00:00:00Z", "--to", "2021-06-01T00:00:00Z", "--granularity", "day"],
                key: Self.master, url: url)
            #expect(tooLong.status == 6 && tooLong.stderr.contains("INVALID_REQUEST"))
            let refused = try Self.aitbc(["usage"], key: Self.client, url: url)
            #expect(refused.status == 3 && refused.stderr.contains("INSUFFICIENT_SCOPE"))
        }
    }
}

extension CLITests {
    /// An operator's `aitbc usage --tenant-id` covers that tenant only, in JSON and in CSV (without a
    /// key column unless `--by-key`); a master naming another tenant is refused; a window with no
    /// traffic is empty in both forms.
    @Test func usageCommandScopesTheReportToOneTenantAndWindow() async throws {
        try await withServer { url in
            let tenant = try Self.aitbc(["tenants", "create", "--id", "acme", "--name", "Acme", "--json"], key: Self.operator, url: url)
            let acme = try #require((tenant.object["master_key"] as? [String: Any])?["api_key"] as? String)
            for _ in 0..<2 { #expect(try Self.aitbc(["me"], key: acme, url: url).status == 0) }
            #expect(try Self.aitbc(["jobs", "list"], key: Self.client, url: url).status == 0)

            let json = try Self.aitbc(["usage", "--tenant-id", "acme", "--json"], key: Self.operator, url: url)
            #expect(json.status == 0, "\(json.stderr)")
            let rows = try #require(json.json as? [[String: Any]])
            #expect(!rows.isEmpty && rows.allSatisfy { $0["tenant_id"] as? String == "acme" && $0["key_id"] == nil })
            #expect(rows.compactMap { $0["admitted"] as? Int }.reduce(0, +) == 2)
            let everyone = try #require(try Self.aitbc(["usage", "--json"], key: Self.operator, url: url).json as? [[String: Any]])
            #expect(Set(everyone.compactMap { $0["tenant_id"] as? String }) == ["acme", "test-tenant"])

            let csv = try Self.aitbc(["usage", "--tenant-id", "acme", "--csv"], key: Self.operator, url: url)
            let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "start,end,tenant_id,admitted,rate_limited,errors")
            #expect(lines.count == rows.count + 1)
            #expect(lines.dropFirst().allSatisfy { $0.contains(",acme,") })

            let foreign = try Self.aitbc(["usage", "--tenant-id", "test-tenant"], key: acme, url: url)
            #expect(foreign.status == 3 && foreign.stderr.contains("TENANT_MISMATCH"), "\(foreign.stderr)")
            let own = try #require(try Self.aitbc(["usage", "--json"], key: acme, url: url).json as? [[String: Any]])
            #expect(own.allSatisfy { $0["tenant_id"] as? String == "acme" })

            let window = ["--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z"]
            let past = try Self.aitbc(["usage"] + window + ["--json"], key: Self.operator, url: url)
            #expect(past.status == 0 && (past.json as? [Any])?.isEmpty == true, "\(past.stdout)")
            let pastCSV = try Self.aitbc(["usage", "--by-key", "--csv"] + window, key: Self.operator, url: url)
            #expect(pastCSV.stdout == "start,end,tenant_id,key_id,admitted,rate_limited,errors\r\n")
        }
    }
}
