import Foundation

/// RFC 3339 timestamps in UTC (`2026-11-23T14:00:00Z`), the only time format on the wire.
public enum RFC3339 {
    /// Formats `date` with whole seconds and a `Z` suffix.
    public static func string(from date: Date) -> String {
        if let text = withFixedWidthText(of: date, { String(decoding: $0, as: UTF8.self) }) { return text }
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let parts = civil(unixSeconds: Int64(seconds))
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))Z"
    }

    /// Calls `body` with the 20 bytes `YYYY-MM-DDTHH:MM:SSZ` of `date`, written on the stack (no
    /// `String`, no C library call), or returns nil for a year outside 0...9999.
    public static func withFixedWidthText<R>(of date: Date, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        let parts = civil(unixSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
        guard (0...9999).contains(parts.year) else { return nil }
        var bytes: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &bytes) { raw in
            func put(_ value: Int64, at offset: Int, width: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    raw[index] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
            }
            put(parts.year, at: 0, width: 4)
            raw[4] = UInt8(ascii: "-")
            put(parts.month, at: 5, width: 2)
            raw[7] = UInt8(ascii: "-")
            put(parts.day, at: 8, width: 2)
            raw[10] = UInt8(ascii: "T")
            put(parts.hour, at: 11, width: 2)
            raw[13] = UInt8(ascii: ":")
            put(parts.minute, at: 14, width: 2)
            raw[16] = UInt8(ascii: ":")
            put(parts.second, at: 17, width: 2)
            raw[19] = UInt8(ascii: "Z")
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<20]))
        }
    }

    /// The UTC calendar date and time of `unixSeconds` (proleptic Gregorian; Howard Hinnant's
    /// civil-from-days, exact for every Int64 day count in range).
    public static func civil(unixSeconds: Int64) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) {
        var days = unixSeconds / 86_400
        var secondOfDay = unixSeconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (
            yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60
        )
    }

    /// Parses an RFC 3339 timestamp, with or without fractional seconds, in any offset.
    public static func date(from string: String) -> Date? {
        if let date = try? Date(string, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: false)) {
            return date
        }
        return try? Date(string, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A JSON encoder that writes dates as RFC 3339 and keys in a stable order.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A JSON decoder that reads RFC 3339 dates.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "Expected an RFC 3339 timestamp such as 2026-11-23T14:00:00Z")
            }
            return date
        }
        return decoder
    }
}
