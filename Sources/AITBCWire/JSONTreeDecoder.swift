import Foundation

/// The `Decoder` behind ``JSONValueDecoder``: one value of a parsed document and the path that leads
/// to it. Its errors are those Foundation's `JSONDecoder` throws in the same places.
struct JSONTreeDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        // The types named in errors are those JSONDecoder names.
        guard case .object(let object) = value else { throw mismatch([String: Any].self, container: "keyed") }
        return KeyedDecodingContainer(JSONTreeKeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self, container: "unkeyed") }
        return JSONTreeUnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// Decodes a `T` from this value; the types `JSONDecoder` treats specially are treated alike.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        // A JSON value inside is taken as it was parsed: no second pass over it.
        if T.self == JSONValue.self { return value as! T }
        if T.self == [String: JSONValue].self, case .object(let object) = value { return object as! T }
        if T.self == [JSONValue].self, case .array(let elements) = value { return elements as! T }
        if T.self == Date.self {
            let text = try decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: self, debugDescription: "Expected an RFC 3339 timestamp such as 2026-11-23T14:00:00Z")
            }
            return date as! T
        }
        if T.self == Data.self {
            guard let data = Data(base64Encoded: try decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: self, debugDescription: "Encountered Data is not valid Base64.")
            }
            return data as! T
        }
        if T.self == URL.self {
            guard let url = URL(string: try decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: self, debugDescription: "Invalid URL string.")
            }
            return url as! T
        }
        return try T(from: self)
    }

    // MARK: single value

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(type) }
        return bool
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let string) = value else { throw mismatch(type) }
        return string
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .int(let integer): return Double(integer)
        case .largeInteger(let text): return Double(text) ?? 0
        case .double(let double): return double
        default: throw mismatch(type)
        }
    }

    func decode(_ type: Float.Type) throws -> Float {
        let double = try decode(Double.self)
        let float = Float(double)
        guard float.isFinite else { throw doesNotFit(double, type) }
        return float
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }

    /// An integer of type `T`: a whole number that fits, as `JSONDecoder` accepts it (`2.0` is 2).
    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        switch value {
        case .int(let integer):
            guard let exact = T(exactly: integer) else { throw doesNotFit(integer, type) }
            return exact
        case .largeInteger(let text):
            guard let exact = T(text) else { throw doesNotFit(text, type) }
            return exact
        case .double(let double):
            guard let exact = T(exactly: double) else { throw doesNotFit(double, type) }
            return exact
        default: throw mismatch(type)
        }
    }

    // MARK: errors

    /// The error for a value of another kind than `type`: `valueNotFound` for null, else `typeMismatch`.
    func mismatch(_ type: Any.Type, container: String? = nil) -> DecodingError {
        if case .null = value {
            let description =
                container.map { "Cannot get \($0) decoding container -- found null value instead" }
                ?? "Expected \(type) value but found null instead."
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: description))
        }
        return .typeMismatch(
            type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(kind) instead."))
    }

    private func doesNotFit(_ number: Any, _ type: Any.Type) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: "Parsed JSON number <\(number)> does not fit in \(type)."))
    }

    private var kind: String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .int, .largeInteger, .double: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }
}
