/// Any `Clock<Duration>`, read as the time elapsed since it was wrapped.
///
/// The queue keeps one stored clock of any type (production passes `ContinuousClock()`, tests a
/// clock they move by hand). An `any Clock<Duration>` hides its `Instant` type, so two readings
/// could not be compared without opening the existential at every use; a generic queue would carry
/// its clock type into every service. Wrapping the clock once turns its instants into durations.
struct ElapsedClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
    }

    /// The time elapsed since the clock was wrapped.
    var now: Duration { elapsed() }

    /// Returns when ``now`` reaches `deadline`; throws when the task is cancelled first.
    func sleep(until deadline: Duration) async throws { try await sleeper(deadline) }

    /// Returns when `duration` has passed; throws when the task is cancelled first.
    func sleep(for duration: Duration) async throws { try await sleeper(now + duration) }
}
