import Foundation
import PostgresNIO

/// A point in time as the PostgreSQL store keeps it: a `timestamptz` (microsecond resolution)
/// holding a whole Unix millisecond, converted with integer arithmetic only.
///
/// Dates are truncated to the millisecond on the way in, exactly as ``SQLiteStore`` does, so both
/// backends hand back equal `Date`s and a ``ListCursor`` (milliseconds) addresses rows precisely:
/// with sub-millisecond values stored, a cursor row's older neighbours in the same millisecond
/// would fall out of the next page. postgres-nio's own `Date` coding goes through `Double`
/// microseconds and may land one microsecond off.
struct PostgresInstant: Sendable, Hashable {
    /// Milliseconds since 1970-01-01 UTC.
    var unixMilliseconds: Int64

    init(_ date: Date) {
        unixMilliseconds = date.unixMilliseconds
    }

    init(unixMilliseconds: Int64) {
        self.unixMilliseconds = unixMilliseconds
    }

    var date: Date { Date(unixMilliseconds: unixMilliseconds) }

    /// PostgreSQL counts microseconds from 2000-01-01 UTC.
    static let postgresEpochMilliseconds: Int64 = 946_684_800_000
}

extension PostgresInstant: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }
    static var psqlArrayType: PostgresDataType { .timestamptzArray }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger((unixMilliseconds - Self.postgresEpochMilliseconds) * 1000, as: Int64.self)
    }
}

extension PostgresInstant: PostgresDecodable {
    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz || type == .timestamp else { throw PostgresDecodingError.Code.typeMismatch }
        guard format == .binary, buffer.readableBytes == 8, let microseconds = buffer.readInteger(as: Int64.self) else {
            throw PostgresDecodingError.Code.failure
        }
        // Floor division: instants before 2000 stay on the millisecond they were written as.
        let milliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
        self.init(unixMilliseconds: milliseconds + Self.postgresEpochMilliseconds)
    }
}
