import AITBC
import Foundation
import Testing

/// `client.usage` over the wire: every page followed, JSON and CSV, and a client key refused.
@Suite struct SDKUsageTests {
    @Test func usageReportFollowsEveryPageAndCSVHasOneHeader() async throws {
        try await LiveServer.run { url, coordinator in
            let client = try AITBCClient(apiKey: LiveServer.client, baseURL: url)
            for _ in 0..<3 { _ = try await client.jobs.list() }
            // Requests answered a moment ago at a known time too: the report is exact about both.
            let yesterday = Date().addingTimeInterval(-86400)
            for _ in 0..<4 { coordinator.usage.record(keyID: "key_dev_miner", outcome: .error, at: yesterday, from: nil) }

            let master = try AITBCClient(apiKey: LiveServer.master, baseURL: url)
            let parameters = AITBCClient.Usage.Parameters(from: Date().addingTimeInterval(-2 * 86400), byKey: true, pageSize: 1)
            let rows = try await master.usage.report(parameters)
            #expect(rows.filter { $0.keyID == "key_dev_client" }.map(\.admitted).reduce(0, +) == 3)
            #expect(rows.filter { $0.keyID == "key_dev_miner" }.map(\.errors) == [4])
            let whole = try await master.usage.report(.init(from: parameters.from, byKey: true))
            // The master's own report requests add to its row between reads; every other row is the same.
            #expect(rows.filter { $0.keyID != "key_dev_master" } == whole.filter { $0.keyID != "key_dev_master" })
            #expect(rows.count == whole.count)

            let csv = try await master.usage.csv(parameters)
            let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "start,end,tenant_id,key_id,admitted,rate_limited,errors")
            #expect(lines.count == whole.count + 1)
            #expect(lines.contains { $0.hasSuffix(",test-tenant,key_dev_miner,0,0,4") })

            let page = try await master.usage.page(.init(granularity: "day"))
            #expect(page.granularity == "day" && page.to.timeIntervalSince(page.from) == 30 * 86400)
            await #expect(throws: PermissionError.self) { _ = try await client.usage.report() }
            await #expect(throws: ValidationError.self) { _ = try await master.usage.page(.init(granularity: "week")) }
        }
    }
}
