import Foundation

/// What a shared counter is: a quota (requests used in a period, up to `limit`) or a credit
/// balance (remaining, set back to the refill's amount when a refill period begins).
public enum MeterKind: Sendable, Equatable {
    case quota(limit: Int)
    case credits(refill: CreditRefill?)
}

/// Units of a shared counter taken for one instance to spend from memory.
public struct MeterGrant: Sendable, Equatable {
    /// Units taken (0 when fewer than were needed were left: nothing is taken then).
    public var units: Int
    /// The period they belong to (a quota's period start; a balance's last refill, 0 without refill).
    public var periodStart: Int64
    /// Units the counter still had beyond this grant (for `X-Quota-Remaining` and `credits.remaining`).
    public var remainingBeyond: Int
    /// The setting of the counter the units were taken from (a top-up or a refill makes the next):
    /// they give back only to it.
    public var generation: Int64

    public init(units: Int, periodStart: Int64, remainingBeyond: Int, generation: Int64 = 0) {
        self.units = units
        self.periodStart = periodStart
        self.remainingBeyond = remainingBeyond
        self.generation = generation
    }
}

/// The store all instances share (PostgreSQL) as the authority over quota and credit counters: each
/// instance leases slices of a counter in one transaction and spends them in memory, so N instances
/// together never admit more than the counter holds.
public protocol MeterLeaseAuthority: Sendable {
    /// Takes `want` units of `meter` (fewer if fewer are left, but at least `need`, else none) in the
    /// period starting `periodStart` (for a balance with a refill: refilling it first if a refill
    /// period began since it was last set). A lease that moves the counter across a threshold writes
    /// its webhook event (``MeterThresholds``), made `at`, in the same transaction when `tenantID`
    /// subscribes to it.
    func leaseMeter(
        _ meter: Meter, tenantID: String, kind: MeterKind, periodStart: Int64, want: Int, need: Int, at now: Date
    ) async throws -> MeterGrant
    /// Gives back `units` not spent of a grant: a quota's of period `periodStart` (nothing if the
    /// period is over), a balance's of setting `generation` (nothing if it was set anew or refilled
    /// since: the units were the old balance's).
    func returnMeter(_ name: String, kind: MeterKind, periodStart: Int64, units: Int, generation: Int64) async throws
    /// Changes the refill of balance `meter` from `old` to `new`, keeping what it holds, in one
    /// transaction: a refill `old` had due is made first (as a lease would: the next setting), then
    /// the balance counts from `new`'s period containing `now` unless it already counts from a later
    /// one, so `new` refills first at its next boundary and never at once. Units leased before (and
    /// not refilled away) stay the balance's: they give back to it. The grant holds no units: its
    /// period, setting and what the balance has beyond every lease. Nil when no balance was written.
    func changeMeterRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?, at now: Date) async throws -> MeterGrant?
}
