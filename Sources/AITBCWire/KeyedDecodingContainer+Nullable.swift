extension KeyedDecodingContainer {
    /// A field of a partial update: nil when absent (leave it), `.some(nil)` when `null` (clear it),
    /// `.some(value)` when given.
    public func decodeNullable<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T?? {
        guard contains(key) else { return nil }
        return .some(try decodeIfPresent(type, forKey: key))
    }
}
