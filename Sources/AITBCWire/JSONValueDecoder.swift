import Foundation

/// Decodes `Decodable` values from JSON text in linear time: the text is read once into a
/// ``JSONValue`` (see ``JSONValueParser``), and the value is then decoded from that tree, so a
/// ``JSONValue`` inside it (a job's payload, a key's metadata) is taken whole instead of being
/// decoded again by trying each kind in turn.
///
/// It reports what Foundation's `JSONDecoder` reports — `DecodingError`s of the same kinds with the
/// same coding paths — reads `Date`s as RFC 3339 text, as ``RFC3339/makeDecoder()`` does, `Data` as
/// base64 and `URL`s as strings.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes a `T` from the JSON document in `text` (UTF-8).
    public func decode<T: Decodable>(_ type: T.Type, from text: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONValue(parsing: text))
    }

    /// Decodes a `T` from a JSON value already read.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONTreeDecoder(value: value, codingPath: []).decodeValue(type)
    }
}
