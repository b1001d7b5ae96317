import Synchronization

/// Whose budget a request draws on.
public enum BudgetKey: Hashable, Sendable {
    /// The tenant's shared budget (its plan or custom limit).
    case tenant(String)
    /// A key's own lower limit.
    case key(String)
    /// Failed authentications from one client address.
    case address(String)
    /// Dashboard sign-in attempts for one email address.
    case signInAccount(String)
    /// Dashboard sign-in and sign-up attempts from one client address.
    case signInAddress(String)
    /// Revocations by one key beyond its tenant's budget: a flood by a leaked key must not stop
    /// the tenant's master from revoking it.
    case revocations(String)
}

/// The outcome of asking a ``RateLimiter`` for one request.
public struct RateDecision: Sendable, Equatable {
    public var admitted: Bool
    /// Requests per minute of the budget that applies.
    public var limit: Int
    /// Requests that would be admitted right now.
    public var remaining: Int
    /// Unix seconds when the budget is full again.
    public var resetUnixSeconds: Int64
    /// Whole seconds until a retry can succeed (0 when admitted, else at least 1).
    public var retryAfterSeconds: Int
    /// Unix seconds (rounded down) when the decision was taken, set by ``RequestBudgets``: the
    /// IETF `RateLimit` field counts its reset from it.
    public var decidedAtUnixSeconds: Int64 = 0

    @inlinable
    public init(admitted: Bool, limit: Int, remaining: Int, resetUnixSeconds: Int64, retryAfterSeconds: Int) {
        self.admitted = admitted
        self.limit = limit
        self.remaining = remaining
        self.resetUnixSeconds = resetUnixSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// GCRA (the generic cell rate algorithm): one "theoretical arrival time" per budget.
///
/// A budget of `limit` per minute emits one request every `60 s / limit`, with a burst of
/// `limit`: a full budget admits `limit` requests at once, then one per interval. Refused
/// requests change nothing, so they cost the caller no budget.
public enum GCRA {
    public static let windowNanoseconds: Int64 = 60_000_000_000

    /// The result of evaluating one budget; `newTAT` is what to store if the request is admitted.
    public struct Evaluation: Sendable {
        public var admitted: Bool
        public var newTAT: Int64
        public var decision: RateDecision

        @inlinable
        public init(admitted: Bool, newTAT: Int64, decision: RateDecision) {
            self.admitted = admitted
            self.newTAT = newTAT
            self.decision = decision
        }
    }

    /// Evaluates one request against a budget whose stored arrival time is `tat` (nil: full budget).
    /// Arrival times are monotonic nanoseconds; `now.unix` only dates the reset.
    @inlinable
    public static func evaluate(tat: Int64?, now instant: RateInstant, limit: Int) -> Evaluation {
        let now = instant.monotonic
        let limit = max(1, limit)
        let interval = windowNanoseconds / Int64(limit)
        let capacity = interval * Int64(limit)
        let base = max(tat ?? now, now)
        let newTAT = base + interval
        if newTAT - now > capacity {
            let wait = newTAT - capacity - now
            let retry = Int(max(1, (wait + 999_999_999) / 1_000_000_000))
            return Evaluation(
                admitted: false, newTAT: base,
                decision: RateDecision(
                    admitted: false, limit: limit, remaining: 0,
                    resetUnixSeconds: ceilSeconds(instant.unixTime(ofMonotonic: base)), retryAfterSeconds: retry))
        }
        let remaining = Int((capacity - (newTAT - now)) / interval)
        return Evaluation(
            admitted: true, newTAT: newTAT,
            decision: RateDecision(
                admitted: true, limit: limit, remaining: remaining,
                resetUnixSeconds: ceilSeconds(instant.unixTime(ofMonotonic: newTAT)), retryAfterSeconds: 0))
    }

    @inlinable
    public static func ceilSeconds(_ nanoseconds: Int64) -> Int64 { (nanoseconds + 999_999_999) / 1_000_000_000 }
}

extension BudgetKey {
    /// The budget's name in shared storage.
    public var storageName: String {
        switch self {
        case .tenant(let id): "tenant:" + id
        case .key(let id): "key:" + id
        case .address(let address): "address:" + address
        case .signInAccount(let email): "sign-in-account:" + email
        case .signInAddress(let address): "sign-in-address:" + address
        case .revocations(let keyID): "revocations:" + keyID
        }
    }
}

/// In-memory rate limits: admits or refuses a request against one or more budgets at once.
///
/// Budgets are kept in monotonic time (``RateInstant/monotonic``): a wall clock stepped back would
/// otherwise refuse every caller until it caught up, and one stepped forward would refill every
/// budget at once.
///
/// Each budget keeps its arrival time and the limit it was charged under. When a limit
/// changes (a plan upgrade, a custom limit), the outstanding requests are carried over at the
/// new rate, so the change applies to the very next request in proportion.
public final class RateLimiter: Sendable {
    struct Budget {
        var tat: Int64
        var limit: Int
    }

    private struct State {
        var budgets: [BudgetKey: Budget] = [:]
        var sweepAt = 4096
    }

    private let state = Mutex(State())

    public init() {}

    /// Admits the request only if every budget has room; then charges all of them. A refusal charges none.
    ///
    /// The decision reported is the refusing budget's, or, when admitted, the one with the least room left.
    public func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)? = nil, now instant: RateInstant) -> RateDecision {
        let now = instant.monotonic
        return state.withLock { state in
            let one = GCRA.evaluate(
                tat: Self.arrival(state.budgets[first.0], limit: first.1, now: now), now: instant, limit: first.1)
            guard let second else {
                if one.admitted { Self.store(one.newTAT, limit: first.1, for: first.0, in: &state, now: now) }
                return one.decision
            }
            let two = GCRA.evaluate(
                tat: Self.arrival(state.budgets[second.0], limit: second.1, now: now), now: instant, limit: second.1)
            guard one.admitted, two.admitted else {
                if !one.admitted, !two.admitted {
                    return one.decision.retryAfterSeconds >= two.decision.retryAfterSeconds ? one.decision : two.decision
                }
                return one.admitted ? two.decision : one.decision
            }
            Self.store(one.newTAT, limit: first.1, for: first.0, in: &state, now: now)
            Self.store(two.newTAT, limit: second.1, for: second.0, in: &state, now: now)
            if one.decision.remaining != two.decision.remaining {
                return one.decision.remaining < two.decision.remaining ? one.decision : two.decision
            }
            return one.decision.limit <= two.decision.limit ? one.decision : two.decision
        }
    }

    /// What `admit` would answer for `budget` now, without charging it.
    public func peek(_ budget: BudgetKey, limit: Int, now instant: RateInstant) -> RateDecision {
        state.withLock {
            GCRA.evaluate(
                tat: Self.arrival($0.budgets[budget], limit: limit, now: instant.monotonic), now: instant, limit: limit
            ).decision
        }
    }

    /// How many budgets are held in memory.
    public var trackedBudgets: Int { state.withLock { $0.budgets.count } }

    /// The stored arrival time, rescaled if the budget was last charged under another limit.
    @inline(__always)
    static func arrival(_ budget: Budget?, limit: Int, now: Int64) -> Int64? {
        guard let budget else { return nil }
        guard budget.limit != limit, budget.tat > now else { return budget.tat }
        let outstanding = Double(budget.tat - now) * Double(max(1, budget.limit)) / Double(GCRA.windowNanoseconds)
        return now + Int64(outstanding * Double(GCRA.windowNanoseconds / Int64(max(1, limit))))
    }

    private static func store(_ tat: Int64, limit: Int, for key: BudgetKey, in state: inout State, now: Int64) {
        state.budgets[key] = Budget(tat: tat, limit: limit)
        if state.budgets.count >= state.sweepAt {
            // A budget whose arrival time has passed is the same as a full one: drop it.
            state.budgets = state.budgets.filter { $0.value.tat > now }
            state.sweepAt = max(4096, state.budgets.count * 2)
        }
    }
}
