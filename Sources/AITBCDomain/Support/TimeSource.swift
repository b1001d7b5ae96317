import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the domain reads the time: the system clocks in production, hand-moved ones in tests.
public protocol TimeSource: Sendable {
    /// The current wall-clock time: what is stored, shown and compared with stored times.
    func now() -> Date
    /// Nanoseconds on a clock that only moves forward, at the pace time passes, whatever is done to
    /// the wall clock (NTP steps, an operator's `date -s`): what durations inside this process, such
    /// as rate budgets and cache lifetimes, are measured on. Its zero means nothing.
    func monotonicNanoseconds() -> Int64
}

/// The system's clocks: the wall clock, and the clock `ContinuousClock` reads for monotonic time.
public struct SystemTimeSource: TimeSource {
    public init() {}
    public func now() -> Date { Date() }

    public func monotonicNanoseconds() -> Int64 {
        // Read directly where the platform allows: every request reads it, and going through
        // `ContinuousClock.Instant` and `Duration` costs twice as much (about 50 ns against 25).
        #if canImport(Glibc) || canImport(Musl)
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
        #elseif canImport(Darwin)
        return Int64(clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW))
        #else
        let elapsed = ContinuousClock.now - monotonicOrigin
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        #endif
    }
}

#if !canImport(Glibc) && !canImport(Musl) && !canImport(Darwin)
/// One origin for the whole process, so that readings of every `SystemTimeSource` compare.
private let monotonicOrigin = ContinuousClock.now
#endif

/// Clocks that only move when a test moves them: ``advance(by:)`` is time passing (both clocks move),
/// ``stepWallClock(by:)`` and ``set(_:)`` are the wall clock being set (monotonic time stands still).
public final class ManualTimeSource: TimeSource {
    private struct Readings {
        var wall: Date
        var monotonic: Int64 = 0
    }

    private let current: Mutex<Readings>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        self.current = Mutex(Readings(wall: start))
    }

    public func now() -> Date { current.withLock { $0.wall } }

    public func monotonicNanoseconds() -> Int64 { current.withLock { $0.monotonic } }

    /// Lets `seconds` (not negative) pass: both clocks move forward.
    public func advance(by seconds: TimeInterval) {
        precondition(seconds >= 0, "time only passes forward; stepWallClock(by:) sets the wall clock back")
        current.withLock {
            $0.wall = $0.wall.addingTimeInterval(seconds)
            $0.monotonic += Int64((seconds * 1_000_000_000).rounded())
        }
    }

    /// Steps the wall clock by `seconds` (either way) without time passing, as NTP or an operator may.
    public func stepWallClock(by seconds: TimeInterval) {
        current.withLock { $0.wall = $0.wall.addingTimeInterval(seconds) }
    }

    /// Sets the wall clock to `date` without time passing.
    public func set(_ date: Date) {
        current.withLock { $0.wall = date }
    }
}

extension Date {
    /// Unix time in nanoseconds.
    @inlinable
    public var unixNanoseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000_000).rounded()) }

    /// Unix time in milliseconds, the unit storage keeps.
    @inlinable
    public var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The date of a Unix time in milliseconds.
    public init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(unixMilliseconds) / 1000)
    }
}
