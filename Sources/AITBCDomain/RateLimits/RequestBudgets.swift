import Foundation

/// The request budgets of authenticated callers — each request is charged to its tenant's budget (the
/// plan's or a custom limit) and to its key's own lower limit, if it has one — and the usage counts
/// that follow from each decision. The twin of ``AttemptBudgets``, which counts guesses.
///
/// On a lone instance this instance's ``RateLimiter`` decides. When several instances share a
/// database, the shared limiter decides, so that N instances admit no more than one would; a refusal
/// it made is remembered until its `Retry-After` (``RateRefusals``), so a flood over its budget costs
/// no round trip. When the shared limiter cannot be asked, the request is refused with 503
/// `STORAGE_UNAVAILABLE`: admitting it without the shared count could exceed the budget. (Guesses
/// go the other way: ``AttemptBudgets`` falls back to the instance's own count.) When the shared
/// limiter leases slices of budgets (PostgreSQL), the instance admits from its ``BudgetLeases`` and
/// asks the shared limiter only to renew them; what it holds may be spent while the database is down.
///
/// Time here is a ``RateInstant``: budgets run on monotonic time, so setting the wall clock neither
/// refuses everyone nor grants a new burst.
public final class RequestBudgets: Sendable {
    /// Revocations per minute a key may make once its tenant's budget is spent.
    public static let revocationsBeyondTheBudget = 30

    private let local: RateLimiter
    private let shared: (any SharedRateLimit)?
    /// The slices of shared budgets this instance holds, when the shared limiter leases them.
    public let leases: BudgetLeases?
    private let refusals = RateRefusals()
    let usage: UsageRecorder
    let time: any TimeSource
    /// The quota and credit counters a request is charged to before its rate budgets, if any apply.
    public let meters: SpendingMeters?

    /// - Parameters:
    ///   - shared: the limiter all instances share (PostgreSQL), or nil: this instance's own decides.
    ///   - usage: where each request's outcome is counted, per key.
    public init(
        shared: (any SharedRateLimit)? = nil, usage: UsageRecorder, time: any TimeSource, local: RateLimiter = RateLimiter(),
        meters: SpendingMeters? = nil
    ) {
        self.meters = meters
        self.local = local
        self.shared = shared
        self.leases = (shared as? any BudgetLeaseAuthority).map { BudgetLeases(authority: $0, time: time) }
        self.usage = usage
        self.time = time
    }

    /// A request that was admitted: the budget's state to report, and what its outcome is counted against.
    public struct Admission: Sendable {
        /// The budget's state after this request (`X-RateLimit-*`).
        public let decision: RateDecision
        /// What the request was charged in quotas and credits, when any apply.
        public let charge: SpendingMeters.Charge?
        let keyID: String
        let at: Date
        let address: String?
    }

    /// Charges one request of `principal` from `address` to its budgets and returns the admission.
    ///
    /// A refusal is counted as rate limited and thrown: 429 `RATE_LIMIT_EXCEEDED` carrying the
    /// budget's state (``CoordinatorError/budget``). A `revocation` by a key that may write keys goes
    /// through anyway, up to ``revocationsBeyondTheBudget`` a minute (counted by this instance): a
    /// leaked key flooding the budget must not protect itself from being revoked. 503
    /// `STORAGE_UNAVAILABLE` when the shared limiter cannot be asked.
    ///
    /// Quotas and credits (``SpendingMeters``) are charged first, `cost` credits (a job submission
    /// costs more than one): a refusal there is 429 `QUOTA_EXCEEDED` or `CREDITS_EXHAUSTED` and
    /// touches no rate budget; a rate refusal after them gives their charge back. So a refused
    /// request spends nothing anywhere. A revocation by a key that may write keys spends no quota or credits.
    public func admit(
        _ principal: Principal, revocation: Bool = false, cost: Int = 1, from address: String?
    ) async throws -> Admission {
        let now = time.now()
        let instant = time.rateInstant(wall: now)
        var charge: SpendingMeters.Charge?
        // Without quotas or credits (the common case) nothing is called, locked or allocated here.
        if let meters, principal.quota != nil || principal.key.credits != nil,
            !(revocation && principal.permissions.contains(.keysWrite))
        {
            do {
                charge = try await meters.charge(principal, cost: cost, at: now)
            } catch var error as CoordinatorError where error.code == .quotaExceeded || error.code == .creditsExhausted {
                usage.record(keyID: principal.key.id, outcome: .rateLimited, at: now, from: address)
                if shared == nil {
                    error.budget = local.peek(principal.budgets.0.0, limit: principal.budgets.0.1, now: instant)
                    error.budget?.decidedAtUnixSeconds = instant.unix / 1_000_000_000
                }
                throw error
            }
        }
        var decision: RateDecision
        do {
            decision = try await decide(principal.budgets, now: instant)
            decision.decidedAtUnixSeconds = instant.unix / 1_000_000_000
        } catch {
            if let charge { meters?.refund(charge) }
            throw error
        }
        guard decision.admitted || (revocation && mayRevokeBeyondTheBudget(principal, now: instant)) else {
            if let charge { meters?.refund(charge) }
            usage.record(keyID: principal.key.id, outcome: .rateLimited, at: now, from: address)
            var error = CoordinatorError.overBudget(decision)
            error.quota = charge?.quota.map { Self.refunded($0) }
            throw error
        }
        return Admission(decision: decision, charge: charge, keyID: principal.key.id, at: now, address: address)
    }

    /// A quota's state with the request it counted given back.
    public static func refunded(_ state: QuotaState) -> QuotaState {
        var state = state
        state.remaining = min(state.limit, state.remaining + 1)
        return state
    }

    /// Gives back `credits` of what `admission` was charged (a job submission that created no job
    /// costs what any request costs).
    public func refundCredits(_ admission: Admission, _ credits: Int) {
        guard let charge = admission.charge, let meters else { return }
        meters.refund(credits: credits, of: charge)
    }

    /// Gives back everything `admission` was charged in quotas and credits: the request was refused
    /// before its route (an `X-Tenant-ID` it may not name), and a refusal spends none of them.
    public func refundCharge(_ admission: Admission) {
        guard let charge = admission.charge, let meters else { return }
        meters.refund(charge)
    }

    /// Counts how an admitted request ended.
    public func finish(_ admission: Admission, failed: Bool) {
        usage.record(keyID: admission.keyID, outcome: failed ? .error : .admitted, at: admission.at, from: admission.address)
    }

    /// Charges an action of `principal` made outside the API (a dashboard page) to the same budgets,
    /// counting no usage; a refusal is returned, not thrown, for the page to explain.
    public func charge(_ principal: Principal) async throws -> RateDecision {
        let instant = time.rateInstant()
        var decision = try await decide(principal.budgets, now: instant)
        decision.decidedAtUnixSeconds = instant.unix / 1_000_000_000
        return decision
    }

    /// The decision for one request charged to `budgets` at `now`.
    func decide(_ budgets: ((BudgetKey, Int), (BudgetKey, Int)?), now: RateInstant) async throws -> RateDecision {
        guard let shared else { return local.admit(budgets.0, budgets.1, now: now) }
        do {
            guard let leases else { return try await refusals.decide(budgets.0, budgets.1, by: shared, now: now) }
            if let refused = refusals.refusal(budgets.0, budgets.1, now: now) { return refused }
            let admission = try await leases.admit(budgets.0, budgets.1, now: now)
            if let refusedBy = admission.refusedBy {
                refusals.record(refusedBy, admission.decision, now: now, waitNanoseconds: admission.retryAfterNanoseconds)
            }
            return admission.decision
        } catch let error as CoordinatorError {
            throw error
        } catch {
            throw CoordinatorError.storageUnavailable
        }
    }

    private func mayRevokeBeyondTheBudget(_ principal: Principal, now: RateInstant) -> Bool {
        guard principal.permissions.contains(.keysWrite) else { return false }
        return local.admit((.revocations(principal.key.id), Self.revocationsBeyondTheBudget), now: now).admitted
    }
}
