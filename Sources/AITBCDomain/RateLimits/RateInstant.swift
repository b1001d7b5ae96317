import Foundation

/// The moment a rate decision is taken, read from both clocks: the monotonic reading decides (a
/// wall clock set back or forward neither refuses everyone nor grants a new burst), the wall-clock
/// reading only dates what goes on the wire (`X-RateLimit-Reset`, a Unix time).
public struct RateInstant: Sendable, Equatable {
    /// Nanoseconds on the instance's monotonic clock (``TimeSource/monotonicNanoseconds()``).
    public var monotonic: Int64
    /// Unix time in nanoseconds of the same moment.
    public var unix: Int64

    @inlinable
    public init(monotonic: Int64, unix: Int64) {
        self.monotonic = monotonic
        self.unix = unix
    }

    /// The Unix time in nanoseconds of `monotonic`, another reading of the monotonic clock.
    @inlinable
    public func unixTime(ofMonotonic other: Int64) -> Int64 { unix &+ (other &- monotonic) }
}

extension TimeSource {
    /// Now, for a rate decision; `wall` is the wall-clock time when the caller has already read it.
    @inlinable
    public func rateInstant(wall: Date? = nil) -> RateInstant {
        RateInstant(monotonic: monotonicNanoseconds(), unix: (wall ?? now()).unixNanoseconds)
    }
}
