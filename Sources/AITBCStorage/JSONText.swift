import AITBCWire

/// JSON stored as text columns (SQLite and PostgreSQL alike), written by the wire's own writer so
/// that what is read back equals what was stored: every digit of a large integer, `2.0` as a float.
enum JSONText {
    static func encode(_ object: [String: JSONValue]) -> String {
        JSONValue.object(object).jsonText
    }

    static func encodeValue(_ value: JSONValue) -> String {
        value.jsonText
    }

    static func decodeObject(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let object)? = try? JSONValue(parsing: text) else { return [:] }
        return object
    }

    static func decodeValue(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return try? JSONValue(parsing: text)
    }
}
