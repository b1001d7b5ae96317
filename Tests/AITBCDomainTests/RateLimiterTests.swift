import AITBCDomain
import Testing

/// GCRA budgets: burst, steady rate, refusals that cost nothing, and two budgets at once.
@Suite struct RateLimiterTests {
    let second: Int64 = 1_000_000_000
    let start: Int64 = 1_795_000_000 * 1_000_000_000

    /// A moment whose monotonic and wall-clock readings agree (the clock was never set).
    func at(_ nanoseconds: Int64) -> RateInstant { RateInstant(monotonic: nanoseconds, unix: nanoseconds) }

    @Test func burstOfTheLimitThenOnePerInterval() {
        let limiter = RateLimiter()
        for index in 1...60 {
            let decision = limiter.admit((.tenant("t"), 60), now: at(start))
            #expect(decision.admitted)
            #expect(decision.remaining == 60 - index)
        }
        let refused = limiter.admit((.tenant("t"), 60), now: at(start))
        #expect(!refused.admitted)
        #expect(refused.retryAfterSeconds == 1)
        #expect(refused.resetUnixSeconds == start / second + 60)
        #expect(!limiter.admit((.tenant("t"), 60), now: at(start + second - 1)).admitted)
        #expect(limiter.admit((.tenant("t"), 60), now: at(start + second)).admitted)
        #expect(!limiter.admit((.tenant("t"), 60), now: at(start + second)).admitted)
    }

    @Test func refusalsDoNotConsumeBudget() {
        let limiter = RateLimiter()
        for _ in 0..<60 { _ = limiter.admit((.tenant("t"), 60), now: at(start)) }
        for _ in 0..<1000 { _ = limiter.admit((.tenant("t"), 60), now: at(start)) }
        #expect(limiter.admit((.tenant("t"), 60), now: at(start + second)).admitted)
    }

    @Test func budgetRefillsCompletelyAfterAMinute() {
        let limiter = RateLimiter()
        for _ in 0..<6000 { _ = limiter.admit((.tenant("t"), 6000), now: at(start)) }
        #expect(!limiter.admit((.tenant("t"), 6000), now: at(start)).admitted)
        let full = limiter.admit((.tenant("t"), 6000), now: at(start + 60 * second))
        #expect(full.admitted)
        #expect(full.remaining == 5999)
    }

    @Test func keyBudgetRefusalDoesNotChargeTheTenant() {
        let limiter = RateLimiter()
        for _ in 0..<3 { #expect(limiter.admit((.tenant("t"), 600), (.key("k"), 3), now: at(start)).admitted) }
        let refused = limiter.admit((.tenant("t"), 600), (.key("k"), 3), now: at(start))
        #expect(!refused.admitted)
        #expect(refused.limit == 3)
        #expect(refused.retryAfterSeconds == 20)
        let tenantOnly = limiter.admit((.tenant("t"), 600), now: at(start))
        #expect(tenantOnly.remaining == 600 - 4)
    }

    @Test func reportedDecisionIsTheTighterBudget() {
        let limiter = RateLimiter()
        let decision = limiter.admit((.tenant("t"), 600), (.key("k"), 10), now: at(start))
        #expect(decision.limit == 10)
        #expect(decision.remaining == 9)
    }

    @Test func limitChangeAppliesToTheNextDecision() {
        let limiter = RateLimiter()
        for _ in 0..<60 { _ = limiter.admit((.tenant("t"), 60), now: at(start)) }
        #expect(!limiter.admit((.tenant("t"), 60), now: at(start)).admitted)
        // Upgraded to 600 per minute: the 60 already used leave 540.
        let upgraded = limiter.admit((.tenant("t"), 600), now: at(start))
        #expect(upgraded.admitted)
        #expect(upgraded.remaining == 539)
        // Downgraded back: what was used counts against the smaller budget.
        #expect(!limiter.admit((.tenant("t"), 60), now: at(start)).admitted)
    }

    @Test func memoryIsReclaimedForFullBudgets() {
        let limiter = RateLimiter()
        for index in 0..<10_000 { _ = limiter.admit((.address("a\(index)"), 60), now: at(start)) }
        for index in 0..<10_000 { _ = limiter.admit((.address("b\(index)"), 60), now: at(start + 120 * second)) }
        // The first 10,000 budgets are full again by then and are dropped at the next sweep.
        #expect(limiter.trackedBudgets <= 12_000)
    }

    @Test func sharedRefusalsHoldUntilTheirWaitUnderTheLimitTheyWereMadeWith() {
        let refusals = RateRefusals()
        let refused = RateDecision(admitted: false, limit: 60, remaining: 0, resetUnixSeconds: 100, retryAfterSeconds: 2)
        refusals.record(.tenant("t"), refused, now: at(0), waitNanoseconds: 1_500_000_000)
        // Refused from memory, with the wait left, for this budget at this limit only.
        #expect(refusals.refusal((.tenant("t"), 60), (.key("k"), 10), now: at(1_000_000_000))?.retryAfterSeconds == 1)
        #expect(refusals.refusal((.key("k"), 10), nil, now: at(1_000_000_000)) == nil)
        // A plan change (another limit) goes back to the store at once.
        #expect(refusals.refusal((.tenant("t"), 600), nil, now: at(1_000_000_000)) == nil)
        refusals.record(.tenant("t"), refused, now: at(0), waitNanoseconds: 1_500_000_000)
        // After the wait the store decides again.
        #expect(refusals.refusal((.tenant("t"), 60), nil, now: at(1_500_000_000)) == nil)
    }

    @Test func aWallClockSetBackNeitherRefusesAnAdmittedCallerNorMisdatesTheReset() {
        let limiter = RateLimiter()
        let wall = start
        // One request a second on a budget of 60 a minute: well within the rate.
        for second in 0..<30 {
            let now = RateInstant(monotonic: Int64(second) * self.second, unix: wall + Int64(second) * self.second)
            #expect(limiter.admit((.tenant("t"), 60), now: now).admitted)
        }
        // The wall clock is set back an hour; monotonic time goes on.
        let steppedBack = wall - 3600 * second
        for second in 30..<60 {
            let now = RateInstant(monotonic: Int64(second) * self.second, unix: steppedBack + Int64(second) * self.second)
            let decision = limiter.admit((.tenant("t"), 60), now: now)
            #expect(decision.admitted, "request \(second) after the step")
            #expect(decision.remaining == 59)
            // The reset is dated by the wall clock as it reads now: one interval ahead of it.
            #expect(decision.resetUnixSeconds == now.unix / self.second + 1)
        }
    }

    @Test func aWallClockSetForwardGrantsNoNewBurst() {
        let limiter = RateLimiter()
        for _ in 0..<60 { #expect(limiter.admit((.tenant("t"), 60), now: at(start)).admitted) }
        #expect(!limiter.admit((.tenant("t"), 60), now: at(start)).admitted)
        // An hour forward on the wall clock, half a second on the monotonic one: still spent.
        let forward = RateInstant(monotonic: start + second / 2, unix: start + 3600 * second + second / 2)
        let refused = limiter.admit((.tenant("t"), 60), now: forward)
        #expect(!refused.admitted)
        #expect(refused.retryAfterSeconds == 1)
        // Refusals too are reported against the wall clock as it reads now.
        #expect(refused.resetUnixSeconds == (forward.unix + 59 * second + second / 2 + second - 1) / second)
        #expect(limiter.admit((.tenant("t"), 60), now: RateInstant(monotonic: start + second, unix: forward.unix + second / 2))
            .admitted)
    }
}
