import Synchronization

/// Slices (leases) of shared budgets held by this instance, so that it admits from memory instead
/// of asking PostgreSQL for every request.
///
/// A slice is charged to the shared budget when it is taken (one statement of the
/// ``BudgetLeaseAuthority``) and spent here request by request; what is left goes back when the lease
/// ends, as if it had never been charged. A request draws one unit from each of its budgets (the
/// tenant's, and its key's own) at once: when one of them has none here, one statement decides it
/// (with the others waiting for the same budgets) and tops up what is needed; a refusal takes nothing
/// from either budget. A slice is sized to the rate this instance spends the budget at over
/// ``Settings/horizonNanoseconds``, at most ``Settings/share``th of the limit — 1 for small
/// limits, which are then charged request by request exactly as without leases — and is renewed
/// ahead once half of it is spent, so a busy budget's requests do not wait for a round trip. A
/// slice not renewed within ``Settings/lifetimeNanoseconds`` ends.
///
/// Never over-admits: every request admitted here was charged to the shared budget. What the other
/// instances hold unspent is at most one slice each, for at most a lifetime: that is the worst
/// under-admission.
public final class BudgetLeases: Sendable {
    /// How slices are sized and how long they live.
    public struct Settings: Sendable {
        /// A slice not renewed for this long ends and its unused units go back.
        public var lifetimeNanoseconds: Int64
        /// A slice is what this instance spends of the budget in this long.
        public var horizonNanoseconds: Int64
        /// A slice is at most `limit / share` units (at least 1).
        public var share: Int

        public init(lifetimeNanoseconds: Int64 = 1_000_000_000, horizonNanoseconds: Int64 = 250_000_000, share: Int = 64) {
            self.lifetimeNanoseconds = lifetimeNanoseconds
            self.horizonNanoseconds = horizonNanoseconds
            self.share = share
        }
    }

    /// The budgets one request draws on.
    struct Line: Hashable {
        var first: BudgetKey
        var firstLimit: Int
        var second: BudgetKey?
        var secondLimit: Int?
    }

    enum Turn {
        case decided(SharedAdmission)
        case lead
    }

    struct State {
        var leases: [BudgetKey: BudgetLease] = [:]
        /// Requests waiting for a line's next statement; a line is present while one is under way.
        var lines: [Line: [CheckedContinuation<Turn, any Error>]] = [:]
        var statements = 0
        var aheadInFlight = 0
    }

    let authority: any BudgetLeaseAuthority
    let time: any TimeSource
    let settings: Settings
    let state = Mutex(State())

    public init(authority: any BudgetLeaseAuthority, time: any TimeSource, settings: Settings = Settings()) {
        self.authority = authority
        self.time = time
        self.settings = settings
    }

    /// Statements this instance has sent to the authority (leases, renewals and returns).
    public var statements: Int { state.withLock { $0.statements } }

    /// Units of `budget` this instance holds now (0 when it holds no lease).
    public func units(_ budget: BudgetKey) -> Int { state.withLock { $0.leases[budget]?.units ?? 0 } }

    /// Admits one request drawing on `first` and `second` from the leases, or with one statement
    /// when a lease lacks a unit; a refusal takes nothing from either budget.
    public func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?, now: RateInstant) async throws -> SharedAdmission {
        let budgets = [first] + (second.map { [$0] } ?? [])
        let served = state.withLock { state in fromLeases(budgets, now: now.monotonic, in: &state) }
        if case let (admission, ahead)? = served {
            if let ahead { leaseAhead(ahead) }
            return admission
        }
        let line = Line(first: first.0, firstLimit: first.1, second: second?.0, secondLimit: second?.1)
        return try await topUp(line, budgets, now: now)
    }

    /// Waits until the statements leasing ahead that are under way have settled.
    public func aheadSettled() async {
        while state.withLock({ $0.aheadInFlight > 0 }) { await Task.yield() }
    }

    /// One request served from the leases alone, with the budgets to lease ahead for, if every lease is valid and has a unit.
    private func fromLeases(
        _ budgets: [(BudgetKey, Int)], now: Int64, in state: inout State
    ) -> (SharedAdmission, LeaseRequest?)? {
        for (key, limit) in budgets {
            guard let lease = state.leases[key], lease.limit == max(1, limit), lease.expires > now, lease.units > 0 else {
                return nil
            }
        }
        var decisions: [RateDecision] = []
        var ahead: [LeaseRequest.Budget] = []
        for (key, limit) in budgets {
            guard var lease = state.leases[key] else { continue }
            lease.spend(1, now: now)
            decisions.append(Self.decision(lease, spentAfter: 0))
            let slice = lease.slice(horizon: settings.horizonNanoseconds, share: settings.share)
            if slice > 1, lease.units * 2 <= slice, !lease.prefetching, now >= lease.quietUntil {
                lease.prefetching = true
                ahead.append(LeaseRequest.Budget(key: key, limit: limit, have: 0, extra: slice - lease.units))
            }
            state.leases[key] = lease
        }
        let admission = SharedAdmission(decision: Self.tightest(decisions), refusedBy: nil, retryAfterNanoseconds: 0)
        return (admission, ahead.isEmpty ? nil : LeaseRequest(budgets: ahead, requests: 0))
    }

    /// The decision reported for a request admitted from `lease`, with `later` of its units spent by
    /// requests of the same statement decided after it.
    static func decision(_ lease: BudgetLease, spentAfter later: Int) -> RateDecision {
        let (remaining, reset) = lease.state(spentAfter: later)
        return RateDecision(
            admitted: true, limit: lease.limit, remaining: remaining, resetUnixSeconds: GCRA.ceilSeconds(reset),
            retryAfterSeconds: 0)
    }

    /// The decision of the budget with the least room (the lower limit on a tie), as ``RateLimiter`` reports.
    static func tightest(_ decisions: [RateDecision]) -> RateDecision {
        decisions.min { ($0.remaining, $0.limit) < ($1.remaining, $1.limit) } ?? decisions[0]
    }

    /// Leases ahead in the background; the units arrive before the lease runs out.
    private func leaseAhead(_ request: LeaseRequest) {
        state.withLock { $0.aheadInFlight += 1 }
        Task {
            await self.renew(request)
            self.state.withLock { $0.aheadInFlight -= 1 }
        }
    }
}
