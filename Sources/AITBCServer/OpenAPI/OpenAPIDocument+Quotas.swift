import AITBCWire

extension OpenAPIDocument {
    /// Quotas and credits add no paths: they grow the bodies of keys, tenants and `/v1/me`.
    static let quotasPaths: JSONValue = [:]

    static let creditRefill: JSONValue = object(
        ["amount": ["type": "integer", "minimum": 1], "interval": ["type": "string", "enum": ["daily", "monthly"]]],
        required: ["amount", "interval"])
    static let creditsRequest: JSONValue = [
        "type": "object",
        "description": "remaining sets the balance (required on create); refill absent stays, null stops refilling",
        "properties": [
            "remaining": ["type": "integer", "minimum": 0],
            "refill": ["oneOf": [creditRefill, ["type": "null"]]],
        ],
    ]

    /// The core schema `name` with `properties` added (and those of them in `required` required).
    static func core(_ name: String, adding properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        guard case .object(var schema) = coreSchemas[name] ?? [:] else { return [:] }
        var listed = schema["properties"]?.objectValue ?? [:]
        for (key, value) in properties { listed[key] = value }
        schema["properties"] = .object(listed)
        if !required.isEmpty {
            schema["required"] = .array((schema["required"]?.arrayValue ?? []) + required.map { .string($0) })
        }
        return .object(schema)
    }

    static let quotasSchemas: JSONValue = [
        "Credits": object(
            ["remaining": integer, "refill": ["oneOf": [creditRefill, ["type": "null"]]],
             "next_refill_at": nullable("string", format: "date-time")],
            required: ["remaining", "refill", "next_refill_at"]),
        "QuotaState": object(
            ["period": ["type": "string", "enum": ["day", "month"]], "limit": integer, "remaining": integer,
             "reset": ["type": "integer", "description": "Unix seconds when the period ends"]],
            required: ["period", "limit", "remaining", "reset"]),
        "Me": core("Me", adding: ["quota": ref("QuotaState"), "credits": ref("Credits")]),
        "APIKey": core("APIKey", adding: ["credits": ref("Credits")]),
        "CreateAPIKey": core("CreateAPIKey", adding: ["credits": creditsRequest]),
        "UpdateAPIKey": core("UpdateAPIKey", adding: ["credits": ["oneOf": [creditsRequest, ["type": "null"]]]]),
        "Tenant": core(
            "Tenant",
            adding: [
                "quota_per_day": nullable("integer"), "quota_per_month": nullable("integer"),
                "custom_quota_per_day": nullable("integer"), "custom_quota_per_month": nullable("integer"),
            ],
            required: ["quota_per_day", "quota_per_month", "custom_quota_per_day", "custom_quota_per_month"]),
        "UpdateTenant": core(
            "UpdateTenant",
            adding: [
                "quota_per_day": ["type": ["integer", "null"], "minimum": 1],
                "quota_per_month": ["type": ["integer", "null"], "minimum": 1],
            ]),
    ]
}
