import Foundation

/// Any JSON document: job payloads, key metadata, error details.
///
/// It is written as a literal (`["type": "inference", "n": 2]`) and keeps numbers as Python's
/// `json` module keeps them (AITBC's coordinator is Python): an integer stays an integer with every
/// digit, however large, and a float stays a float (`2.0` is not `2`).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer outside `Int`'s range, as its decimal text (`-` allowed, no leading zeros, no `+`):
    /// `12345678901234567890`. Integers within `Int` are always ``int(_:)``.
    case largeInteger(String)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    /// Decodes a value. Under ``JSONValueDecoder`` the value was parsed already and is taken whole.
    /// Foundation's `JSONDecoder` offers no way to ask which kind of value comes next, so under it
    /// (and any other decoder) each kind is tried in turn, and numbers lose what it cannot tell
    /// (`2.0` is read as `2`, `12345678901234567890` as a double): decode JSON text with
    /// ``JSONValueDecoder`` or ``init(parsing:)``, which keep them as Python does.
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? JSONTreeDecoder {
            self = tree.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a JSON value")
        }
    }

    /// Encodes the value. Under the wire's response encoder (see ``JSONRawNumbers``) numbers are
    /// written exactly as ``JSONValue/numberText`` says. Under any other encoder a large integer is a
    /// `Decimal` (exact up to 38 digits) and a double is a `Double`, which Foundation's `JSONEncoder`
    /// writes without `.0` (`2.0` as `2`, `-0.0` as `-0`): there is no way to hand it number text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let raw = encoder.userInfo[JSONRawNumbers.userInfoKey] as? JSONRawNumbers, let text = rawNumberText {
            try container.encode(raw.placeholder(for: text))
            return
        }
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .largeInteger(let text):
            if let decimal = Decimal(string: text) { try container.encode(decimal) } else { try container.encodeNil() }
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// The JSON document in `text` (UTF-8), read in one pass (see ``JSONValueParser``); invalid
    /// JSON throws `DecodingError.dataCorrupted`.
    public init(parsing text: some Collection<UInt8>) throws {
        if let value = try text.withContiguousStorageIfAvailable({ try JSONValueParser.parse($0) }) {
            self = value
        } else {
            self = try Array(text).withUnsafeBufferPointer { try JSONValueParser.parse($0) }
        }
    }

    /// The JSON document in `text`.
    public init(parsing text: String) throws {
        var text = text
        self = try text.withUTF8 { try JSONValueParser.parse($0) }
    }

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The string inside, or nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number inside as a `Double`, or nil.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .largeInteger(let text): return Double(text)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The array inside, or nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object inside, or nil.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }
}
