/// Slices of shared counters an instance holds (rate budgets, quota and credit counters) that a
/// change in the cluster may end: ``LeaseEndingBus`` ends them before the change is told or applied.
public protocol LeaseHolder: Sendable {
    /// Ends the slices `event` affects (their unused units go back, or are dropped where a change set
    /// the counter anew).
    func end(for event: ClusterEvent) async
}
