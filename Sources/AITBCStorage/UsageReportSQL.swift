import AITBCDomain

/// The one statement both backends run for a page of a usage report: the stored minutes and the
/// rolled-up hours of the range (from the cursor's bucket on), summed per bucket and tenant (and
/// key) by `GROUP BY`, in (bucket, tenant, key) order after the cursor, `LIMIT`ed. A rolled-up
/// minute is deleted in the transaction that adds it to its hour, so each count is in exactly one
/// of the two tables and the union counts it once.
struct UsageReportSQL {
    /// A value bound to a placeholder.
    enum Bind {
        case integer(Int64)
        case text(String)
    }

    private(set) var text = ""
    private(set) var binds: [Bind] = []

    /// The statement for `query`; `placeholder(n)` writes the n-th (1-based) placeholder.
    init(_ query: UsageReportQuery, placeholder: (Int) -> String) {
        func bind(_ value: Bind) -> String {
            binds.append(value)
            return placeholder(binds.count)
        }
        var tenantKeys = ""
        let keyColumn = query.byKey ? "u.key_id" : "''"
        var source: [String] = []
        for (table, column) in [("key_usage", "minute"), ("key_usage_hours", "hour")] {
            if let tenant = query.tenantID {
                tenantKeys = " AND key_id IN (SELECT id FROM api_keys WHERE tenant_id = \(bind(.text(tenant))))"
            }
            let size = bind(.integer(query.granularity.seconds))
            let from = bind(.integer(query.scanFrom)), to = bind(.integer(query.to))
            source.append(
                """
                SELECT key_id, \(column) - \(column) % \(size) AS bucket, admitted, rate_limited, errors FROM \(table)
                WHERE \(column) >= \(from) AND \(column) < \(to)\(tenantKeys)
                """)
        }
        var conditions: [String] = []
        if let tenant = query.tenantID { conditions.append("k.tenant_id = \(bind(.text(tenant)))") }
        if let after = query.after {
            let bucket = bind(.integer(after.bucket)), tenant = bind(.text(after.tenantID))
            if query.byKey {
                conditions.append("(u.bucket, k.tenant_id, u.key_id) > (\(bucket), \(tenant), \(bind(.text(after.keyID ?? ""))))")
            } else {
                conditions.append("(u.bucket, k.tenant_id) > (\(bucket), \(tenant))")
            }
        }
        let groups = query.byKey ? "u.bucket, k.tenant_id, u.key_id" : "u.bucket, k.tenant_id"
        text = """
            SELECT u.bucket AS bucket, k.tenant_id AS tenant_id, \(keyColumn) AS key_id,
            SUM(u.admitted) AS admitted, SUM(u.rate_limited) AS rate_limited, SUM(u.errors) AS errors
            FROM (\(source.joined(separator: "\nUNION ALL\n"))) AS u JOIN api_keys AS k ON k.id = u.key_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY \(groups) ORDER BY \(groups) LIMIT \(bind(.integer(Int64(max(0, query.limit)))))
            """
    }
}
