import AITBCDomain
import PostgresNIO

extension PostgresStore {
    public func usageReport(_ query: UsageReportQuery) async throws -> [UsageReportRow] {
        let ids = [query.tenantID, query.after?.tenantID, query.after?.keyID].compactMap { $0 }
        guard ids.allSatisfy(Self.isStorable) else { return [] }
        let sql = UsageReportSQL(query, placeholder: { "$\($0)" })
        var binds = PostgresBindings()
        for value in sql.binds {
            switch value {
            case .integer(let integer): binds.append(Int(integer))
            case .text(let text): binds.append(text)
            }
        }
        // SUM of BIGINT is NUMERIC in PostgreSQL: read back as BIGINT.
        let statement = PostgresQuery(
            unsafeSQL: """
                SELECT bucket::bigint AS bucket, tenant_id, key_id, admitted::bigint AS admitted,
                rate_limited::bigint AS rate_limited, errors::bigint AS errors FROM (\(sql.text)) AS report
                ORDER BY bucket, tenant_id, key_id
                """,
            binds: binds)
        let rows = try await read { session in try await session.rows(statement) }
        return try rows.map { row in
            let columns = PostgresRecord(row)
            let keyID: String? = try query.byKey ? columns("key_id", as: String.self) : nil
            return UsageReportRow(
                bucket: Int64(try columns("bucket", as: Int.self)), tenantID: try columns("tenant_id"), keyID: keyID,
                counts: UsageCounts(
                    admitted: try columns("admitted"), rateLimited: try columns("rate_limited"), errors: try columns("errors")))
        }
    }
}
