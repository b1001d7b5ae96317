import PostgresNIO

/// A result row read by column name, throwing (not trapping, as postgres-nio's subscript does)
/// when a column is missing.
struct PostgresRecord {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    /// The value of column `name` as `T` (an optional `T` for a column that may be NULL).
    func callAsFunction<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard row.contains(name) else { throw MissingColumn(name: name) }
        return try row[name].decode(T.self)
    }

    /// A column the query did not return: a bug in the store's SQL.
    struct MissingColumn: Error, CustomStringConvertible {
        var name: String
        var description: String { "the result has no column \(name)" }
    }
}
