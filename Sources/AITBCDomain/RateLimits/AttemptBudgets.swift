/// Budgets of attempts that guess — failed authentications per client address, dashboard sign-ins
/// per email and per address — kept where the tenants' request budgets are: in memory on a lone
/// instance, in the shared limiter when several instances share a database, so that N instances
/// allow a guesser no more attempts than one would.
///
/// A shared refusal is remembered until its `Retry-After`, so a flood over its budget costs no round
/// trip. When the shared limiter cannot be asked (the database is down), the instance's own budget
/// decides: an outage neither lifts the throttle nor turns a wrong password into a 503. Attempts
/// that cannot be guesses (a malformed key) are counted by the instance alone: they never reach
/// storage.
///
/// Time here is a ``RateInstant``: the instance's own budgets and the refusals it remembers run on
/// monotonic time, so setting the wall clock neither locks every address out nor lifts a throttle.
public final class AttemptBudgets: Sendable {
    private let local = RateLimiter()
    private let shared: (any SharedRateLimit)?
    private let refusals = RateRefusals()

    public init(shared: (any SharedRateLimit)? = nil) {
        self.shared = shared
    }

    /// A refusal of `budget` known here at `now`, charging nothing and asking no one.
    public func knownRefusal(_ budget: BudgetKey, limit: Int, now: RateInstant) -> RateDecision? {
        let state = local.peek(budget, limit: limit, now: now)
        if !state.admitted { return state }
        return shared == nil ? nil : refusals.refusal((budget, limit), nil, now: now)
    }

    /// Charges one attempt to both budgets, or to neither when one is spent; `locally` keeps it
    /// off the shared limiter.
    public func charge(
        _ first: (BudgetKey, Int), _ second: (BudgetKey, Int)? = nil, locally: Bool = false, now: RateInstant
    ) async -> RateDecision {
        guard let shared, !locally else { return local.admit(first, second, now: now) }
        do {
            return try await refusals.decide(first, second, by: shared, now: now)
        } catch {
            return local.admit(first, second, now: now)
        }
    }
}
