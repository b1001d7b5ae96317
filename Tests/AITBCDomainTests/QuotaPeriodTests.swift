import AITBCDomain
import Foundation
import Testing

/// The UTC day and month a quota counts in, against Foundation's Gregorian calendar: every day from
/// 1970 to 2100 (leap years, the turn of each year), asked in an order that keeps the remembered
/// month both right and wrong, and seconds on both sides of midnight.
@Suite struct QuotaPeriodTests {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func expected(_ period: QuotaPeriod, _ date: Date) -> (Int64, Int64) {
        let component: Calendar.Component = period == .day ? .day : .month
        let interval = calendar.dateInterval(of: component, for: date)!
        return (Int64(interval.start.timeIntervalSince1970), Int64(interval.end.timeIntervalSince1970))
    }

    @Test func boundsMatchTheGregorianCalendarOnEveryDayAndAtEitherSideOfMidnight() {
        let last = 47_847  // 2100-12-31
        var mismatches: [String] = []
        for day in stride(from: 0, through: last, by: 1) {
            // A day, then one far away (the remembered month is then another's), then the day again.
            for asked in [day, last - day, day] {
                for offset in [0, 1, 43_200, 86_399] {
                    let date = Date(timeIntervalSince1970: TimeInterval(asked * 86_400 + offset))
                    for period in QuotaPeriod.allCases {
                        let bounds = period.bounds(containing: date)
                        let expected = Self.expected(period, date)
                        if bounds != expected, mismatches.count < 5 { mismatches.append("\(period) \(date): \(bounds) ≠ \(expected)") }
                        if period.start(containing: date) != expected.0 || period.end(containing: date) != expected.1 {
                            if mismatches.count < 5 { mismatches.append("\(period) start/end \(date)") }
                        }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test func aSecondBeforeNineteenSeventyBelongsToTheDecemberBefore() {
        let date = Date(timeIntervalSince1970: -1)
        #expect(QuotaPeriod.day.bounds(containing: date) == (-86_400, 0))
        #expect(QuotaPeriod.month.bounds(containing: date) == (-31 * 86_400, 0))
        #expect(QuotaPeriod.month.bounds(containing: Date(timeIntervalSince1970: 0)) == (0, 31 * 86_400))
    }
}
