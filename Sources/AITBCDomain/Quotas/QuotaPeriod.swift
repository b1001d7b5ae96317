import AITBCWire
import Foundation
import Synchronization

/// A calendar period in UTC that a quota counts over or credits refill at: a day or a month.
public enum QuotaPeriod: String, Sendable, Hashable, CaseIterable {
    case day
    case month

    /// Unix seconds at which the period containing `date` began.
    public func start(containing date: Date) -> Int64 { bounds(containing: date).start }

    /// Unix seconds at which the period containing `date` ends (the next one begins).
    public func end(containing date: Date) -> Int64 { bounds(containing: date).end }

    /// Unix seconds at which the period containing `date` began and ends.
    public func bounds(containing date: Date) -> (start: Int64, end: Int64) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let day = (seconds - Self.floorMod(seconds, 86_400)) / 86_400
        guard self == .month else { return (day * 86_400, (day + 1) * 86_400) }
        let (first, next) = Self.monthDays(containing: day)
        return (first * 86_400, next * 86_400)
    }

    /// The last day a month was worked out for, with where its month begins and how long it is:
    /// `(day + 1) << 10 | (day − first day) << 5 | days in the month`, 0 for none. Every metered
    /// request asks for the current month's bounds several times (its quota, its refill, its
    /// headers), and the answer changes once a day.
    private static let lastMonth = Atomic<UInt64>(0)

    /// The day numbers (days since 1970-01-01) of the first day of `day`'s month and of the next month's.
    static func monthDays(containing day: Int64) -> (first: Int64, next: Int64) {
        let cacheable = day >= 0 && day < 1 << 40
        if cacheable {
            let cached = lastMonth.load(ordering: .relaxed)
            if cached >> 10 == UInt64(day) + 1 {
                let first = day - Int64((cached >> 5) & 31)
                return (first, first + Int64(cached & 31))
            }
        }
        // Howard Hinnant's civil-from-days (``RFC3339/civil(unixSeconds:)``) and days-from-civil: no
        // Calendar (and no allocation).
        let civil = RFC3339.civil(unixSeconds: day * 86_400)
        let first = days(year: civil.year, month: civil.month, day: 1)
        let next = civil.month == 12 ? days(year: civil.year + 1, month: 1, day: 1) : days(year: civil.year, month: civil.month + 1, day: 1)
        if cacheable {
            lastMonth.store((UInt64(day) + 1) << 10 | UInt64(day - first) << 5 | UInt64(next - first), ordering: .relaxed)
        }
        return (first, next)
    }

    private static func floorMod(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
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
