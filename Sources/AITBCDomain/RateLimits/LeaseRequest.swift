/// What an instance asks a ``BudgetLeaseAuthority`` for in one statement: `requests` requests to be
/// decided now, each drawing one unit from every budget, and units to keep for the requests to come.
public struct LeaseRequest: Sendable, Equatable {
    /// One budget the requests draw on.
    public struct Budget: Sendable, Equatable {
        public var key: BudgetKey
        public var limit: Int
        /// Units the instance already holds for these requests (taken from its lease).
        public var have: Int
        /// Units to lease beyond what the requests need, if all of them are admitted.
        public var extra: Int

        public init(key: BudgetKey, limit: Int, have: Int, extra: Int) {
            self.key = key
            self.limit = max(1, limit)
            self.have = have
            self.extra = extra
        }
    }

    /// One or two budgets (a tenant's, and a key's own).
    public var budgets: [Budget]
    /// Requests to decide now; 0 to lease ahead only.
    public var requests: Int

    public init(budgets: [Budget], requests: Int) {
        self.budgets = budgets
        self.requests = requests
    }
}
