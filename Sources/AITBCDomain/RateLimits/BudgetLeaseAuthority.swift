/// A shared limiter that can lease slices of its budgets to an instance (PostgreSQL), so that the
/// instance admits from memory and asks again only when a slice runs low (see ``BudgetLeases``).
///
/// A leased unit is charged to the budget like an admitted request; a unit given back is removed as
/// if it had never been charged. So the sum of what every instance admits stays within the budget.
public protocol BudgetLeaseAuthority: SharedRateLimit {
    /// Decides `request.requests` requests at once and charges the units they need beyond what the
    /// instance holds, all budgets or none for each request (the first k that fit are admitted);
    /// when all are admitted, it also charges up to each budget's `extra` units, as far as there is room.
    func lease(_ request: LeaseRequest) async throws -> LeaseGrant
    /// Gives unused units back, as if never charged; units whose place in the budget has already
    /// passed (it refilled meanwhile) are not given back, so a return never frees more than was held.
    func giveBack(_ units: [LeaseReturn]) async throws
}
