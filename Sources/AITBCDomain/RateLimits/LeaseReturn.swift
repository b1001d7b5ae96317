/// Unused units of a lease going back to their budget (see ``BudgetLeaseAuthority/giveBack(_:)``).
public struct LeaseReturn: Sendable, Equatable {
    public var key: BudgetKey
    public var units: Int
    /// The budget's arrival time after the lease's last charge, in Unix nanoseconds: the unused units
    /// are the last ones charged, and those whose place has passed by now have refilled already.
    public var tatUnixNanoseconds: Int64

    public init(key: BudgetKey, units: Int, tatUnixNanoseconds: Int64) {
        self.key = key
        self.units = units
        self.tatUnixNanoseconds = tatUnixNanoseconds
    }
}
