import AITBCWire

/// Per-key IP allow-lists (`allowed_ips`) in the key and identity schemas, and the IETF rate-limit fields.
extension OpenAPIDocument {
    static let allowedIPsDescription: JSONValue = .string(
        "CIDRs (IPv4 or IPv6) or single addresses the key may be used from, at most 100; returned in canonical form "
            + "with a prefix length (198.51.100.7 becomes 198.51.100.7/32); an entry with bits set beyond its prefix "
            + "is refused. null: anywhere. From elsewhere: 403 IP_NOT_ALLOWED.")

    static let allowListSchemas: JSONValue = [
        "APIKey": adding(
            ["allowed_ips": ["type": ["array", "null"], "items": string, "description": allowedIPsDescription]],
            required: ["allowed_ips"], to: "APIKey"),
        "Me": adding(
            ["allowed_ips": ["type": ["array", "null"], "items": string, "description": allowedIPsDescription]],
            required: ["allowed_ips"], to: "Me"),
        "CreateAPIKey": adding(
            ["allowed_ips": [
                "type": ["array", "null"], "items": string, "maxItems": 100,
                "description": "As on APIKey. Left out or null: the creating key's own list (none if it has none); [] asks for none, which a key with a list of its own may not grant.",
            ]],
            required: [], to: "CreateAPIKey"),
        "UpdateAPIKey": adding(
            ["allowed_ips": [
                "type": ["array", "null"], "items": string, "maxItems": 100,
                "description": "As on APIKey; null or [] clears it. Takes effect from the next request.",
            ]],
            required: [], to: "UpdateAPIKey"),
    ]

    /// The core schema `name` with `properties` added to its properties and `required` to its required fields.
    static func adding(_ properties: [String: JSONValue], required: [String], to name: String) -> JSONValue {
        guard case .object(var schema) = coreSchemas[name] ?? .null else { return .null }
        if case .object(var listed) = schema["properties"] ?? .null {
            for (property, value) in properties { listed[property] = value }
            schema["properties"] = .object(listed)
        }
        if !required.isEmpty, case .array(let existing) = schema["required"] ?? .null {
            schema["required"] = .array(existing + required.map { .string($0) })
        }
        return .object(schema)
    }
}
