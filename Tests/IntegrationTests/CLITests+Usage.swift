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
