/// A ``BudgetLeaseAuthority``'s answer to a ``LeaseRequest``.
public struct LeaseGrant: Sendable, Equatable {
    /// What one budget was charged, and its state after the charge.
    public struct Budget: Sendable, Equatable {
        /// Units charged by this statement (for the admitted requests beyond what was held, and ahead).
        public var charged: Int
        /// Requests the budget still had room for after the charge.
        public var room: Int
        /// The budget's arrival time after the charge, in Unix nanoseconds.
        public var tatUnixNanoseconds: Int64
        /// The time one unit takes to refill.
        public var intervalNanoseconds: Int64

        public init(charged: Int, room: Int, tatUnixNanoseconds: Int64, intervalNanoseconds: Int64) {
            self.charged = charged
            self.room = room
            self.tatUnixNanoseconds = tatUnixNanoseconds
            self.intervalNanoseconds = intervalNanoseconds
        }
    }

    /// How many of the requests were admitted (the first ones).
    public var admitted: Int
    /// In the order of the request's budgets.
    public var budgets: [Budget]
    /// The refusal of the others, if any were refused.
    public var refusal: SharedAdmission?

    public init(admitted: Int, budgets: [Budget], refusal: SharedAdmission?) {
        self.admitted = admitted
        self.budgets = budgets
        self.refusal = refusal
    }
}
