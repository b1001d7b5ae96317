import AITBCDomain
import Foundation
import Testing

/// The clocks the domain reads: monotonic time counts real nanoseconds and ignores the wall clock.
@Suite struct TimeSourceTests {
    @Test func systemMonotonicTimeCountsNanosecondsAsTimePasses() async throws {
        let source = SystemTimeSource()
        let start = ContinuousClock.now
        let before = source.monotonicNanoseconds()
        try await Task.sleep(for: .milliseconds(50))
        let after = source.monotonicNanoseconds()
        let elapsed = ContinuousClock.now - start
        let measured = Duration.nanoseconds(after - before)
        // Never less than the sleep; never more than what ContinuousClock saw around the two readings.
        #expect(measured >= .milliseconds(50))
        #expect(measured <= elapsed + .microseconds(1))
    }

    @Test func aManualWallClockStepMovesNoMonotonicTime() {
        let clock = ManualTimeSource(Date(timeIntervalSince1970: 1_795_000_000))
        let start = clock.monotonicNanoseconds()
        clock.stepWallClock(by: -3600)
        clock.set(Date(timeIntervalSince1970: 1_900_000_000))
        #expect(clock.monotonicNanoseconds() == start)
        #expect(clock.now() == Date(timeIntervalSince1970: 1_900_000_000))
        clock.advance(by: 1.5)
        #expect(clock.monotonicNanoseconds() == start + 1_500_000_000)
        #expect(clock.now() == Date(timeIntervalSince1970: 1_900_000_001.5))
    }
}
