import Synchronization

/// A rate-limit authority that every instance on one store shares (PostgreSQL), so that N instances
/// admit no more requests than one instance would. Same GCRA and same decisions as ``RateLimiter``,
/// timed by the store's clock.
public protocol SharedRateLimit: Sendable {
    /// Admits the request only if every budget has room, then charges all of them; a refusal charges none.
    func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission
    /// Forgets the budgets that are full again (a budget never charged is full); returns how many.
    func forgetFullBudgets() async throws -> Int
}

/// A shared limiter's answer.
public struct SharedAdmission: Sendable, Equatable {
    public var decision: RateDecision
    /// The budget that refused, if one did.
    public var refusedBy: BudgetKey?
    /// How long until the refusing budget admits again, exactly (the decision's `Retry-After` is rounded up).
    public var retryAfterNanoseconds: Int64

    public init(decision: RateDecision, refusedBy: BudgetKey?, retryAfterNanoseconds: Int64) {
        self.decision = decision
        self.refusedBy = refusedBy
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }
}

/// Remembers refusals of the shared limiter until their `Retry-After` has passed, so that traffic over
/// its budget is refused from memory without a round trip to the store. It only ever refuses, and only
/// while the store would refuse too, so it never admits more than the store would. A refusal holds
/// only under the limit it was made with: after a plan or limit change the store decides again.
public final class RateRefusals: Sendable {
    private struct Refusal {
        var until: Int64
        var decision: RateDecision
    }

    private let refusals = Mutex<[BudgetKey: Refusal]>([:])

    public init() {}

    /// A refusal still in force for one of the budgets (at its current limit) at `now`, with its wait
    /// recomputed. Refusals are kept in monotonic time: setting the wall clock neither prolongs nor ends them.
    public func refusal(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?, now instant: RateInstant) -> RateDecision? {
        let now = instant.monotonic
        return refusals.withLock { refusals in
            for (budget, limit) in [first, second].compactMap({ $0 }) {
                guard let refusal = refusals[budget] else { continue }
                guard refusal.until > now, refusal.decision.limit == limit else {
                    refusals[budget] = nil
                    continue
                }
                var decision = refusal.decision
                decision.retryAfterSeconds = max(1, Int(GCRA.ceilSeconds(refusal.until - now)))
                return decision
            }
            return nil
        }
    }

    /// A refusal still in force (no round trip), else `shared`'s decision, remembering the refusal it makes.
    public func decide(
        _ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?, by shared: any SharedRateLimit, now: RateInstant
    ) async throws -> RateDecision {
        if let refused = refusal(first, second, now: now) { return refused }
        let admission = try await shared.admit(first, second)
        if let refusedBy = admission.refusedBy {
            record(refusedBy, admission.decision, now: now, waitNanoseconds: admission.retryAfterNanoseconds)
        }
        return admission.decision
    }

    /// Records that `budget` refused at `now`; it refuses until the decision's `Retry-After` has passed.
    public func record(_ budget: BudgetKey, _ decision: RateDecision, now instant: RateInstant, waitNanoseconds: Int64) {
        let now = instant.monotonic
        refusals.withLock { refusals in
            if refusals.count > 100_000 { refusals = refusals.filter { $0.value.until > now } }
            refusals[budget] = Refusal(until: now + waitNanoseconds, decision: decision)
        }
    }
}
