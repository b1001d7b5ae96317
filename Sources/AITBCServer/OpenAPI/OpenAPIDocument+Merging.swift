import AITBCWire

/// How each feature's paths and schemas join the core document.
extension OpenAPIDocument {
    /// `base`'s members with those of each of `extensions` added (an extension's member wins).
    static func merged(_ base: JSONValue, _ extensions: [JSONValue]) -> JSONValue {
        guard case .object(var members) = base else { return base }
        for case .object(let more) in extensions {
            for (name, value) in more { members[name] = value }
        }
        return .object(members)
    }

    /// `base`'s schemas with each feature's added. A feature that extends an existing object schema
    /// (the core's `APIKey` with its own property) adds its properties and required fields to what is
    /// there, so features extending the same schema each keep their part.
    static func mergedSchemas(_ base: JSONValue, _ extensions: [JSONValue]) -> JSONValue {
        guard case .object(var schemas) = base else { return base }
        for case .object(let more) in extensions {
            for (name, schema) in more {
                schemas[name] = schemas[name].map { combined($0, schema) } ?? schema
            }
        }
        return .object(schemas)
    }

    /// `existing` with the properties and required fields of `addition` joined to its own; a schema
    /// that is not an object with properties is replaced.
    static func combined(_ existing: JSONValue, _ addition: JSONValue) -> JSONValue {
        guard case .object(var schema) = existing, case .object(let added) = addition,
            case .object(var properties) = schema["properties"] ?? .null,
            case .object(let addedProperties) = added["properties"] ?? .null
        else { return addition }
        for (name, value) in addedProperties { properties[name] = value }
        schema["properties"] = .object(properties)
        var required: [JSONValue] = []
        for case .array(let fields) in [schema["required"] ?? .array([]), added["required"] ?? .array([])] {
            for field in fields where !required.contains(field) { required.append(field) }
        }
        if !required.isEmpty { schema["required"] = .array(required) }
        return .object(schema)
    }
}
