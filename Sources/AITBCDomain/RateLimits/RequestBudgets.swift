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

    /// - Parameters:
    ///   - shared: the limiter all instances share (PostgreSQL), or nil: this instance's own decides.
    ///   - usage: where each request's outcome is counted, per key.
    public init(
        shared: (any SharedRateLimit)? = nil, usage: UsageRecorder, time: any TimeSource, local: RateLimiter = RateLimiter()
    ) {
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
    public func admit(_ principal: Principal, revocation: Bool = false, from address: String?) async throws -> Admission {
        let now = time.now()
        let instant = time.rateInstant(wall: now)
        var decision = try await decide(principal.budgets, now: instant)
        decision.decidedAtUnixSeconds = instant.unix / 1_000_000_000
        guard decision.admitted || (revocation && mayRevokeBeyondTheBudget(principal, now: instant)) else {
            usage.record(keyID: principal.key.id, outcome: .rateLimited, at: now, from: address)
            throw CoordinatorError.overBudget(decision)
        }
        return Admission(decision: decision, keyID: principal.key.id, at: now, address: address)
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
