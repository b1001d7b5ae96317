import AITBCDomain
import Testing

/// GCRA budgets: burst, steady rate, refusals that cost nothing, and two budgets at once.
@Suite struct RateLimiterTests {
    let second: Int64 = 1_000_000_000
    let start: Int64 = 1_795_000_000 * 1_000_000_000

    @Test func burstOfTheLimitThenOnePerInterval() {
        let limiter = RateLimiter()
        for index in 1...60 {
            let decision = limiter.admit((.tenant("t"), 60), now: start)
            #expect(decision.admitted)
            #expect(decision.remaining == 60 - index)
        }
        let refused = limiter.admit((.tenant("t"), 60), now: start)
        #expect(!refused.admitted)
        #expect(refused.retryAfterSeconds == 1)
        #expect(refused.resetUnixSeconds == start / second + 60)
        #expect(!limiter.admit((.tenant("t"), 60), now: start + second - 1).admitted)
        #expect(limiter.admit((.tenant("t"), 60), now: start + second).admitted)
        #expect(!limiter.admit((.tenant("t"), 60), now: start + second).admitted)
    }

    @Test func refusalsDoNotConsumeBudget() {
        let limiter = RateLimiter()
        for _ in 0..<60 { _ = limiter.admit((.tenant("t"), 60), now: start) }
        for _ in 0..<1000 { _ = limiter.admit((.tenant("t"), 60), now: start) }
        #expect(limiter.admit((.tenant("t"), 60), now: start + second).admitted)
    }

    @Test func budgetRefillsCompletelyAfterAMinute() {
        let limiter = RateLimiter()
        for _ in 0..<6000 { _ = limiter.admit((.tenant("t"), 6000), now: start) }
        #expect(!limiter.admit((.tenant("t"), 6000), now: start).admitted)
        let full = limiter.admit((.tenant("t"), 6000), now: start + 60 * second)
        #expect(full.admitted)
        #expect(full.remaining == 5999)
    }

    @Test func keyBudgetRefusalDoesNotChargeTheTenant() {
        let limiter = RateLimiter()
        for _ in 0..<3 { #expect(limiter.admit((.tenant("t"), 600), (.key("k"), 3), now: start).admitted) }
        let refused = limiter.admit((.tenant("t"), 600), (.key("k"), 3), now: start)
        #expect(!refused.admitted)
        #expect(refused.limit == 3)
        #expect(refused.retryAfterSeconds == 20)
        let tenantOnly = limiter.admit((.tenant("t"), 600), now: start)
        #expect(tenantOnly.remaining == 600 - 4)
    }

    @Test func reportedDecisionIsTheTighterBudget() {
        let limiter = RateLimiter()
        let decision = limiter.admit((.tenant("t"), 600), (.key("k"), 10), now: start)
        #expect(decision.limit == 10)
        #expect(decision.remaining == 9)
    }

    @Test func limitChangeAppliesToTheNextDecision() {
        let limiter = RateLimiter()
        for _ in 0..<60 { _ = limiter.admit((.tenant("t"), 60), now: start) }
        #expect(!limiter.admit((.tenant("t"), 60), now: start).admitted)
        // Upgraded to 600 per minute: the 60 already used leave 540.
        let upgraded = limiter.admit((.tenant("t"), 600), now: start)
        #expect(upgraded.admitted)
        #expect(upgraded.remaining == 539)
        // Downgraded back: what was used counts against the smaller budget.
        #expect(!limiter.admit((.tenant("t"), 60), now: start).admitted)
    }

    @Test func memoryIsReclaimedForFullBudgets() {
        let limiter = RateLimiter()
        for index in 0..<10_000 { _ = limiter.admit((.address("a\(index)"), 60), now: start) }
        for index in 0..<10_000 { _ = limiter.admit((.address("b\(index)"), 60), now: start + 120 * second) }
        // The first 10,000 budgets are full again by then and are dropped at the next sweep.
        #expect(limiter.trackedBudgets <= 12_000)
    }

    @Test func sharedRefusalsHoldUntilTheirWaitUnderTheLimitTheyWereMadeWith() {
        let refusals = RateRefusals()
        let refused = RateDecision(admitted: false, limit: 60, remaining: 0, resetUnixSeconds: 100, retryAfterSeconds: 2)
        refusals.record(.tenant("t"), refused, now: 0, waitNanoseconds: 1_500_000_000)
        // Refused from memory, with the wait left, for this budget at this limit only.
        #expect(refusals.refusal((.tenant("t"), 60), (.key("k"), 10), now: 1_000_000_000)?.retryAfterSeconds == 1)
        #expect(refusals.refusal((.key("k"), 10), nil, now: 1_000_000_000) == nil)
        // A plan change (another limit) goes back to the store at once.
        #expect(refusals.refusal((.tenant("t"), 600), nil, now: 1_000_000_000) == nil)
        refusals.record(.tenant("t"), refused, now: 0, waitNanoseconds: 1_500_000_000)
        // After the wait the store decides again.
        #expect(refusals.refusal((.tenant("t"), 60), nil, now: 1_500_000_000) == nil)
    }
}
