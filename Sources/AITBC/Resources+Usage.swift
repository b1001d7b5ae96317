import AITBCWire
import Foundation

extension AITBCClient {
    /// `client.usage`: usage reports per hour or day (master key: its tenant; operator: every tenant or one).
    public var usage: Usage { Usage(client: self) }

    /// Usage reports, `GET /v1/usage`.
    public struct Usage: Sendable {
        let client: AITBCClient

        /// What a report covers; nil fields take the server's defaults (the last 24 hours by hour,
        /// 30 days by day; the key's tenant, or every tenant for an operator).
        public struct Parameters: Sendable {
            public var from: Date?
            public var to: Date?
            /// `hour` or `day`.
            public var granularity: String?
            /// One row per key per bucket instead of one per tenant per bucket.
            public var byKey: Bool
            /// Operators: only this tenant.
            public var tenantID: String?
            /// Rows per page (the server allows 1 … 1000, default 100).
            public var pageSize: Int?

            public init(
                from: Date? = nil, to: Date? = nil, granularity: String? = nil, byKey: Bool = false,
                tenantID: String? = nil, pageSize: Int? = nil
            ) {
                self.from = from
                self.to = to
                self.granularity = granularity
                self.byKey = byKey
                self.tenantID = tenantID
                self.pageSize = pageSize
            }

            func query(cursor: String?) -> [String: String?] {
                [
                    "from": from.map(RFC3339.string(from:)), "to": to.map(RFC3339.string(from:)), "granularity": granularity,
                    "group_by": byKey ? "key" : nil, "tenant_id": tenantID, "limit": pageSize.map(String.init),
                    "cursor": cursor,
                ]
            }
        }

        /// One page of the report; pass its `nextCursor` back for the next.
        public func page(_ parameters: Parameters = .init(), cursor: String? = nil) async throws -> UsageReportPage {
            try await client.send(.GET, "/v1/usage", query: parameters.query(cursor: cursor)).decode(UsageReportPage.self)
        }

        /// Every row of the report, following the cursors to the last page.
        public func report(_ parameters: Parameters = .init()) async throws -> [UsageReportRowView] {
            var rows: [UsageReportRowView] = []
            var cursor: String?
            repeat {
                let page = try await page(parameters, cursor: cursor)
                rows += page.items
                cursor = page.nextCursor
            } while cursor != nil
            return rows
        }

        /// The whole report as the server writes it in CSV: one header line, then every page's rows.
        public func csv(_ parameters: Parameters = .init()) async throws -> String {
            var text = ""
            var cursor: String?
            repeat {
                let answer = try await client.send(
                    .GET, "/v1/usage", query: parameters.query(cursor: cursor), headers: ["Accept": "text/csv"])
                let page = String(decoding: answer.body, as: UTF8.self)
                // Each page starts with the header; after the first, only its rows are kept.
                text += text.isEmpty ? page : String(page[(page.range(of: "\r\n")?.upperBound ?? page.endIndex)...])
                cursor = answer.headers.first(name: "X-Next-Cursor")
            } while cursor != nil
            return text
        }
    }
}
