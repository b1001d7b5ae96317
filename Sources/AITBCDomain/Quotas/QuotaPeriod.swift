import AITBCWire
import Foundation

/// A calendar period in UTC that a quota counts over or credits refill at: a day or a month.
public enum QuotaPeriod: String, Sendable, Hashable, CaseIterable {
    case day
    case month

    /// Unix seconds at which the period containing `date` began.
    public func start(containing date: Date) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let dayStart = seconds - Self.floorMod(seconds, 86_400)
        guard self == .month else { return dayStart }
        let civil = Self.civil(days: dayStart / 86_400)
        return Self.days(year: civil.year, month: civil.month, day: 1) * 86_400
    }

    /// Unix seconds at which the period containing `date` ends (the next one begins).
    public func end(containing date: Date) -> Int64 {
        let start = start(containing: date)
        guard self == .month else { return start + 86_400 }
        let civil = Self.civil(days: start / 86_400)
        let next = civil.month == 12 ? (civil.year + 1, 1) : (civil.year, civil.month + 1)
        return Self.days(year: next.0, month: next.1, day: 1) * 86_400
    }

    private static func floorMod(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }

    // Howard Hinnant's civil-from-days (``RFC3339/civil(unixSeconds:)``) and days-from-civil: no
    // Calendar (and no allocation) per request.
    private static func civil(days: Int64) -> (year: Int64, month: Int64) {
        let date = RFC3339.civil(unixSeconds: days * 86_400)
        return (date.year, date.month)
    }

    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
