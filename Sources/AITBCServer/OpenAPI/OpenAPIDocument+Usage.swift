import AITBCWire

/// `GET /v1/usage`: usage reports per hour or day, as JSON or CSV.
extension OpenAPIDocument {
    static let usagePaths: JSONValue = [
        "/v1/usage": ["get": usageReportOperation]
    ]

    static let usageSchemas: JSONValue = [
        "UsageReportRow": object(
            ["start": dateTime, "end": dateTime, "tenant_id": string, "key_id": string, "admitted": integer,
             "rate_limited": integer, "errors": integer],
            required: ["start", "end", "tenant_id", "admitted", "rate_limited", "errors"]),
        "UsageReport": object(
            ["items": ["type": "array", "items": ref("UsageReportRow")], "next_cursor": nullable("string"),
             "has_more": boolean, "from": dateTime, "to": dateTime, "granularity": ["type": "string", "enum": ["hour", "day"]]],
            required: ["items", "next_cursor", "has_more", "from", "to", "granularity"]),
    ]

    static let usageReportDescription = """
        Request counts per UTC hour or day (admitted, rate limited, errors), one row per tenant per \
        bucket, or per key per bucket with group_by=key, in (start, tenant_id, key_id) order. Needs \
        usage:read: a master key sees its own tenant (naming another, by tenant_id or X-Tenant-ID, is \
        403 TENANT_MISMATCH); an operator sees every tenant, or the one tenant_id or X-Tenant-ID names. \
        Buckets without traffic are left out. from is widened down and to up to whole buckets; the \
        answer's from and to say what was covered. Minutes and the hours they were rolled into are \
        each counted once. This instance's unwritten counters are written before the read; other \
        instances' arrive within their flush interval (AITBC_USAGE_FLUSH_SECONDS, default 2 s). With \
        Accept: text/csv the same rows come as CSV (RFC 4180, a header line; key_id is a column only \
        with group_by=key) and the next page is named by X-Next-Cursor and Link: <…>; rel="next". \
        Errors are JSON either way.
        """

    static let usageReportOperation: JSONValue = {
        guard case .object(var operation) = operation(
            "Usage report per hour or day, per tenant or per key", tag: "usage", response: ref("UsageReport"),
            parameters: [
                query("from", dateTime, "start, inclusive (RFC 3339; default: to minus 24 hours, or 30 days by day)"),
                query("to", dateTime, "end, exclusive (RFC 3339; default: the end of the current bucket)"),
                query("granularity", ["type": "string", "enum": ["hour", "day"]], "bucket width (default hour); a range spans at most 31 days by hour, 366 by day"),
                query("group_by", ["type": "string", "enum": ["key", "tenant"]], "key: one row per key per bucket (default tenant)"),
                query("tenant_id", string, "operator: only this tenant (as X-Tenant-ID); a master key may name only its own"),
                query("limit", ["type": "integer", "minimum": 1, "maximum": 1000], "rows per page (default 100)"),
                query("cursor", string, "next_cursor of the previous page (X-Next-Cursor in CSV)"),
                ["name": "Accept", "in": "header", "required": false, "schema": ["type": "string", "enum": ["application/json", "text/csv"]]],
            ]),
            case .object(var responses)? = operation["responses"], case .object(var success)? = responses["200"],
            case .object(var content)? = success["content"], case .object(var headers)? = success["headers"]
        else { return [:] }
        content["text/csv"] = ["schema": ["type": "string"]]
        headers["X-Next-Cursor"] = ["description": "CSV only: the cursor of the next page, absent on the last", "schema": string]
        headers["Link"] = ["description": "CSV only: <…/v1/usage?…&cursor=…>; rel=\"next\", absent on the last page", "schema": string]
        headers["Content-Disposition"] = ["description": "CSV only: attachment; filename=\"usage-….csv\"", "schema": string]
        success["content"] = .object(content)
        success["headers"] = .object(headers)
        responses["200"] = .object(success)
        operation["responses"] = .object(responses)
        operation["description"] = .string(usageReportDescription)
        return .object(operation)
    }()
}
