import AITBC
import ArgumentParser
import Foundation

/// `aitbc usage`: a tenant's usage report per hour or day, as a table, JSON or CSV.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Usage report per hour or day (master key: its tenant; operator: every tenant, or --tenant-id).",
        discussion: """
            Counts admitted, rate-limited and failed requests per UTC hour or day, one row per tenant per
            bucket (per key with --by-key); buckets without traffic are left out. --from and --to are
            RFC 3339 times (from inclusive, to exclusive), widened to whole buckets; by default the last
            24 hours (by hour) or 30 days (by day). A range spans at most 31 days by hour, 366 by day.
            Every page is fetched. --csv writes the server's CSV (one header line) to standard output.

            Example:
              aitbc usage --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --granularity day --by-key --csv > usage.csv
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Start, inclusive (RFC 3339, e.g. 2026-11-01T00:00:00Z).") var from: String?
    @Option(help: "End, exclusive (RFC 3339).") var to: String?
    @Option(help: "hour or day (default hour).") var granularity: String?
    @Flag(name: .customLong("by-key"), help: "One row per key per bucket.") var byKey = false
    @Option(name: .customLong("tenant-id"), help: "Operators: only this tenant.") var tenantID: String?
    @Option(name: .customLong("page-size"), help: "Rows per request (1 … 1000).") var pageSize: Int?
    @Flag(help: "Write CSV as the server sends it.") var csv = false

    func run() async throws {
        try await perform {
            let parameters = AITBCClient.Usage.Parameters(
                from: try Self.date(from, name: "--from"), to: try Self.date(to, name: "--to"), granularity: granularity,
                byKey: byKey, tenantID: tenantID, pageSize: pageSize)
            let usage = try global.client().usage
            if csv { return print(try await usage.csv(parameters), terminator: "") }
            let rows = try await usage.report(parameters)
            if global.json { return Output.json(rows) }
            let headers = ["start", "tenant"] + (byKey ? ["key"] : []) + ["admitted", "rate_limited", "errors"]
            Output.table(
                headers,
                rows.map { row in
                    [Output.date(row.start), row.tenantID] + (byKey ? [row.keyID ?? "-"] : [])
                        + [String(row.admitted), String(row.rateLimited), String(row.errors)]
                })
        }
    }

    static func date(_ text: String?, name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = RFC3339.date(from: text) else {
            throw ValidationFailure(message: "\(name) \(text) is not an RFC 3339 time such as 2026-11-01T00:00:00Z")
        }
        return date
    }
}
